#!/usr/bin/python3
"""Persistent sessions with Paho: a subscriber disconnects, messages are published, it
reconnects and receives them (3.1.1 clean session 0, [MQTT-3.1.2-4]/[MQTT-3.1.2-5]; 5 clean
start 0 with a Session Expiry Interval), Session Present ([MQTT-3.2.2-2]), a clean start
discards the session ([MQTT-3.1.2-4]), an expired session is gone, and session takeover
([MQTT-3.1.4-3]: the existing connection is closed; MQTT 5 tells it 0x8E)."""

import mqtt_wire as w
from mqtt_clients import PahoClient
from tollgate_fixture import BrokerTestCase, main


class PersistentSessionTest(BrokerTestCase):
    def client(self, version, client_id=None, clean=True):
        c = PahoClient(self.broker.port(), version=version, client_id=client_id, clean=clean)
        self.on_teardown(c.close)
        return c

    def offline_delivery(self, version, qos):
        client_id = "persist-v%d-q%d" % (version, qos)
        sub = self.client(version, client_id, clean=False if version == 4 else True)
        sub.connect(session_expiry=300 if version == 5 else None)
        sub.subscribe("persist/t", qos=qos)
        sub.disconnect()
        pub = self.client(5)
        pub.connect()
        payloads = [b"offline-%d" % i for i in range(10)]
        for p in payloads:
            pub.publish("persist/t", p, qos=qos)
        again = self.client(version, client_id, clean=False)
        again.connect(session_expiry=300 if version == 5 else None)
        self.assertTrue(again.session_present(), "Session Present must be 1 for a resumed session")
        got = [again.next_message().payload for _ in payloads]
        self.assertEqual(got, payloads)
        again.expect_no_message(0.3)

    def test_v311_qos1_messages_queued_while_offline_are_delivered(self):
        self.offline_delivery(4, 1)

    def test_v311_qos2_messages_queued_while_offline_are_delivered(self):
        self.offline_delivery(4, 2)

    def test_v5_qos1_messages_queued_while_offline_are_delivered(self):
        self.offline_delivery(5, 1)

    def test_v5_qos2_messages_queued_while_offline_are_delivered(self):
        self.offline_delivery(5, 2)

    def test_clean_start_discards_the_session(self):
        sub = self.client(5, "discard-me")
        sub.connect(session_expiry=300)
        sub.subscribe("persist/discard", qos=1)
        sub.disconnect()
        fresh = self.client(5, "discard-me", clean=True)
        fresh.connect(session_expiry=300)
        self.assertFalse(fresh.session_present())
        pub = self.client(5)
        pub.connect()
        pub.publish("persist/discard", b"x", qos=1)
        fresh.expect_no_message(0.5)  # the old subscription went with the old session

    def test_session_with_expiry_zero_ends_at_disconnect(self):
        """MQTT 5: Session Expiry Interval 0 (absent) -> the session ends with the connection."""
        sub = self.client(5, "short-lived")
        sub.connect()
        sub.subscribe("persist/short", qos=1)
        sub.disconnect()
        again = self.client(5, "short-lived", clean=False)
        again.connect()
        self.assertFalse(again.session_present())

    def test_unacknowledged_qos1_is_redelivered_with_dup_after_reconnect(self):
        """[MQTT-4.4.0-1]: on reconnect with a kept session, unacknowledged PUBLISH packets are resent
        (DUP set, [MQTT-3.3.1-1])."""
        raw = w.RawClient(self.broker.port())
        self.on_teardown(raw.close)
        raw.connect("redeliver", version=5, clean=True, props=w.prop_u32(w.PROP_SESSION_EXPIRY, 300))
        raw.send(w.subscribe(1, [("persist/dup", 1)], version=5))
        raw.expect(w.SUBACK)
        pub = self.client(5)
        pub.connect()
        pub.publish("persist/dup", b"ack me later", qos=1)
        first = raw.expect(w.PUBLISH)
        self.assertEqual(first.flags & 0x08, 0, "first delivery must not have DUP")
        raw.close()  # no PUBACK
        raw2 = w.RawClient(self.broker.port())
        self.on_teardown(raw2.close)
        connack = raw2.connect("redeliver", version=5, clean=False, props=w.prop_u32(w.PROP_SESSION_EXPIRY, 300))
        self.assertEqual(connack.body[0] & 0x01, 1, "Session Present")
        again = raw2.expect(w.PUBLISH)
        self.assertEqual(again.flags & 0x08, 0x08, "redelivery must set DUP")
        topic, packet_id, _, payload = w.parse_publish(again, 5)
        self.assertEqual((topic, payload), ("persist/dup", b"ack me later"))
        self.assertEqual(packet_id, w.parse_publish(first, 5)[1], "[MQTT-4.4.0-1]: the same packet identifier")
        raw2.send(w.puback(packet_id))


class TakeoverTest(BrokerTestCase):
    def test_second_connection_with_the_same_client_id_takes_over_v5(self):
        """[MQTT-3.1.4-3]: the server sends the old v5 connection DISCONNECT 0x8E and closes it."""
        old = w.RawClient(self.broker.port())
        self.on_teardown(old.close)
        old.connect("same-id", version=5)
        new = w.RawClient(self.broker.port())
        self.on_teardown(new.close)
        new.connect("same-id", version=5)
        old.expect_disconnect_or_close(5, 0x8E)
        new.send(b"\xc0\x00")  # PINGREQ: the new connection works
        new.expect(w.PINGRESP)

    def test_second_connection_with_the_same_client_id_takes_over_v311(self):
        """[MQTT-3.1.4-3]: the old 3.1.1 connection is closed."""
        old = w.RawClient(self.broker.port())
        self.on_teardown(old.close)
        old.connect("same-id-311", version=4)
        new = w.RawClient(self.broker.port())
        self.on_teardown(new.close)
        new.connect("same-id-311", version=4)
        old.expect_closed()
        new.send(b"\xc0\x00")
        new.expect(w.PINGRESP)


if __name__ == "__main__":
    main()
