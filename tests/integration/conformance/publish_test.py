#!/usr/bin/python3
"""Byte-level conformance: PUBLISH and its acknowledgements, fixed-header flags, topic names and
aliases, packet size (MQTT 5.0 §2.1, §3.3..3.7, §4.7; hostile-inputs.md B2). Statement numbers
are MQTT 5.0's unless marked (3.1.1)."""

import socket
import struct

import mqtt_wire as w
from conformance_common import MALFORMED, PROTOCOL_ERROR, ConformanceCase
from tollgate_fixture import main

TOPIC_NAME_INVALID = 0x90
TOPIC_ALIAS_INVALID = 0x94
PACKET_TOO_LARGE = 0x95


def raw_publish(first_byte, topic_bytes, rest=b""):
    return w.packet(first_byte, struct.pack("!H", len(topic_bytes)) + topic_bytes + rest)


class PublishTest(ConformanceCase):
    def check(self, version, data, v5_codes):
        raw = self.connected(version)
        raw.try_send(data)
        self.assert_disconnected(raw, version, v5_codes)

    # [MQTT-3.3.1-4]: QoS 3 (both QoS bits set) is a Malformed Packet.
    def test_mqtt_3_3_1_4_qos_3_v311(self):
        self.check(4, raw_publish(0x36, b"t", b"\x00\x01x"), [])

    def test_mqtt_3_3_1_4_qos_3_v5(self):
        self.check(5, raw_publish(0x36, b"t", b"\x00\x01\x00x"), [MALFORMED])

    # [MQTT-2.2.1-3]: QoS 1/2 PUBLISH needs a non-zero Packet Identifier.
    def test_mqtt_2_2_1_3_packet_id_0_v311(self):
        self.check(4, w.publish("t", b"x", qos=1, packet_id=0), [])

    def test_mqtt_2_2_1_3_packet_id_0_v5(self):
        self.check(5, w.publish("t", b"x", qos=1, packet_id=0, version=5), [MALFORMED, PROTOCOL_ERROR])

    # [MQTT-3.3.2-2]: the Topic Name must not contain wildcards.
    def test_mqtt_3_3_2_2_wildcard_in_topic_name_v311(self):
        self.check(4, w.publish("a/+/b", b"x"), [])

    def test_mqtt_3_3_2_2_wildcard_in_topic_name_v5(self):
        self.check(5, w.publish("a/#", b"x", version=5), [MALFORMED, PROTOCOL_ERROR, TOPIC_NAME_INVALID])

    # [MQTT-1.5.4-1]: ill-formed UTF-8 in the topic; [MQTT-1.5.4-2]: U+0000 in the topic.
    def test_mqtt_1_5_4_1_bad_utf8_topic_v311(self):
        self.check(4, raw_publish(0x30, b"a\xff"), [])

    def test_mqtt_1_5_4_1_bad_utf8_topic_v5(self):
        self.check(5, raw_publish(0x30, b"a\xed\xa0\x80", b"\x00"), [MALFORMED, TOPIC_NAME_INVALID])

    def test_mqtt_1_5_4_2_null_in_topic_v311(self):
        self.check(4, raw_publish(0x30, b"a\x00b"), [])

    def test_mqtt_1_5_4_2_null_in_topic_v5(self):
        self.check(5, raw_publish(0x30, b"a\x00b", b"\x00"), [MALFORMED, TOPIC_NAME_INVALID])

    # [MQTT-4.7.3-1]: topic names are at least one character (3.1.1 has no aliases).
    def test_mqtt_4_7_3_1_empty_topic_v311(self):
        self.check(4, raw_publish(0x30, b""), [])

    def test_mqtt_3_3_2_1_empty_topic_without_alias_v5(self):
        """[MQTT-3.3.2-1]-family: zero-length topic and no Topic Alias -> Protocol Error 0x82."""
        self.check(5, raw_publish(0x30, b"", b"\x00"), [PROTOCOL_ERROR, TOPIC_NAME_INVALID])

    def test_mqtt_3_3_2_8_topic_alias_0_v5(self):
        """[MQTT-3.3.2-8]: Topic Alias 0 is not allowed -> DISCONNECT 0x94."""
        self.check(5, w.publish("t", b"x", version=5, props=w.prop_u16(w.PROP_TOPIC_ALIAS, 0)), [TOPIC_ALIAS_INVALID])

    def test_unknown_topic_alias_with_empty_topic_v5(self):
        """B2.33: an alias never set, used with an empty topic -> DISCONNECT 0x82 (no crash)."""
        self.check(5, raw_publish(0x30, b"", w.properties(w.prop_u16(w.PROP_TOPIC_ALIAS, 3))),
                   [PROTOCOL_ERROR, TOPIC_ALIAS_INVALID])

    def test_duplicate_topic_alias_property_v5(self):
        """§2.2.2.2: a property that may appear once, twice -> Protocol Error 0x82."""
        self.check(5, w.publish("t", b"x", version=5,
                                props=w.prop_u16(w.PROP_TOPIC_ALIAS, 1) + w.prop_u16(w.PROP_TOPIC_ALIAS, 1)),
                   [PROTOCOL_ERROR])

    def test_response_topic_with_wildcard_v5(self):
        """[MQTT-3.3.2-14]: the Response Topic is a Topic Name (no wildcards) -> 0x82 / 0x81."""
        self.check(5, w.publish("t", b"x", version=5, props=w.prop_str(w.PROP_RESPONSE_TOPIC, "reply/#")),
                   [MALFORMED, PROTOCOL_ERROR, TOPIC_NAME_INVALID])

    def test_topic_alias_does_not_survive_reconnect_v5(self):
        """B2.34: aliases belong to one network connection."""
        raw = self.connected(5, client_id="alias-carrier")
        raw.send(w.publish("alias/t", b"x", version=5, props=w.prop_u16(w.PROP_TOPIC_ALIAS, 1)))
        self.assert_still_works(raw)
        raw.send(w.disconnect(5))
        raw.expect_closed()
        again = self.connected(5, client_id="alias-carrier")
        again.try_send(raw_publish(0x30, b"", w.properties(w.prop_u16(w.PROP_TOPIC_ALIAS, 1))))
        self.assert_disconnected(again, 5, [PROTOCOL_ERROR, TOPIC_ALIAS_INVALID])


class MalformedDisconnectTest(ConformanceCase):
    def test_malformed_disconnect_gets_0x81_and_publishes_the_will(self):
        """B2.47: DISCONNECT with a truncated property -> DISCONNECT 0x81; since the connection ends
        on a protocol error, not a normal DISCONNECT, the will is published ([MQTT-3.1.2-8])."""
        watch = self.connected(5, client_id="will-watch")
        watch.send(w.subscribe(1, [("mdw/#", 0)], version=5))
        watch.expect(w.SUBACK)
        raw = self.raw()
        raw.connect("malformed-disconnect", version=5, will=("mdw/t", b"protocol error", 0, False))
        raw.send(b"\xe0\x04\x00\x02\x26\x00")
        self.assert_disconnected(raw, 5, [MALFORMED])
        topic, _, _, payload = w.parse_publish(watch.expect(w.PUBLISH), 5)
        self.assertEqual((topic, payload), ("mdw/t", b"protocol error"))


class FixedHeaderFlagsTest(ConformanceCase):
    """[MQTT-2.1.3-1]: reserved fixed-header flags must have their listed values; anything else is
    a Malformed Packet -> v5 DISCONNECT 0x81, 3.1.1 close."""

    def check(self, version, data):
        raw = self.connected(version)
        raw.try_send(data)
        self.assert_disconnected(raw, version, [MALFORMED])

    def test_mqtt_2_1_3_1_subscribe_flags_0_v311(self):
        self.check(4, w.packet(0x80, b"\x00\x01" + w.utf8("t") + b"\x00"))

    def test_mqtt_2_1_3_1_subscribe_flags_0_v5(self):
        self.check(5, w.packet(0x80, b"\x00\x01\x00" + w.utf8("t") + b"\x00"))

    def test_mqtt_2_1_3_1_pubrel_flags_0_v311(self):
        self.check(4, b"\x60\x02\x00\x01")

    def test_mqtt_2_1_3_1_pubrel_flags_0_v5(self):
        self.check(5, b"\x60\x02\x00\x01")

    def test_mqtt_2_1_3_1_pingreq_flags_v5(self):
        self.check(5, b"\xc1\x00")

    def test_mqtt_2_1_3_1_disconnect_flags_v311(self):
        self.check(4, b"\xe1\x00")


class ServerOnlyPacketsTest(ConformanceCase):
    """A client sending packets only a server sends (B2.42) -> v5 DISCONNECT 0x81/0x82, 3.1.1 close."""

    def check(self, version, data):
        raw = self.connected(version)
        raw.try_send(data)
        self.assert_disconnected(raw, version, [MALFORMED, PROTOCOL_ERROR])

    def test_connack_from_client_v311(self):
        self.check(4, b"\x20\x02\x00\x00")

    def test_connack_from_client_v5(self):
        self.check(5, b"\x20\x03\x00\x00\x00")

    def test_suback_from_client_v5(self):
        self.check(5, b"\x90\x04\x00\x01\x00\x00")

    def test_pingresp_from_client_v311(self):
        self.check(4, b"\xd0\x00")


class QosFlowTest(ConformanceCase):
    def test_qos1_publish_gets_puback_with_the_same_id(self):
        """[MQTT-4.3.2-4]-family: the receiver of QoS 1 answers PUBACK with the Packet Identifier."""
        for version in (4, 5):
            raw = self.connected(version, client_id="puback-%d" % version)
            raw.send(w.publish("q1", b"x", qos=1, packet_id=0x1234, version=version))
            p = raw.expect(w.PUBACK)
            self.assertEqual(p.body[:2], b"\x12\x34")

    def test_qos2_publish_pubrec_pubrel_pubcomp(self):
        """[MQTT-4.3.3-8..-11]: PUBREC, then PUBCOMP for the PUBREL, same Packet Identifier."""
        for version in (4, 5):
            raw = self.connected(version, client_id="pubrec-%d" % version)
            raw.send(w.publish("q2", b"x", qos=2, packet_id=7, version=version))
            self.assertEqual(raw.expect(w.PUBREC).body[:2], b"\x00\x07")
            raw.send(w.puback(7, w.PUBREL))
            self.assertEqual(raw.expect(w.PUBCOMP).body[:2], b"\x00\x07")

    def test_qos2_duplicate_is_delivered_once(self):
        """[MQTT-4.3.3-10]-family: a QoS 2 PUBLISH resent with DUP before PUBREL is not delivered twice."""
        sub = self.connected(5, client_id="once-sub")
        sub.send(w.subscribe(1, [("once/t", 2)], version=5))
        sub.expect(w.SUBACK)
        pub = self.connected(5, client_id="once-pub")
        pub.send(w.publish("once/t", b"x", qos=2, packet_id=9, version=5))
        pub.expect(w.PUBREC)
        pub.send(w.publish("once/t", b"x", qos=2, packet_id=9, version=5, dup=True))
        pub.expect(w.PUBREC)
        pub.send(w.puback(9, w.PUBREL))
        pub.expect(w.PUBCOMP)
        delivered = sub.expect(w.PUBLISH)
        _, pid, _, _ = w.parse_publish(delivered, 5)
        sub.send(w.puback(pid, w.PUBREC))
        sub.expect(w.PUBREL)
        sub.send(w.puback(pid, w.PUBCOMP))
        self.assert_still_works(sub)  # a second copy would have arrived before the PINGRESP

    def test_pubrel_for_unknown_id_gets_pubcomp(self):
        """B2.41: PUBREL for an unknown Packet Identifier -> PUBCOMP (v5 may say 0x92)."""
        raw = self.connected(5)
        raw.send(w.puback(77, w.PUBREL))
        p = raw.expect(w.PUBCOMP)
        self.assertEqual(p.body[:2], b"\x00\x4d")
        if len(p.body) > 2:
            self.assertIn(p.body[2], (0x00, 0x92))


class LimitsTest(ConformanceCase):
    def broker_options(self):
        return {"limits": {"max_packet_size": 4096, "max_topic_levels": 16}}

    def test_packet_over_maximum_packet_size_v5(self):
        """§3.2.2.3.6: a packet larger than the Maximum Packet Size we advertised -> DISCONNECT 0x95."""
        raw = self.connected(5)
        raw.try_send(w.publish("big", b"x" * 5000, version=5))
        self.assert_disconnected(raw, 5, [PACKET_TOO_LARGE])

    def test_packet_over_maximum_packet_size_v311(self):
        raw = self.connected(4)
        raw.try_send(w.publish("big", b"x" * 5000))
        self.assert_disconnected(raw, 4, [])

    def test_oversized_declaration_is_refused_from_the_header(self):
        """B2.44: the oversized body is not buffered: the refusal comes from the fixed header alone."""
        raw = self.connected(5)
        raw.send(b"\x30\xff\xff\xff\x7f")  # 268,435,455 bytes announced, none sent
        self.assert_disconnected(raw, 5, [PACKET_TOO_LARGE])

    def test_connack_advertises_maximum_packet_size(self):
        raw = self.raw()
        connack = raw.connect("mps", version=5)
        props, _ = w.parse_properties(connack.body, 2)
        self.assertEqual(props.get(w.PROP_MAXIMUM_PACKET_SIZE), [4096])

    def test_too_many_topic_levels_v5(self):
        """B2.36: a topic over max_topic_levels -> 0x90 (PUBACK or DISCONNECT)."""
        raw = self.connected(5)
        raw.send(w.publish("/".join(["l"] * 40), b"x", qos=1, packet_id=1, version=5))
        p = raw.read_packet()
        self.assertIsNotNone(p)
        if p.type == w.PUBACK:
            self.assertEqual(p.body[2], TOPIC_NAME_INVALID)
        else:
            self.assertEqual((p.type, p.body[0]), (w.DISCONNECT, TOPIC_NAME_INVALID))

    def test_message_larger_than_a_subscribers_maximum_packet_size_is_dropped_for_it_only(self):
        """[MQTT-3.1.2-25]: the server must not send a packet larger than the client's Maximum
        Packet Size; it drops the message for that client and delivers to others."""
        small = self.connected(5, client_id="small", props=w.prop_u32(w.PROP_MAXIMUM_PACKET_SIZE, 64))
        small.send(w.subscribe(1, [("size/t", 0)], version=5))
        small.expect(w.SUBACK)
        large = self.connected(5, client_id="large")
        large.send(w.subscribe(1, [("size/t", 0)], version=5))
        large.expect(w.SUBACK)
        pub = self.connected(5, client_id="pub")
        pub.send(w.publish("size/t", b"y" * 200, version=5))
        pub.send(w.publish("size/t", b"small", version=5))
        got_large = [w.parse_publish(large.expect(w.PUBLISH), 5)[3] for _ in range(2)]
        self.assertEqual(got_large, [b"y" * 200, b"small"])
        self.assertEqual(w.parse_publish(small.expect(w.PUBLISH), 5)[3], b"small")
        self.assert_still_works(small)


class FeaturesOffTest(ConformanceCase):
    """[mqtt.features] and maximum_qos reach the wire: advertised in CONNACK and enforced (B2.46)."""

    def broker_options(self):
        return {"limits": {"maximum_qos": 1}, "features": {"retain": False}}

    def test_connack_advertises_maximum_qos_and_retain_unavailable(self):
        raw = self.raw()
        connack = raw.connect("caps", version=5)
        props, _ = w.parse_properties(connack.body, 2)
        self.assertEqual(props.get(0x24), [1], "Maximum QoS")
        self.assertEqual(props.get(0x25), [0], "Retain Available")

    def test_qos_above_maximum_qos_gets_0x9b(self):
        """[MQTT-3.2.2-11]: a PUBLISH above the Maximum QoS we sent -> DISCONNECT 0x9B (QoS not supported)."""
        raw = self.connected(5)
        raw.send(w.publish("t", b"x", qos=2, packet_id=1, version=5))
        self.assert_disconnected(raw, 5, [0x9B])

    def test_retain_when_unavailable_gets_0x9a(self):
        """[MQTT-3.2.2-14]: PUBLISH with RETAIN 1 when Retain Available is 0 -> DISCONNECT 0x9A."""
        raw = self.connected(5)
        raw.send(w.publish("t", b"x", retain=True, version=5))
        self.assert_disconnected(raw, 5, [0x9A])

    def test_subscription_qos_is_capped_at_maximum_qos(self):
        """[MQTT-3.2.2-9]-family: a subscription asking QoS 2 is granted at most Maximum QoS."""
        raw = self.connected(5)
        raw.send(w.subscribe(1, [("t", 2)], version=5))
        p = raw.expect(w.SUBACK)
        self.assertEqual(list(p.body[2 + 1 + p.body[2]:]), [1])


class SlowConsumerTest(ConformanceCase):
    def broker_options(self):
        return {"limits": {"max_queued_bytes": 1048576, "max_queued_messages": 1000}}

    def test_a_client_that_stops_reading_has_a_bounded_queue(self):
        """Issue 2 "Bad input": a subscriber that stops reading costs at most its configured queue.
        20 MB of QoS 0 messages are published to it; the broker's RSS grows by far less."""
        slow = self.raw()
        slow.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        slow.connect("never-reads", version=5)
        slow.send(w.subscribe(1, [("slow/#", 0)], version=5))
        slow.expect(w.SUBACK)
        pub = self.connected(5, client_id="flooder")
        baseline = self.broker.rss_kib()
        payload = b"z" * 10000
        batch = b"".join(w.publish("slow/t", payload, version=5) for _ in range(100))
        for _ in range(20):
            pub.send(batch)
        pub.send(b"\xc0\x00")
        pub.expect(w.PINGRESP, timeout=60)  # every PUBLISH was read and routed before this
        grown = self.broker.rss_kib() - baseline
        self.assertLess(grown, 12 * 1024, "RSS grew by %d KiB for 20 MB sent to a client that does not read" % grown)
        self.assert_still_works(pub)


class DeepTopicTest(ConformanceCase):
    def test_topic_with_32000_levels_does_not_crash(self):
        """B2.36 / CVE-2019-11779: a topic of ~32,000 '/' is refused or routed, never a crash."""
        raw = self.connected(5)
        raw.try_send(w.publish("/" * 32000, b"x", version=5) + b"\xc0\x00")
        p = raw.read_packet()
        # Dropped (then our PINGREQ is answered), or refused with DISCONNECT 0x90 and closed.
        self.assertTrue(p is None or p.type == w.PINGRESP or (p.type == w.DISCONNECT and p.body[0] == TOPIC_NAME_INVALID),
                        repr(p))
        other = self.connected(4, client_id="after-deep")
        self.assert_still_works(other)


if __name__ == "__main__":
    main()
