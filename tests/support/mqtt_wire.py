"""Byte-level MQTT for conformance tests: build exact packets, read exact packets.

Written from the OASIS MQTT 3.1.1 and 5.0 specifications, independently of tollgate's codec, so
that a test checks the broker against the text and not against itself.
"""

import select
import socket
import struct
import time

TIMEOUT = 10.0

# Packet types (fixed header, high nibble).
CONNECT, CONNACK, PUBLISH, PUBACK, PUBREC, PUBREL, PUBCOMP = 1, 2, 3, 4, 5, 6, 7
SUBSCRIBE, SUBACK, UNSUBSCRIBE, UNSUBACK, PINGREQ, PINGRESP, DISCONNECT, AUTH = 8, 9, 10, 11, 12, 13, 14, 15

NAMES = {1: "CONNECT", 2: "CONNACK", 3: "PUBLISH", 4: "PUBACK", 5: "PUBREC", 6: "PUBREL", 7: "PUBCOMP",
         8: "SUBSCRIBE", 9: "SUBACK", 10: "UNSUBSCRIBE", 11: "UNSUBACK", 12: "PINGREQ", 13: "PINGRESP",
         14: "DISCONNECT", 15: "AUTH"}

# MQTT 5 property identifiers used here.
PROP_PAYLOAD_FORMAT = 0x01
PROP_MESSAGE_EXPIRY = 0x02
PROP_RESPONSE_TOPIC = 0x08
PROP_SUBSCRIPTION_ID = 0x0B
PROP_SESSION_EXPIRY = 0x11
PROP_RECEIVE_MAXIMUM = 0x21
PROP_TOPIC_ALIAS_MAXIMUM = 0x22
PROP_TOPIC_ALIAS = 0x23
PROP_MAXIMUM_PACKET_SIZE = 0x27
PROP_USER_PROPERTY = 0x26


def varint(n):
    out = bytearray()
    while True:
        b = n % 128
        n //= 128
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def utf8(text):
    data = text.encode() if isinstance(text, str) else bytes(text)
    return struct.pack("!H", len(data)) + data


def binary(data):
    return struct.pack("!H", len(data)) + bytes(data)


def packet(first_byte, body):
    return bytes([first_byte]) + varint(len(body)) + body


def properties(*items):
    """items: raw property bytes (id + value) already encoded; returns length-prefixed block."""
    data = b"".join(items)
    return varint(len(data)) + data


def prop_u16(pid, value):
    return bytes([pid]) + struct.pack("!H", value)


def prop_u32(pid, value):
    return bytes([pid]) + struct.pack("!I", value)


def prop_byte(pid, value):
    return bytes([pid, value])


def prop_str(pid, text):
    return bytes([pid]) + utf8(text)


def connect(client_id="conf", version=4, clean=True, keepalive=60, props=b"", flags_extra=0, will=None,
            username=None, password=None):
    """A CONNECT. version 4 = 3.1.1, 5 = 5.0. will = (topic, payload, qos, retain[, will props])."""
    flags = 0x02 if clean else 0
    payload = utf8(client_id)
    if will is not None:
        topic, message, qos, retain = will[:4]
        flags |= 0x04 | (qos << 3) | (0x20 if retain else 0)
        if version == 5:
            payload += properties(will[4] if len(will) > 4 else b"")
        payload += utf8(topic) + binary(message)
    if username is not None:
        flags |= 0x80
        payload += utf8(username)
    if password is not None:
        flags |= 0x40
        payload += binary(password)
    flags |= flags_extra
    variable = utf8("MQTT") + bytes([version, flags]) + struct.pack("!H", keepalive)
    if version == 5:
        variable += properties(props)
    return packet(0x10, variable + payload)


def publish(topic, payload=b"", qos=0, packet_id=None, retain=False, dup=False, version=4, props=b""):
    first = 0x30 | (qos << 1) | (0x01 if retain else 0) | (0x08 if dup else 0)
    body = utf8(topic)
    if qos > 0:
        body += struct.pack("!H", packet_id if packet_id is not None else 1)
    if version == 5:
        body += properties(props)
    return packet(first, body + payload)


def subscribe(packet_id, filters, version=4, props=b""):
    """filters: list of (filter, options byte)."""
    body = struct.pack("!H", packet_id)
    if version == 5:
        body += properties(props)
    for f, options in filters:
        body += utf8(f) + bytes([options])
    return packet(0x82, body)


def disconnect(version=4, reason=None):
    if version == 5 and reason is not None:
        return packet(0xE0, bytes([reason]))
    return b"\xe0\x00"


class Packet:
    def __init__(self, first_byte, body):
        self.first_byte = first_byte
        self.type = first_byte >> 4
        self.flags = first_byte & 0x0F
        self.body = body

    @property
    def name(self):
        return NAMES.get(self.type, "reserved(%d)" % self.type)

    def __repr__(self):
        return "<%s flags=%x body=%s>" % (self.name, self.flags, self.body[:40].hex())


def read_varint(data, offset):
    """(value, next offset) of a variable byte integer in data."""
    value, mult = 0, 1
    for i in range(4):
        b = data[offset + i]
        value += (b & 0x7F) * mult
        if not b & 0x80:
            return value, offset + i + 1
        mult *= 128
    raise ValueError("malformed variable byte integer")


def parse_properties(data, offset):
    """{id: [values]} and the offset after the property block."""
    length, offset = read_varint(data, offset)
    end = offset + length
    out = {}
    while offset < end:
        pid, offset = read_varint(data, offset)
        if pid in (0x01, 0x17, 0x19, 0x24, 0x25, 0x28, 0x29, 0x2A):
            value, offset = data[offset], offset + 1
        elif pid in (0x13, 0x21, 0x22, 0x23):
            value, offset = struct.unpack_from("!H", data, offset)[0], offset + 2
        elif pid in (0x02, 0x11, 0x18, 0x27):
            value, offset = struct.unpack_from("!I", data, offset)[0], offset + 4
        elif pid == 0x0B:
            value, offset = read_varint(data, offset)
        elif pid == 0x26:
            klen = struct.unpack_from("!H", data, offset)[0]
            key = data[offset + 2: offset + 2 + klen].decode()
            offset += 2 + klen
            vlen = struct.unpack_from("!H", data, offset)[0]
            value = (key, data[offset + 2: offset + 2 + vlen].decode())
            offset += 2 + vlen
        else:  # strings and binary data: 2-byte length prefix
            n = struct.unpack_from("!H", data, offset)[0]
            value, offset = bytes(data[offset + 2: offset + 2 + n]), offset + 2 + n
        out.setdefault(pid, []).append(value)
    return out, end


class RawClient:
    """A TCP socket speaking exact bytes."""

    def __init__(self, port, host="127.0.0.1"):
        self.sock = socket.create_connection((host, port), timeout=TIMEOUT)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buffer = b""

    def send(self, data):
        self.sock.sendall(data)

    def try_send(self, data):
        """Sends, tolerating a connection the broker already closed. True if all was sent."""
        try:
            self.sock.sendall(data)
            return True
        except (BrokenPipeError, ConnectionResetError):
            return False

    def _fill(self, deadline):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError()
        ready, _, _ = select.select([self.sock], [], [], remaining)
        if not ready:
            raise TimeoutError()
        try:
            chunk = self.sock.recv(65536)
        except (ConnectionResetError, BrokenPipeError):
            chunk = b""
        if not chunk:
            raise EOFError()
        self.buffer += chunk

    def read_packet(self, timeout=TIMEOUT):
        """The next packet; None if the broker closed the connection; raises TimeoutError."""
        deadline = time.monotonic() + timeout
        try:
            while True:
                if len(self.buffer) >= 2:
                    try:
                        length, offset = read_varint(self.buffer, 1)
                    except IndexError:
                        length = None
                    if length is not None and len(self.buffer) >= offset + length:
                        p = Packet(self.buffer[0], self.buffer[offset: offset + length])
                        self.buffer = self.buffer[offset + length:]
                        return p
                self._fill(deadline)
        except EOFError:
            return None

    def expect(self, ptype, timeout=TIMEOUT):
        p = self.read_packet(timeout)
        if p is None:
            raise AssertionError("connection closed while waiting for %s" % NAMES[ptype])
        if p.type != ptype:
            raise AssertionError("expected %s, got %r" % (NAMES[ptype], p))
        return p

    def expect_closed(self, timeout=TIMEOUT):
        """Asserts the broker closes the connection, with no further packet, within timeout."""
        try:
            p = self.read_packet(timeout)
        except TimeoutError:
            raise AssertionError("connection still open after %.1f s" % timeout) from None
        if p is not None:
            raise AssertionError("expected the connection to close, got %r" % p)

    def expect_closed_maybe_disconnect(self, reasons, timeout=TIMEOUT):
        """The close, optionally preceded by one DISCONNECT whose reason is in `reasons` (for the
        cases where the spec lets a v5 server send DISCONNECT first). Returns that reason or None."""
        try:
            p = self.read_packet(timeout)
        except TimeoutError:
            raise AssertionError("connection still open after %.1f s" % timeout) from None
        if p is None:
            return None
        if p.type != DISCONNECT or (p.body[0] if p.body else 0) not in reasons:
            raise AssertionError("expected the close or DISCONNECT %s, got %r" % ([hex(r) for r in reasons], p))
        self.expect_closed(timeout)
        return p.body[0] if p.body else 0

    def expect_disconnect_or_close(self, version, reason, timeout=TIMEOUT):
        """v5: DISCONNECT with `reason` and then the close; v3.1.1: the close without a packet."""
        if version == 5:
            p = self.expect(DISCONNECT, timeout)
            got = p.body[0] if p.body else 0
            if got != reason:
                raise AssertionError("DISCONNECT reason 0x%02x, expected 0x%02x" % (got, reason))
        self.expect_closed(timeout)

    def connect(self, client_id="conf", version=4, **kw):
        """CONNECT and wait for a successful CONNACK; returns the CONNACK packet."""
        self.send(connect(client_id, version=version, **kw))
        p = self.expect(CONNACK)
        code = p.body[1]
        if code != 0:
            raise AssertionError("CONNACK refused with 0x%02x" % code)
        return p

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def parse_publish(p, version):
    """(topic, packet id or None, properties dict, payload) of a PUBLISH packet."""
    qos = (p.flags >> 1) & 0x03
    n = struct.unpack_from("!H", p.body, 0)[0]
    topic = p.body[2:2 + n].decode()
    offset = 2 + n
    packet_id = None
    if qos > 0:
        packet_id = struct.unpack_from("!H", p.body, offset)[0]
        offset += 2
    props = {}
    if version == 5:
        props, offset = parse_properties(p.body, offset)
    return topic, packet_id, props, bytes(p.body[offset:])


def puback(packet_id, ptype=PUBACK):
    first = {PUBACK: 0x40, PUBREC: 0x50, PUBREL: 0x62, PUBCOMP: 0x70}[ptype]
    return bytes([first, 2]) + struct.pack("!H", packet_id)


def connack_reason(p):
    return p.body[1]
