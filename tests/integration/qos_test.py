#!/usr/bin/python3
"""QoS 0, 1 and 2 end to end over TCP with real clients: mosquitto_pub/mosquitto_sub (-V mqttv311
and -V mqttv5) and Paho (MQTT 3.1.1 and 5), every combination of client and QoS a separate test.
Also cross-version delivery (a 3.1.1 publisher to a 5 subscriber and back) and QoS downgrade to
the subscription's maximum ([MQTT-3.8.4-8])."""


from mqtt_clients import MosquittoSub, PahoClient, mosquitto_pub
from tollgate_fixture import BrokerTestCase, main

VERSIONS = {"v311": ("mqttv311", 4), "v5": ("mqttv5", 5)}


class MosquittoQosTest(BrokerTestCase):
    def check_mosquitto(self, version, qos):
        cli_version, _ = VERSIONS[version]
        topic = "qos/mosquitto/%s/%d" % (version, qos)
        sub = MosquittoSub(self.broker.port(), topic, qos=qos, version=cli_version, count=3).start()
        self.on_teardown(sub.stop)
        for i in range(3):
            mosquitto_pub(self.broker.port(), topic, "m%d" % i, qos=qos, version=cli_version)
        got = [sub.next_message() for _ in range(3)]
        self.assertEqual([g[3] for g in got], ["m0", "m1", "m2"])  # order kept per publisher
        for g in got:
            self.assertEqual(g[0], topic)
            self.assertEqual(int(g[1]), qos)
            self.assertEqual(g[2], "0")  # not retained: live delivery
        self.assertEqual(sub.wait_exit(), 0)


class PahoQosTest(BrokerTestCase):
    def check_paho(self, version, qos):
        _, protocol = VERSIONS[version]
        topic = "qos/paho/%s/%d" % (version, qos)
        sub = PahoClient(self.broker.port(), version=protocol)
        pub = PahoClient(self.broker.port(), version=protocol)
        self.on_teardown(sub.close)
        self.on_teardown(pub.close)
        sub.connect()
        pub.connect()
        self.assertEqual(sub.subscribe(topic, qos=qos), [qos])
        payloads = [("payload-%d" % i).encode() * (i + 1) for i in range(20)]
        for p in payloads:
            pub.publish(topic, p, qos=qos)
        got = [sub.next_message() for _ in payloads]
        self.assertEqual([m.payload for m in got], payloads)
        for m in got:
            self.assertEqual(m.topic, topic)
            self.assertEqual(m.qos, qos)
            self.assertFalse(m.retain)
        sub.expect_no_message(0.3)  # exactly once: nothing duplicated
        pub.disconnect()
        sub.disconnect()


def _add_tests():
    for version in VERSIONS:
        for qos in (0, 1, 2):
            setattr(MosquittoQosTest, "test_mosquitto_%s_qos%d" % (version, qos),
                    lambda self, v=version, q=qos: self.check_mosquitto(v, q))
            setattr(PahoQosTest, "test_paho_%s_qos%d" % (version, qos),
                    lambda self, v=version, q=qos: self.check_paho(v, q))


_add_tests()


class CrossVersionTest(BrokerTestCase):
    def test_v311_publisher_to_v5_subscriber_and_back(self):
        a = PahoClient(self.broker.port(), version=4)
        b = PahoClient(self.broker.port(), version=5)
        self.on_teardown(a.close)
        self.on_teardown(b.close)
        a.connect()
        b.connect()
        a.subscribe("x/to-a", qos=2)
        b.subscribe("x/to-b", qos=2)
        a.publish("x/to-b", b"from 3.1.1", qos=2)
        b.publish("x/to-a", b"from 5", qos=2)
        self.assertEqual(b.next_message().payload, b"from 3.1.1")
        self.assertEqual(a.next_message().payload, b"from 5")

    def test_delivery_qos_is_the_minimum_of_publish_and_subscription(self):
        """[MQTT-3.8.4-8]: the QoS of a delivered message is min(published QoS, granted QoS)."""
        sub = PahoClient(self.broker.port(), version=5)
        pub = PahoClient(self.broker.port(), version=5)
        self.on_teardown(sub.close)
        self.on_teardown(pub.close)
        sub.connect()
        pub.connect()
        sub.subscribe("down/1", qos=1)
        pub.publish("down/1", b"two", qos=2)
        self.assertEqual(sub.next_message().qos, 1)
        pub.publish("down/1", b"zero", qos=0)
        self.assertEqual(sub.next_message().qos, 0)

    def test_wildcard_subscriptions_match(self):
        sub = PahoClient(self.broker.port(), version=5)
        pub = PahoClient(self.broker.port(), version=4)
        self.on_teardown(sub.close)
        self.on_teardown(pub.close)
        sub.connect()
        pub.connect()
        sub.subscribe("home/+/temp", qos=1)
        sub.subscribe("office/#", qos=1)
        for topic in ("home/kitchen/temp", "home/kitchen/humidity", "office", "office/a/b", "homes/x/temp"):
            pub.publish(topic, topic.encode(), qos=1)
        got = sorted(sub.next_message().topic for _ in range(3))
        self.assertEqual(got, ["home/kitchen/temp", "office", "office/a/b"])
        sub.expect_no_message(0.3)


if __name__ == "__main__":
    main()
