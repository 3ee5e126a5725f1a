#!/usr/bin/python3
"""Retained messages with real clients (MQTT 5 numbering): stored and delivered to later
subscribers with the retain flag ([MQTT-3.3.1-5], [MQTT-3.3.1-9]), replaced, cleared by an empty
payload ([MQTT-3.3.1-6], [MQTT-3.3.1-7]), retain handling 1 and 2 ([MQTT-3.3.1-10],
[MQTT-3.3.1-11]), live delivery without the retain flag unless Retain As Published
([MQTT-3.3.1-12], [MQTT-3.3.1-13])."""

from mqtt_clients import MosquittoSub, PahoClient, mosquitto_pub
from tollgate_fixture import BrokerTestCase, main


class RetainedTest(BrokerTestCase):
    def client(self, version=5):
        c = PahoClient(self.broker.port(), version=version)
        self.on_teardown(c.close)
        c.connect()
        return c

    def test_retained_message_reaches_a_later_subscriber_with_the_retain_flag(self):
        pub = self.client(4)
        pub.publish("ret/a", b"kept", qos=1, retain=True)
        for version in (4, 5):
            sub = self.client(version)
            sub.subscribe("ret/a", qos=1)
            m = sub.next_message()
            self.assertEqual((m.topic, m.payload, m.retain, m.qos), ("ret/a", b"kept", True, 1))

    def test_retained_with_mosquitto_clients_v311_and_v5(self):
        for version in ("mqttv311", "mqttv5"):
            topic = "ret/mosq/" + version
            mosquitto_pub(self.broker.port(), topic, "hello " + version, qos=1, version=version, retain=True)
            sub = MosquittoSub(self.broker.port(), topic, qos=1, version=version, count=1).start()
            self.on_teardown(sub.stop)
            self.assertEqual(sub.next_message(), (topic, "1", "1", "hello " + version))
            self.assertEqual(sub.wait_exit(), 0)

    def test_newer_retained_message_replaces_the_older(self):
        pub = self.client()
        pub.publish("ret/b", b"one", qos=1, retain=True)
        pub.publish("ret/b", b"two", qos=1, retain=True)
        sub = self.client()
        sub.subscribe("ret/#", qos=1)
        self.assertEqual(sub.next_message().payload, b"two")
        sub.expect_no_message(0.3)

    def test_empty_payload_clears_the_retained_message(self):
        pub = self.client()
        pub.publish("ret/c", b"soon gone", qos=1, retain=True)
        pub.publish("ret/c", b"", qos=1, retain=True)
        # A retained message on another topic proves the subscription's retained messages were sent.
        pub.publish("ret/marker", b"marker", qos=1, retain=True)
        sub = self.client()
        sub.subscribe("ret/#", qos=1)
        self.assertEqual(sub.next_message().topic, "ret/marker")
        sub.expect_no_message(0.3)

    def test_clearing_with_mosquitto_pub_null_message(self):
        mosquitto_pub(self.broker.port(), "ret/d", "x", qos=1, retain=True)
        mosquitto_pub(self.broker.port(), "ret/d", None, qos=1, retain=True)
        mosquitto_pub(self.broker.port(), "ret/marker2", "m", qos=1, retain=True)
        sub = self.client(4)
        sub.subscribe("ret/#", qos=1)
        self.assertEqual(sub.next_message().topic, "ret/marker2")
        sub.expect_no_message(0.3)

    def test_live_delivery_clears_the_retain_flag(self):
        sub = self.client()
        sub.subscribe("ret/live", qos=1)
        pub = self.client()
        pub.publish("ret/live", b"now", qos=1, retain=True)
        m = sub.next_message()
        self.assertEqual(m.payload, b"now")
        self.assertFalse(m.retain)

    def test_retain_as_published_keeps_the_flag_on_live_delivery(self):
        """[MQTT-3.3.1-13]: Retain As Published keeps the RETAIN flag of live messages."""
        sub = self.client()
        sub.subscribe("ret/rap", qos=1, retain_as_published=True)
        pub = self.client()
        pub.publish("ret/rap", b"now", qos=1, retain=True)
        self.assertTrue(sub.next_message().retain)

    def test_retain_handling_2_sends_no_retained_messages(self):
        """[MQTT-3.3.1-11]: retain handling 2 sends no retained messages at subscribe time."""
        pub = self.client()
        pub.publish("ret/rh/x", b"old", qos=1, retain=True)
        sub = self.client()
        sub.subscribe("ret/rh/#", qos=1, retain_handling=2)
        pub.publish("ret/rh/y", b"new", qos=1)
        self.assertEqual(sub.next_message().payload, b"new")
        sub.expect_no_message(0.3)

    def test_retain_handling_1_sends_only_for_a_new_subscription(self):
        """[MQTT-3.3.1-10]."""
        pub = self.client()
        pub.publish("ret/rh1", b"old", qos=1, retain=True)
        sub = self.client()
        sub.subscribe("ret/rh1", qos=1, retain_handling=1)
        self.assertEqual(sub.next_message().payload, b"old")
        sub.subscribe("ret/rh1", qos=1, retain_handling=1)  # exists already: nothing again
        pub.publish("ret/rh1", b"live", qos=1)
        self.assertEqual(sub.next_message().payload, b"live")


if __name__ == "__main__":
    main()
