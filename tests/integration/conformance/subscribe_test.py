#!/usr/bin/python3
"""Byte-level conformance: SUBSCRIBE / UNSUBSCRIBE (MQTT 5.0 §3.8-3.11, §4.7, §4.8; 3.1.1 §3.8;
hostile-inputs.md B2.37-B2.40). Statement numbers are MQTT 5.0's unless marked (3.1.1)."""

import struct

import mqtt_wire as w
from conformance_common import MALFORMED, PROTOCOL_ERROR, ConformanceCase
from tollgate_fixture import main

TOPIC_FILTER_INVALID = 0x8F
QUOTA_EXCEEDED = 0x97


def raw_subscribe(version, payload, packet_id=1, props=b""):
    body = struct.pack("!H", packet_id)
    if version == 5:
        body += w.varint(len(props)) + props
    return w.packet(0x82, body + payload)


class SubscribeMalformedTest(ConformanceCase):
    def check(self, version, data, v5_codes=(MALFORMED,)):
        raw = self.connected(version)
        raw.try_send(data)
        self.assert_disconnected(raw, version, list(v5_codes))

    def test_mqtt_3_8_3_3_no_topic_filter_v311(self):
        """[MQTT-3.8.3-3] (3.1.1): a SUBSCRIBE with no Topic Filter is a protocol violation."""
        self.check(4, raw_subscribe(4, b""))

    def test_mqtt_3_8_3_2_no_topic_filter_v5(self):
        """[MQTT-3.8.3-2]: the payload must contain at least one Topic Filter -> Protocol Error/Malformed."""
        self.check(5, raw_subscribe(5, b""), (MALFORMED, PROTOCOL_ERROR))

    def test_mqtt_3_8_3_4_reserved_option_bits_v311(self):
        """[MQTT-3.8.3-4] (3.1.1): the upper 6 bits of the requested QoS byte must be 0."""
        self.check(4, raw_subscribe(4, w.utf8("t") + b"\x40"))

    def test_mqtt_3_8_3_5_reserved_option_bits_v5(self):
        """[MQTT-3.8.3-5]: reserved bits 6-7 of Subscription Options non-zero -> Malformed."""
        self.check(5, raw_subscribe(5, w.utf8("t") + b"\x80"))

    def test_qos_3_requested_v311(self):
        """[MQTT-3-8.3-4] (3.1.1): requested QoS 3 is malformed."""
        self.check(4, raw_subscribe(4, w.utf8("t") + b"\x03"))

    def test_qos_3_requested_v5(self):
        self.check(5, raw_subscribe(5, w.utf8("t") + b"\x03"), (MALFORMED, PROTOCOL_ERROR))

    def test_retain_handling_3_v5(self):
        """§3.8.3.1: Retain Handling 3 is a Protocol Error."""
        self.check(5, raw_subscribe(5, w.utf8("t") + b"\x30"), (MALFORMED, PROTOCOL_ERROR))

    def test_filter_truncated_before_options_v5(self):
        """B2.37: a filter without its options byte -> Malformed."""
        self.check(5, raw_subscribe(5, w.utf8("t")))

    def test_mqtt_2_2_1_3_packet_id_0_v5(self):
        """[MQTT-2.2.1-3]: SUBSCRIBE needs a non-zero Packet Identifier."""
        self.check(5, raw_subscribe(5, w.utf8("t") + b"\x00", packet_id=0), (MALFORMED, PROTOCOL_ERROR))

    def test_mqtt_3_8_3_4_no_local_on_shared_subscription_v5(self):
        """[MQTT-3.8.3-4]: No Local on a Shared Subscription is a Protocol Error."""
        self.check(5, raw_subscribe(5, w.utf8("$share/g/t") + b"\x04"), (PROTOCOL_ERROR,))

    def test_subscription_identifier_0_v5(self):
        """§3.8.2.1.2: Subscription Identifier 0 is a Protocol Error."""
        self.check(5, raw_subscribe(5, w.utf8("t") + b"\x00", props=b"\x0b\x00"), (PROTOCOL_ERROR, MALFORMED))

    def test_mqtt_1_5_4_1_bad_utf8_filter_v311(self):
        self.check(4, raw_subscribe(4, struct.pack("!H", 2) + b"\xc0\x80" + b"\x00"))

    def test_mqtt_1_5_4_1_bad_utf8_filter_v5(self):
        self.check(5, raw_subscribe(5, struct.pack("!H", 2) + b"\xc0\x80" + b"\x00"))


class TopicFilterTest(ConformanceCase):
    def check_invalid_filter(self, version, topic_filter):
        """[MQTT-4.7.1-1]/[MQTT-4.7.1-2] (wildcards) and [MQTT-4.8.2-1]/[MQTT-4.8.2-2] (share
        names): the filter must not be accepted. The texts allow either a per-filter refusal
        (SUBACK 0x8F in v5, 0x80 in 3.1.1, the connection stays usable) or treating the packet as
        malformed / a protocol error (v5 DISCONNECT 0x81/0x82, 3.1.1 close [MQTT-4.8.0-1])."""
        raw = self.connected(version)
        raw.send(w.subscribe(5, [(topic_filter, 1), ("valid/+", 1)], version=version))
        p = raw.read_packet()
        if p is None:
            self.assertEqual(version, 4, "a v5 server must send DISCONNECT with a reason code before closing")
            return
        if p.type == w.DISCONNECT:
            self.assertEqual(version, 5, "DISCONNECT sent to a 3.1.1 client")
            self.assertIn(p.body[0], (MALFORMED, PROTOCOL_ERROR), repr(p))
            raw.expect_closed()
            return
        self.assertEqual(p.type, w.SUBACK, repr(p))
        self.assertEqual(p.body[:2], b"\x00\x05")
        codes = p.body[2:] if version == 4 else p.body[2 + 1 + p.body[2]:]
        self.assertEqual(list(codes), [TOPIC_FILTER_INVALID if version == 5 else 0x80, 1])
        self.assert_still_works(raw)


for _name, _filter in (("hash_not_last", "a/#/b"), ("hash_inside_level", "a/b#"), ("plus_inside_level", "+a"),
                       ("share_without_group", "$share/"), ("share_empty_group", "$share//t"),
                       ("share_group_with_wildcard", "$share/g+/t"), ("share_without_filter", "$share/g")):
    setattr(TopicFilterTest, "test_invalid_filter_%s_v311" % _name,
            lambda self, f=_filter: self.check_invalid_filter(4, f))
    setattr(TopicFilterTest, "test_invalid_filter_%s_v5" % _name,
            lambda self, f=_filter: self.check_invalid_filter(5, f))


class SubackTest(ConformanceCase):
    def test_mqtt_3_8_4_1_suback_has_one_code_per_filter_in_order(self):
        """[MQTT-3.8.4-1] SUBACK answers, [MQTT-3.8.4-2] with the same Packet Identifier,
        [MQTT-3.8.4-6] one reason code per filter in order."""
        for version in (4, 5):
            raw = self.connected(version, client_id="suback-%d" % version)
            raw.send(w.subscribe(0x0102, [("a", 0), ("b/+", 1), ("c/#", 2)], version=version))
            p = raw.expect(w.SUBACK)
            self.assertEqual(p.body[:2], b"\x01\x02")
            codes = p.body[2:] if version == 4 else p.body[2 + 1 + p.body[2]:]
            self.assertEqual(list(codes), [0, 1, 2])

    def test_mqtt_4_7_2_1_dollar_topics_not_matched_by_leading_wildcards(self):
        """[MQTT-4.7.2-1]: '#' and '+/...' do not match topics beginning with '$'."""
        sub = self.connected(5, client_id="dollar-sub")
        sub.send(w.subscribe(1, [("#", 1), ("+/x", 1)], version=5))
        sub.expect(w.SUBACK)
        pub = self.connected(5, client_id="dollar-pub")
        pub.send(w.publish("$app/x", b"dollar", qos=1, packet_id=1, version=5))
        pub.expect(w.PUBACK)
        pub.send(w.publish("app/x", b"plain", qos=1, packet_id=2, version=5))
        pub.expect(w.PUBACK)
        # Same publisher, so a wrongly matched "$app/x" would arrive before "app/x".
        first = w.parse_publish(sub.expect(w.PUBLISH), 5)
        self.assertEqual((first[0], first[3]), ("app/x", b"plain"))

    def test_unsubscribe_stops_delivery(self):
        """[MQTT-3.10.4-1]/[MQTT-3.10.4-4]: UNSUBACK with the same id; no more messages."""
        raw = self.connected(5, client_id="unsub")
        raw.send(w.subscribe(1, [("u/t", 0)], version=5))
        raw.expect(w.SUBACK)
        raw.send(w.packet(0xA2, b"\x00\x02\x00" + w.utf8("u/t")))
        self.assertEqual(raw.expect(w.UNSUBACK).body[:2], b"\x00\x02")
        pub = self.connected(5, client_id="unsub-pub")
        pub.send(w.publish("u/t", b"x", version=5))
        self.assert_still_works(pub)
        self.assert_still_works(raw)  # a delivery would have come before the PINGRESP


class SubscriptionQuotaTest(ConformanceCase):
    def broker_options(self):
        return {"limits": {"max_subscriptions_per_session": 3}}

    def test_subscriptions_over_the_quota_get_0x97(self):
        """B2.39: a session over max_subscriptions_per_session gets SUBACK 0x97 (Quota exceeded)."""
        raw = self.connected(5)
        raw.send(w.subscribe(1, [("q/%d" % i, 0) for i in range(5)], version=5))
        p = raw.expect(w.SUBACK)
        codes = list(p.body[2 + 1 + p.body[2]:])
        self.assertEqual(codes, [0, 0, 0, QUOTA_EXCEEDED, QUOTA_EXCEEDED])


if __name__ == "__main__":
    main()
