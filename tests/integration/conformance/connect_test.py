#!/usr/bin/python3
"""Byte-level conformance: the CONNECT packet and the time before it (MQTT 3.1.1 and 5.0 §3.1,
§1.5, §2.1; hostile-inputs.md B1). Each test is named by the normative statement it checks;
statement numbers are MQTT 5.0's unless marked (3.1.1)."""

import struct
import time

import mqtt_wire as w
from conformance_common import MALFORMED, PROTOCOL_ERROR, ConformanceCase
from tollgate_fixture import main


def connect_v(version, client_id=b"c", flags=0x02, name=b"MQTT", level=None, props=b"", payload_extra=b""):
    """A CONNECT built field by field (client_id as raw bytes), for malformed variants."""
    level = version if level is None else level
    variable = struct.pack("!H", len(name)) + name + bytes([level, flags]) + b"\x00\x3c"
    if version == 5:
        variable += w.varint(len(props)) + props
    payload = struct.pack("!H", len(client_id)) + client_id + payload_extra
    return w.packet(0x10, variable + payload)


class FirstPacketTest(ConformanceCase):
    def broker_options(self):
        # A long connect timeout, so a close within 5 s shows the broker acted on the packet
        # type (B1.3: no allocation beyond the header) rather than on the timeout.
        return {"limits": {"connect_timeout": 60}}

    def check_first_packet_not_connect(self, version, data):
        """[MQTT-3.1.0-1]: the first packet from the client must be CONNECT; otherwise close."""
        raw = self.raw()
        raw.try_send(data)
        raw.expect_closed(timeout=5)

    def test_mqtt_3_1_0_1_publish_first_closes(self):
        self.check_first_packet_not_connect(4, w.publish("t", b"x"))

    def test_mqtt_3_1_0_1_puback_first_closes(self):
        self.check_first_packet_not_connect(4, b"\x40\x02\x00\x01")

    def test_mqtt_3_1_0_1_subscribe_first_closes(self):
        self.check_first_packet_not_connect(4, w.subscribe(1, [("t", 0)]))

    def test_mqtt_3_1_0_1_pingreq_first_closes(self):
        self.check_first_packet_not_connect(4, b"\xc0\x00")

    def test_mqtt_3_1_0_1_auth_first_closes(self):
        self.check_first_packet_not_connect(5, b"\xf0\x00")

    def test_mqtt_3_1_0_1_reserved_type_0_first_closes(self):
        self.check_first_packet_not_connect(4, b"\x00\x00")

    def test_mqtt_3_1_0_1_http_request_closes(self):
        self.check_first_packet_not_connect(4, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")

    def test_mqtt_3_1_0_1_non_connect_declaring_256_mb_closes_at_once(self):
        """B1.4: a non-CONNECT first packet declaring ~256 MB is refused from its header."""
        raw = self.raw()
        raw.send(b"\x30\xff\xff\xff\x7f" + b"\x00" * 1000)
        raw.expect_closed(timeout=5)


class SecondConnectTest(ConformanceCase):
    def test_mqtt_3_1_0_2_second_connect_v5_gets_disconnect_0x82(self):
        """[MQTT-3.1.0-2]: a second CONNECT is a Protocol Error: DISCONNECT 0x82 and close."""
        raw = self.connected(5)
        raw.send(w.connect("again", version=5))
        self.assert_disconnected(raw, 5, [PROTOCOL_ERROR])

    def test_mqtt_3_1_0_2_second_connect_v311_closes(self):
        """[MQTT-3.1.0-2] (3.1.1): a second CONNECT is a protocol violation: close."""
        raw = self.connected(4)
        raw.send(w.connect("again", version=4))
        self.assert_disconnected(raw, 4, [])


class ConnectFieldsTest(ConformanceCase):
    def test_mqtt_3_1_2_1_wrong_protocol_name_is_not_accepted(self):
        """[MQTT-3.1.2-1]: a wrong protocol name: the server may close or answer with an error; it
        must not accept the connection as MQTT."""
        raw = self.raw()
        raw.send(connect_v(4, name=b"MQTTT"))
        p = raw.read_packet()
        if p is not None:
            self.assertEqual(p.type, w.CONNACK)
            self.assertNotEqual(p.body[1], 0, "a CONNECT with protocol name MQTTT was accepted")
            raw.expect_closed()

    def test_mqtt_3_1_2_2_unsupported_level_v311_gets_connack_0x01(self):
        """[MQTT-3.1.2-2] (3.1.1): unsupported protocol level -> CONNACK 0x01 and close."""
        raw = self.raw()
        raw.send(connect_v(4, level=3))
        p = raw.expect(w.CONNACK)
        self.assertIn(p.body[1], (0x01, 0x84))
        raw.expect_closed()

    def test_mqtt_3_1_2_2_unsupported_level_6_gets_0x84(self):
        """[MQTT-3.1.2-2]: unsupported protocol version -> CONNACK 0x84 (Unsupported Protocol
        Version) and close."""
        raw = self.raw()
        raw.send(connect_v(5, level=6))
        p = raw.expect(w.CONNACK)
        self.assertIn(p.body[1], (0x84, 0x01))
        raw.expect_closed()

    def check_reserved_flag(self, version):
        """[MQTT-3.1.2-3]: the reserved CONNECT flag must be 0; otherwise Malformed Packet."""
        raw = self.raw()
        raw.send(connect_v(version, flags=0x03))
        self.assert_connect_refused(raw, version, [MALFORMED])

    def test_mqtt_3_1_2_3_reserved_flag_set_v311(self):
        self.check_reserved_flag(4)

    def test_mqtt_3_1_2_3_reserved_flag_set_v5(self):
        self.check_reserved_flag(5)

    def check_will_qos_without_will(self, version):
        """[MQTT-3.1.2-11]: Will Flag 0 requires Will QoS 0."""
        raw = self.raw()
        raw.send(connect_v(version, flags=0x02 | 0x08))
        self.assert_connect_refused(raw, version, [MALFORMED, PROTOCOL_ERROR])

    def test_mqtt_3_1_2_11_will_qos_without_will_flag_v311(self):
        self.check_will_qos_without_will(4)

    def test_mqtt_3_1_2_11_will_qos_without_will_flag_v5(self):
        self.check_will_qos_without_will(5)

    def check_will_qos_3(self, version):
        """[MQTT-3.1.2-12]: Will QoS 3 is a Malformed Packet."""
        raw = self.raw()
        will = w.utf8("w") + w.binary(b"x")
        if version == 5:
            will = b"\x00" + will
        raw.send(connect_v(version, flags=0x02 | 0x04 | 0x18, payload_extra=will))
        self.assert_connect_refused(raw, version, [MALFORMED])

    def test_mqtt_3_1_2_12_will_qos_3_v311(self):
        self.check_will_qos_3(4)

    def test_mqtt_3_1_2_12_will_qos_3_v5(self):
        self.check_will_qos_3(5)

    def check_will_retain_without_will(self, version):
        """[MQTT-3.1.2-13]: Will Flag 0 requires Will Retain 0."""
        raw = self.raw()
        raw.send(connect_v(version, flags=0x02 | 0x20))
        self.assert_connect_refused(raw, version, [MALFORMED, PROTOCOL_ERROR])

    def test_mqtt_3_1_2_13_will_retain_without_will_flag_v311(self):
        self.check_will_retain_without_will(4)

    def test_mqtt_3_1_2_13_will_retain_without_will_flag_v5(self):
        self.check_will_retain_without_will(5)

    def test_mqtt_3_1_2_22_password_without_username_v311(self):
        """[MQTT-3.1.2-22] (3.1.1): Password Flag 1 with User Name Flag 0 -> close."""
        raw = self.raw()
        raw.send(connect_v(4, flags=0x02 | 0x40, payload_extra=w.binary(b"secret")))
        self.assert_connect_refused(raw, 4, [], v3_code=None)

    def test_password_without_username_is_legal_in_v5(self):
        """MQTT 5 §3.1.2.9: a password without a user name is allowed."""
        raw = self.raw()
        raw.send(connect_v(5, flags=0x02 | 0x40, payload_extra=w.binary(b"secret")))
        p = raw.expect(w.CONNACK)
        self.assertEqual(p.body[1], 0)

    def test_mqtt_3_1_3_5_client_id_of_23_characters_is_accepted(self):
        """[MQTT-3.1.3-5]: client identifiers of 1 to 23 of [0-9a-zA-Z] must be accepted."""
        raw = self.raw()
        raw.connect("abcdefghijABCDEFGHIJ012", version=4)

    def check_client_id_too_long(self, version):
        """B1.17: a client identifier over max_client_id_length (256) -> v5 CONNACK 0x85 (Client
        Identifier not valid), 3.1.1 CONNACK 0x02 (identifier rejected), then the close."""
        raw = self.raw()
        raw.send(connect_v(version, client_id=b"x" * 300))
        self.assert_connect_refused(raw, version, [0x85], v3_code=0x02)

    def test_client_id_over_the_maximum_v311(self):
        self.check_client_id_too_long(4)

    def test_client_id_over_the_maximum_v5(self):
        self.check_client_id_too_long(5)

    def check_client_id_65535(self, version):
        """B1.17: a 65,535-byte client identifier also exceeds the 64 KiB pre-CONNECT packet limit:
        v5 CONNACK 0x85 or 0x95 (Packet too large), 3.1.1 CONNACK 0x02 or the close."""
        raw = self.raw()
        raw.send(connect_v(version, client_id=b"x" * 65535))
        p = raw.read_packet()
        if version == 5:
            self.assertIsNotNone(p, "closed without CONNACK (MQTT 5 wants the reason code)")
            self.assertEqual(p.type, w.CONNACK, repr(p))
            self.assertIn(p.body[1], (0x85, 0x95))
        elif p is not None:
            self.assertEqual((p.type, p.body[1]), (w.CONNACK, 0x02), repr(p))
        raw.expect_closed()

    def test_client_id_of_65535_bytes_v311(self):
        self.check_client_id_65535(4)

    def test_client_id_of_65535_bytes_v5(self):
        self.check_client_id_65535(5)


class Utf8Test(ConformanceCase):
    def check_bad_utf8_client_id(self, version, data):
        raw = self.raw()
        raw.send(connect_v(version, client_id=data))
        self.assert_connect_refused(raw, version, [MALFORMED, 0x85])

    def test_mqtt_1_5_4_1_surrogate_in_client_id_v311(self):
        """[MQTT-1.5.4-1]: UTF-8 of a surrogate (ED A0 80) is ill-formed -> close."""
        self.check_bad_utf8_client_id(4, b"a\xed\xa0\x80")

    def test_mqtt_1_5_4_1_surrogate_in_client_id_v5(self):
        self.check_bad_utf8_client_id(5, b"a\xed\xa0\x80")

    def test_mqtt_1_5_4_1_overlong_encoding_in_client_id_v5(self):
        """[MQTT-1.5.4-1]: overlong C0 80 is ill-formed."""
        self.check_bad_utf8_client_id(5, b"a\xc0\x80")

    def test_mqtt_1_5_4_2_null_character_in_client_id_v311(self):
        """[MQTT-1.5.4-2]: U+0000 must not appear in a UTF-8 string."""
        self.check_bad_utf8_client_id(4, b"a\x00b")

    def test_mqtt_1_5_4_2_null_character_in_client_id_v5(self):
        self.check_bad_utf8_client_id(5, b"a\x00b")


class WillFieldsTest(ConformanceCase):
    def check_will_flag_without_will_topic(self, version):
        """B1.12: Will Flag 1 but the payload ends after the client id -> Malformed."""
        raw = self.raw()
        raw.send(connect_v(version, flags=0x02 | 0x04))
        self.assert_connect_refused(raw, version, [MALFORMED])

    def test_will_flag_without_will_topic_v311(self):
        self.check_will_flag_without_will_topic(4)

    def test_will_flag_without_will_topic_v5(self):
        self.check_will_flag_without_will_topic(5)

    def test_will_properties_with_a_truncated_user_property_v5(self):
        """B1.21 (CVE-2023-3592): a will property list with a key and no value -> CONNACK 0x81."""
        raw = self.raw()
        will = w.varint(4) + b"\x26\x00\x01k" + w.utf8("w/t") + w.binary(b"x")
        raw.send(connect_v(5, flags=0x02 | 0x04, payload_extra=will))
        self.assert_connect_refused(raw, 5, [MALFORMED])


class ConnectPropertiesTest(ConformanceCase):
    def check_props(self, props, codes):
        raw = self.raw()
        raw.send(connect_v(5, props=props))
        self.assert_connect_refused(raw, 5, codes)

    def test_mqtt_2_2_2_2_duplicate_session_expiry_is_a_protocol_error(self):
        """[MQTT-2.2.2-2] / §3.1.2.11.2: Session Expiry Interval twice -> CONNACK 0x82."""
        self.check_props(w.prop_u32(0x11, 10) + w.prop_u32(0x11, 20), [PROTOCOL_ERROR])

    def test_receive_maximum_zero_is_a_protocol_error(self):
        """§3.1.2.11.3: Receive Maximum 0 is a Protocol Error -> CONNACK 0x82."""
        self.check_props(w.prop_u16(0x21, 0), [PROTOCOL_ERROR])

    def test_maximum_packet_size_zero_is_a_protocol_error(self):
        """§3.1.2.11.4: Maximum Packet Size 0 is a Protocol Error -> CONNACK 0x82."""
        self.check_props(w.prop_u32(0x27, 0), [PROTOCOL_ERROR])

    def test_property_not_allowed_in_connect(self):
        """§2.2.2.2: a property not defined for CONNECT (Topic Alias 0x23) -> malformed/protocol error."""
        self.check_props(w.prop_u16(0x23, 1), [MALFORMED, PROTOCOL_ERROR])

    def test_unknown_property_identifier_is_malformed(self):
        """§2.2.2.2: an unknown property identifier -> CONNACK 0x81."""
        self.check_props(b"\x04\x00\x00\x00\x01", [MALFORMED])

    def test_thousands_of_user_properties_are_refused(self):
        """B1.20 (CVE-2021-41039): 5,000 user properties (~35 KB) in CONNECT, over the limit of
        32 -> CONNACK 0x95 (Packet too large) or 0x81, and no quadratic work."""
        self.check_props(b"".join(b"\x26" + w.utf8("k") + w.utf8("v") for _ in range(5000)), [0x95, MALFORMED])

    def test_truncated_property_value_is_malformed(self):
        """A property whose value runs past the property length -> CONNACK 0x81."""
        raw = self.raw()
        raw.send(connect_v(5, props=b"\x11\x00\x00"))  # Session Expiry needs 4 bytes, 2 given
        self.assert_connect_refused(raw, 5, [MALFORMED])


class FramingTest(ConformanceCase):
    def broker_options(self):
        return {"limits": {"connect_timeout": 2}}

    def test_five_byte_remaining_length_is_malformed(self):
        """[MQTT-1.5.5-1]/§2.1.4: the Remaining Length has at most 4 bytes (B1.6)."""
        raw = self.raw()
        raw.try_send(b"\x10\xff\xff\xff\xff\x7f" + b"\x00" * 16)
        p = raw.read_packet()
        if p is not None:
            self.assertEqual((p.type, p.body[1]), (w.CONNACK, MALFORMED), repr(p))
            raw.expect_closed()

    def test_connect_with_fields_past_the_remaining_length(self):
        """B1.14: flags announce user name and password but the packet ends after the header."""
        raw = self.raw()
        raw.send(b"\x10\x0a\x00\x04MQTT\x04\xc2\x00\x3c")
        raw.expect_closed()

    def test_silent_connection_is_closed_by_the_connect_timeout(self):
        """B1.1: a TCP connection that sends nothing is closed after connect_timeout (2 s here)."""
        raw = self.raw()
        started = time.monotonic()
        raw.expect_closed(timeout=10)
        self.assertGreaterEqual(time.monotonic() - started, 1.5)

    def test_slowloris_connect_is_closed_at_the_deadline(self):
        """B1.2: one byte of CONNECT every 0.4 s; the 2 s deadline covers the whole CONNECT, not
        each read."""
        raw = self.raw()
        data = w.connect("slow", version=4)
        started = time.monotonic()
        for i in range(len(data) - 1):
            if not raw.try_send(data[i:i + 1]):
                break
            try:
                p = raw.read_packet(timeout=0.4)  # the pacing doubles as the wait for the close
            except TimeoutError:
                continue
            self.assertIsNone(p, "a packet arrived for an incomplete CONNECT: %r" % p)
            break
        else:
            raw.expect_closed(timeout=5)
        self.assertLess(time.monotonic() - started, 6, "the trickle kept the connection open")

    def test_declared_256_mb_connect_costs_no_memory(self):
        """B1.4/B1.5: 14 connections each declare a 268,435,455-byte CONNECT and then send
        nothing more. Each is refused (v5 CONNACK 0x95 allowed) or closed by the connect timeout,
        and the broker's RSS grows by less than 20 MB (nothing is allocated for the declared size)."""
        baseline = self.broker.rss_kib()
        conns = []
        for _ in range(14):
            raw = self.raw()
            raw.send(b"\x10\xff\xff\xff\x7f" + b"\x00\x04MQTT\x05\x02\x00\x3c\x00\x00\x01c")
            conns.append(raw)
        peak = self.broker.rss_kib()
        for raw in conns:
            p = raw.read_packet(timeout=10)
            if p is not None:
                self.assertEqual((p.type, p.body[1]), (w.CONNACK, 0x95), repr(p))
                raw.expect_closed()
        after = self.broker.rss_kib()
        grown = max(peak, after) - baseline
        self.assertLess(grown, 20 * 1024, "RSS grew by %d KiB" % grown)

    def test_broker_still_accepts_clients_after_hostile_connections(self):
        bad = [self.raw() for _ in range(5)]
        for b in bad:
            b.try_send(b"\x10\xff\xff\xff\x7f")
        good = self.raw()
        good.connect("legit", version=5)
        self.assert_still_works(good)


if __name__ == "__main__":
    main()
