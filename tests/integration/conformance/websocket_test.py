#!/usr/bin/python3
"""Byte-level conformance of MQTT over WebSocket (MQTT 5.0 §6, RFC 6455; hostile-inputs.md
B1.26): a minimal WebSocket client written here from RFC 6455 sends exact frames."""

import base64
import hashlib
import os
import socket
import struct

import mqtt_wire as w
from conformance_common import ConformanceCase
from tollgate_fixture import main, ws_listener

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class RawWebSocket:
    def __init__(self, port, path="/mqtt", protocols="mqtt"):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        key = base64.b64encode(os.urandom(16))
        request = (b"GET " + path.encode() + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                   b"Connection: Upgrade\r\nSec-WebSocket-Key: " + key + b"\r\nSec-WebSocket-Version: 13\r\n")
        if protocols:
            request += b"Sec-WebSocket-Protocol: " + protocols.encode() + b"\r\n"
        self.sock.sendall(request + b"\r\n")
        response = b""
        while b"\r\n\r\n" not in response:
            chunk = self.sock.recv(4096)
            if not chunk:
                break
            response += chunk
        head, _, self.buffer = response.partition(b"\r\n\r\n")
        lines = head.decode(errors="replace").split("\r\n")
        self.status = int(lines[0].split()[1]) if lines and len(lines[0].split()) > 1 else 0
        self.headers = {}
        for line in lines[1:]:
            k, _, v = line.partition(":")
            self.headers[k.strip().lower()] = v.strip()
        self.expected_accept = base64.b64encode(hashlib.sha1(key + GUID).digest()).decode()

    def send_frame(self, payload, opcode=0x2, fin=True):
        """A masked client frame (RFC 6455 §5.2, clients must mask)."""
        mask = os.urandom(4)
        header = bytes([(0x80 if fin else 0) | opcode])
        n = len(payload)
        if n < 126:
            header += bytes([0x80 | n])
        elif n < 65536:
            header += bytes([0x80 | 126]) + struct.pack("!H", n)
        else:
            header += bytes([0x80 | 127]) + struct.pack("!Q", n)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(header + mask + masked)

    def _recv_exact(self, n):
        while len(self.buffer) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError()
            self.buffer += chunk
        out, self.buffer = self.buffer[:n], self.buffer[n:]
        return out

    def read_frame(self):
        """(opcode, payload) of the next server frame, or None when the connection closed."""
        try:
            b0, b1 = self._recv_exact(2)
            n = b1 & 0x7F
            if n == 126:
                n = struct.unpack("!H", self._recv_exact(2))[0]
            elif n == 127:
                n = struct.unpack("!Q", self._recv_exact(8))[0]
            return b0 & 0x0F, self._recv_exact(n)
        except (EOFError, ConnectionResetError):
            return None

    def read_mqtt(self):
        """The MQTT bytes of the next binary frame(s) forming one packet (enough for our replies)."""
        frame = self.read_frame()
        if frame is None:
            return None
        opcode, payload = frame
        if opcode != 0x2:
            raise AssertionError("expected a binary frame, got opcode %d" % opcode)
        return payload

    def expect_closed(self):
        """Reads until the server closes (a Close frame and/or the TCP close)."""
        try:
            while True:
                frame = self.read_frame()
                if frame is None:
                    return
                if frame[0] == 0x8:  # Close frame: the TCP close follows
                    continue
                if frame[0] == 0x2:
                    raise AssertionError("binary data after a protocol violation: %r" % frame[1][:20])
        except socket.timeout:
            raise AssertionError("the WebSocket connection is still open") from None

    def close(self):
        self.sock.close()


class WebSocketConformanceTest(ConformanceCase):
    def broker_options(self):
        return {"listeners": [ws_listener("ws", "/mqtt")]}

    def ws(self, **kw):
        c = RawWebSocket(self.broker.port("ws"), **kw)
        self.on_teardown(c.close)
        return c

    def test_mqtt_6_0_0_4_server_selects_the_mqtt_subprotocol(self):
        """[MQTT-6.0.0-4]: the subprotocol selected and returned by the server is "mqtt"."""
        c = self.ws(protocols="mqttv3.1, mqtt")
        self.assertEqual(c.status, 101)
        self.assertEqual(c.headers.get("sec-websocket-protocol"), "mqtt")
        self.assertEqual(c.headers.get("sec-websocket-accept"), c.expected_accept)

    def test_mqtt_6_0_0_3_client_without_the_mqtt_subprotocol_is_refused(self):
        """[MQTT-6.0.0-3]: the client must offer "mqtt"; the server refuses an upgrade without it."""
        c = self.ws(protocols=None)
        self.assertNotEqual(c.status, 101)

    def test_wrong_path_is_refused(self):
        c = self.ws(path="/elsewhere")
        self.assertEqual(c.status, 404)

    def test_mqtt_6_0_0_2_packets_split_across_and_joined_in_frames(self):
        """[MQTT-6.0.0-2]: the server must not assume packets are aligned on frame boundaries."""
        c = self.ws()
        connect = w.connect("ws-split", version=5)
        c.send_frame(connect[:3])
        c.send_frame(connect[3:])
        self.assertEqual(c.read_mqtt()[0] >> 4, w.CONNACK)
        # Two packets in one frame: SUBSCRIBE + PINGREQ. The replies may come in any framing.
        c.send_frame(w.subscribe(1, [("ws/t", 0)], version=5) + b"\xc0\x00")
        data, types = b"", []
        while len(types) < 2:
            chunk = c.read_mqtt()
            self.assertIsNotNone(chunk, "closed before SUBACK and PINGRESP")
            data += chunk
            while len(data) >= 2:
                length, offset = w.read_varint(data, 1)
                if len(data) < offset + length:
                    break
                types.append(data[0] >> 4)
                data = data[offset + length:]
        self.assertEqual(types, [w.SUBACK, w.PINGRESP])

    def test_mqtt_6_0_0_1_text_frame_closes_the_connection(self):
        """[MQTT-6.0.0-1]: a data frame other than binary -> the connection is closed."""
        c = self.ws()
        c.send_frame(w.connect("ws-text", version=5))
        self.assertEqual(c.read_mqtt()[0] >> 4, w.CONNACK)
        c.send_frame(b"\xc0\x00", opcode=0x1)
        c.expect_closed()

    def test_frame_declaring_2_to_the_63_bytes_closes(self):
        """B1.26: a frame declaring an absurd length is refused, with no allocation for it."""
        c = self.ws()
        baseline = self.broker.rss_kib()
        mask = os.urandom(4)
        c.sock.sendall(bytes([0x82, 0x80 | 127]) + struct.pack("!Q", (1 << 63) - 1) + mask + b"\x00" * 64)
        c.expect_closed()
        self.assertLess(self.broker.rss_kib() - baseline, 20 * 1024)


if __name__ == "__main__":
    main()
