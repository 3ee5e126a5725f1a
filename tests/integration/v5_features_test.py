#!/usr/bin/python3
"""MQTT 5 features end to end with Paho and exact bytes: shared subscriptions (round-robin),
topic aliases, message expiry, flow control (Receive Maximum), user properties, response topic
and correlation data, subscription identifiers, No Local, payload format indicator and content
type, assigned client identifier, and the CONNACK capabilities."""

from paho.mqtt.packettypes import PacketTypes

import mqtt_wire as w
from mqtt_clients import PahoClient, props
from tollgate_fixture import BrokerTestCase, main


class V5TestCase(BrokerTestCase):
    def client(self, version=5, **kw):
        c = PahoClient(self.broker.port(), version=version, **kw)
        self.on_teardown(c.close)
        return c

    def connected(self, version=5, **kw):
        c = self.client(version, **kw)
        c.connect()
        return c


class SharedSubscriptionTest(V5TestCase):
    def test_shared_subscription_round_robins_across_two_subscribers(self):
        """MQTT 5 §4.8.2: each message of a shared subscription goes to one member."""
        a = self.connected()
        b = self.connected()
        a.subscribe("$share/workers/jobs/#", qos=1)
        b.subscribe("$share/workers/jobs/#", qos=1)
        pub = self.connected()
        sent = [b"job-%d" % i for i in range(10)]
        for p in sent:
            pub.publish("jobs/x", p, qos=1)
        got_a, got_b = [], []
        # 10 messages total; round robin gives each member 5.
        for _ in range(5):
            got_a.append(a.next_message().payload)
            got_b.append(b.next_message().payload)
        a.expect_no_message(0.3)
        b.expect_no_message(0.1)
        self.assertEqual(sorted(got_a + got_b), sorted(sent), "every message exactly once across the group")
        self.assertEqual(len(got_a), 5)
        self.assertEqual(len(got_b), 5)

    def test_shared_and_plain_subscriptions_both_receive(self):
        a = self.connected()
        plain = self.connected()
        a.subscribe("$share/g/mixed", qos=1)
        plain.subscribe("mixed", qos=1)
        pub = self.connected()
        pub.publish("mixed", b"both", qos=1)
        self.assertEqual(a.next_message().payload, b"both")
        self.assertEqual(plain.next_message().payload, b"both")

    def test_shared_subscription_with_v311_client(self):
        a = self.connected(version=4)
        a.subscribe("$share/g311/t311", qos=1)
        pub = self.connected(version=4)
        pub.publish("t311", b"hello", qos=1)
        m = a.next_message()
        self.assertEqual((m.topic, m.payload), ("t311", b"hello"))


class TopicAliasTest(V5TestCase):
    def test_paho_publish_with_topic_alias_then_alias_only(self):
        """MQTT 5 §3.3.2.3.4: a Topic Alias set with a topic, then used with an empty topic."""
        sub = self.connected()
        sub.subscribe("alias/topic", qos=1)
        pub = self.connected()
        max_alias = pub.connack[2].TopicAliasMaximum if hasattr(pub.connack[2], "TopicAliasMaximum") else 0
        self.assertGreater(max_alias, 0, "the broker advertises Topic Alias Maximum in CONNACK")
        pub.publish("alias/topic", b"first", qos=1, properties=props(PacketTypes.PUBLISH, TopicAlias=1))
        pub.publish("", b"second", qos=1, properties=props(PacketTypes.PUBLISH, TopicAlias=1))
        for expected in (b"first", b"second"):
            m = sub.next_message()
            self.assertEqual((m.topic, m.payload), ("alias/topic", expected))

    def test_alias_can_be_remapped(self):
        sub = self.connected()
        sub.subscribe("alias/#", qos=1)
        pub = self.connected()
        pub.publish("alias/one", b"1", qos=1, properties=props(PacketTypes.PUBLISH, TopicAlias=1))
        pub.publish("alias/two", b"2", qos=1, properties=props(PacketTypes.PUBLISH, TopicAlias=1))
        pub.publish("", b"3", qos=1, properties=props(PacketTypes.PUBLISH, TopicAlias=1))
        got = [(m.topic, m.payload) for m in (sub.next_message() for _ in range(3))]
        self.assertEqual(got, [("alias/one", b"1"), ("alias/two", b"2"), ("alias/two", b"3")])

    def test_alias_above_the_maximum_is_a_protocol_error(self):
        """[MQTT-3.3.2-9]/[MQTT-3.3.2-10]: a Topic Alias above the Topic Alias Maximum -> DISCONNECT 0x94."""
        raw = w.RawClient(self.broker.port())
        self.on_teardown(raw.close)
        connack = raw.connect("alias-max", version=5)
        cprops, _ = w.parse_properties(connack.body, 2)
        maximum = cprops.get(w.PROP_TOPIC_ALIAS_MAXIMUM, [0])[0]
        raw.send(w.publish("a/b", b"x", version=5, props=w.prop_u16(w.PROP_TOPIC_ALIAS, maximum + 1)))
        raw.expect_disconnect_or_close(5, 0x94)


class MessageExpiryTest(V5TestCase):
    def test_message_expiry_interval_is_forwarded_and_not_increased(self):
        """[MQTT-3.3.2-6]: the forwarded Message Expiry Interval is the received value minus the
        time the message waited in the server."""
        sub = self.connected()
        sub.subscribe("exp/live", qos=1)
        pub = self.connected()
        pub.publish("exp/live", b"x", qos=1, properties=props(PacketTypes.PUBLISH, MessageExpiryInterval=120))
        m = sub.next_message()
        self.assertTrue(hasattr(m.properties, "MessageExpiryInterval"), "expiry interval missing")
        self.assertLessEqual(m.properties.MessageExpiryInterval, 120)
        self.assertGreaterEqual(m.properties.MessageExpiryInterval, 100)

    def test_expiry_is_kept_for_a_queued_message_and_a_retained_one(self):
        sub = self.client(client_id="exp-offline")
        sub.connect(session_expiry=300)
        sub.subscribe("exp/q", qos=1)
        sub.disconnect()
        pub = self.connected()
        pub.publish("exp/q", b"queued", qos=1, properties=props(PacketTypes.PUBLISH, MessageExpiryInterval=600))
        pub.publish("exp/r", b"retained", qos=1, retain=True,
                    properties=props(PacketTypes.PUBLISH, MessageExpiryInterval=600))
        again = self.client(client_id="exp-offline", clean=False)
        again.connect(session_expiry=300)
        m = again.next_message()
        self.assertEqual(m.payload, b"queued")
        self.assertLessEqual(m.properties.MessageExpiryInterval, 600)
        again.subscribe("exp/r", qos=1)
        r = again.next_message()
        self.assertEqual(r.payload, b"retained")
        self.assertTrue(r.retain)
        self.assertLessEqual(r.properties.MessageExpiryInterval, 600)

    def test_message_without_expiry_has_no_expiry_property(self):
        sub = self.connected()
        sub.subscribe("exp/none", qos=1)
        pub = self.connected()
        pub.publish("exp/none", b"x", qos=1)
        self.assertFalse(hasattr(sub.next_message().properties, "MessageExpiryInterval"))


class FlowControlTest(V5TestCase):
    def test_many_qos1_messages_all_arrive_with_receive_maximum_2(self):
        sub = self.client()
        sub.connect(receive_maximum=2)
        sub.subscribe("flow/t", qos=1)
        pub = self.connected()
        sent = [b"m%03d" % i for i in range(200)]
        for p in sent:
            pub.publish("flow/t", p, qos=1)
        got = [sub.next_message().payload for _ in sent]
        self.assertEqual(got, sent)

    def test_server_never_exceeds_the_clients_receive_maximum(self):
        """[MQTT-3.3.4-9]: no more unacknowledged QoS 1/2 PUBLISHes than the client's Receive Maximum."""
        raw = w.RawClient(self.broker.port())
        self.on_teardown(raw.close)
        raw.connect("flow-raw", version=5, props=w.prop_u16(w.PROP_RECEIVE_MAXIMUM, 2))
        raw.send(w.subscribe(1, [("flow/raw", 1)], version=5))
        raw.expect(w.SUBACK)
        pub = self.connected()
        for i in range(6):
            pub.publish("flow/raw", b"%d" % i, qos=1)
        first = [w.parse_publish(raw.expect(w.PUBLISH), 5) for _ in range(2)]
        self.assertEqual([f[3] for f in first], [b"0", b"1"])
        try:
            extra = raw.read_packet(timeout=0.5)
        except TimeoutError:
            extra = None
        self.assertIsNone(extra, "a third PUBLISH was sent while two were unacknowledged")
        raw.send(w.puback(first[0][1]))
        third = w.parse_publish(raw.expect(w.PUBLISH), 5)
        self.assertEqual(third[3], b"2")
        for pid in (first[1][1], third[1]):
            raw.send(w.puback(pid))
        rest = [w.parse_publish(raw.expect(w.PUBLISH), 5) for _ in range(2)]
        self.assertEqual([r[3] for r in rest], [b"3", b"4"])
        raw.send(w.puback(rest[0][1]))
        self.assertEqual(w.parse_publish(raw.expect(w.PUBLISH), 5)[3], b"5")

    def test_broker_advertises_receive_maximum_and_enforces_it(self):
        """[MQTT-3.3.4-7]/[MQTT-3.3.4-8]: a client sending more QoS 1/2 PUBLISHes than our Receive
        Maximum without waiting for acknowledgement gets DISCONNECT 0x93. QoS 2 is used because the
        broker holds each message until the client's PUBREL."""
        raw = w.RawClient(self.broker.port())
        self.on_teardown(raw.close)
        connack = raw.connect("flood", version=5)
        cprops, _ = w.parse_properties(connack.body, 2)
        maximum = cprops.get(w.PROP_RECEIVE_MAXIMUM, [65535])[0]
        self.assertLess(maximum, 65535, "the broker should advertise a Receive Maximum")
        data = b"".join(w.publish("flood/t", b"x", qos=2, packet_id=i + 1, version=5) for i in range(maximum + 1))
        raw.try_send(data)
        for _ in range(maximum):
            raw.expect(w.PUBREC)
        raw.expect_disconnect_or_close(5, 0x93)


class PropertiesTest(V5TestCase):
    def test_user_properties_response_topic_correlation_data_content_type_are_forwarded(self):
        """[MQTT-3.3.2-15]..[MQTT-3.3.2-20]: forwarded unaltered, user properties in order."""
        sub = self.connected()
        sub.subscribe("props/t", qos=1)
        pub = self.connected()
        p = props(PacketTypes.PUBLISH, ResponseTopic="props/reply", CorrelationData=b"\x00\x01corr",
                  ContentType="application/json", PayloadFormatIndicator=1)
        p.UserProperty = ("a", "1")
        p.UserProperty = ("b", "2")
        p.UserProperty = ("a", "3")
        pub.publish("props/t", b'{"k":1}', qos=1, properties=p)
        m = sub.next_message()
        self.assertEqual(m.properties.ResponseTopic, "props/reply")
        self.assertEqual(m.properties.CorrelationData, b"\x00\x01corr")
        self.assertEqual(m.properties.ContentType, "application/json")
        self.assertEqual(m.properties.PayloadFormatIndicator, 1)
        self.assertEqual(m.properties.UserProperty, [("a", "1"), ("b", "2"), ("a", "3")])

    def test_subscription_identifier_is_sent_with_matching_messages(self):
        """[MQTT-3.3.4-3]: the Subscription Identifier of the matching subscription is included."""
        sub = self.connected()
        sub.subscribe("subid/#", qos=1, properties=props(PacketTypes.SUBSCRIBE, SubscriptionIdentifier=42))
        pub = self.connected()
        pub.publish("subid/x", b"x", qos=1)
        self.assertEqual(sub.next_message().properties.SubscriptionIdentifier, [42])

    def test_no_local_does_not_echo_own_messages(self):
        """[MQTT-3.8.3-3]: with No Local, the server does not forward a client's own messages to it."""
        c = self.connected()
        c.subscribe("nolocal/t", qos=1, no_local=True)
        c.publish("nolocal/t", b"mine", qos=1)
        other = self.connected()
        other.publish("nolocal/t", b"theirs", qos=1)
        self.assertEqual(c.next_message().payload, b"theirs")
        c.expect_no_message(0.3)

    def test_invalid_utf8_payload_with_format_indicator_is_refused(self):
        """[MQTT-3.3.2-4]-family: Payload Format Indicator 1 with a payload that is not UTF-8 ->
        PUBACK 0x99 (Payload format invalid) or DISCONNECT 0x99."""
        raw = w.RawClient(self.broker.port())
        self.on_teardown(raw.close)
        raw.connect("pfi", version=5)
        raw.send(w.publish("pfi/t", b"\xff\xfe", qos=1, packet_id=7, version=5,
                           props=w.prop_byte(w.PROP_PAYLOAD_FORMAT, 1)))
        p = raw.read_packet()
        self.assertIsNotNone(p, "closed without a reason code")
        self.assertIn(p.type, (w.PUBACK, w.DISCONNECT), repr(p))
        reason = p.body[2] if p.type == w.PUBACK else p.body[0]
        self.assertEqual(reason, 0x99)

    def test_assigned_client_identifier(self):
        """[MQTT-3.2.2-16]: an empty client id gets an Assigned Client Identifier in CONNACK."""
        raw = w.RawClient(self.broker.port())
        self.on_teardown(raw.close)
        connack = raw.connect("", version=5)
        cprops, _ = w.parse_properties(connack.body, 2)
        assigned = cprops.get(0x12)
        self.assertTrue(assigned and assigned[0], "no Assigned Client Identifier")

    def test_v311_empty_client_id_with_clean_session_is_accepted(self):
        """[MQTT-3.1.3-6]/[MQTT-3.1.3-7] (3.1.1): zero-length client id with CleanSession=1 is accepted."""
        raw = w.RawClient(self.broker.port())
        self.on_teardown(raw.close)
        raw.connect("", version=4, clean=True)

    def test_v311_empty_client_id_without_clean_session_is_refused(self):
        """[MQTT-3.1.3-8] (3.1.1): zero-length client id with CleanSession=0 -> CONNACK 0x02, close."""
        raw = w.RawClient(self.broker.port())
        self.on_teardown(raw.close)
        raw.send(w.connect("", version=4, clean=False))
        p = raw.expect(w.CONNACK)
        self.assertEqual(p.body[1], 0x02)
        raw.expect_closed()


if __name__ == "__main__":
    main()
