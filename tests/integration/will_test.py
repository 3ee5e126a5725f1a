#!/usr/bin/python3
"""Wills with Paho: published when the network connection is lost ([MQTT-3.1.2-8]), not after a
normal DISCONNECT ([MQTT-3.1.2-10]), published after DISCONNECT 0x04, Will Delay Interval
(MQTT 5 §3.1.3.2.2: not before the delay, not at all if the session reconnects in time, at
session end if that comes first), retained wills, and the keep-alive timeout that ends a silent
connection and fires its will ([MQTT-3.1.2-22])."""

import time

from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.reasoncodes import ReasonCodes

import mqtt_wire as w
from mqtt_clients import TIMEOUT, PahoClient
from tollgate_fixture import BrokerTestCase, main


class WillTest(BrokerTestCase):
    def watcher(self, topic="will/#"):
        c = PahoClient(self.broker.port(), version=5)
        self.on_teardown(c.close)
        c.connect()
        c.subscribe(topic, qos=1)
        return c

    def client(self, version=5, client_id=None, clean=True):
        c = PahoClient(self.broker.port(), version=version, client_id=client_id, clean=clean)
        self.on_teardown(c.close)
        return c

    def test_will_is_published_when_the_connection_drops_v311(self):
        watch = self.watcher()
        c = self.client(4).will("will/v311", b"gone", qos=1)
        c.connect()
        c.drop()
        m = watch.next_message()
        self.assertEqual((m.topic, m.payload), ("will/v311", b"gone"))

    def test_will_is_published_when_the_connection_drops_v5(self):
        watch = self.watcher()
        c = self.client(5).will("will/v5", b"gone", qos=1)
        c.connect()
        c.drop()
        m = watch.next_message()
        self.assertEqual((m.topic, m.payload, m.qos), ("will/v5", b"gone", 1))

    def test_no_will_after_a_normal_disconnect(self):
        watch = self.watcher()
        for version in (4, 5):
            c = self.client(version).will("will/normal", b"must not arrive", qos=1)
            c.connect()
            c.disconnect()
        # A message published afterwards arrives first: the wills, if any, would have been queued
        # before it on the same subscription.
        marker = self.client(5)
        marker.connect()
        marker.publish("will/marker", b"m", qos=1)
        self.assertEqual(watch.next_message().topic, "will/marker")
        watch.expect_no_message(0.3)

    def test_disconnect_with_will_message_0x04_publishes_the_will(self):
        watch = self.watcher()
        c = self.client(5).will("will/x04", b"asked for", qos=1)
        c.connect()
        c.client.disconnect(reasoncode=ReasonCodes(PacketTypes.DISCONNECT, identifier=0x04))
        self.assertEqual(watch.next_message().payload, b"asked for")

    def test_retained_will_is_kept(self):
        c = self.client(4).will("will/retained", b"last words", qos=1, retain=True)
        c.connect()
        c.drop()
        # Published retained: a subscriber arriving later gets it as a retained message.
        watch = self.client(5)
        watch.connect()
        watch.subscribe("will/retained", qos=1)
        m = watch.next_message()
        self.assertEqual((m.payload, m.retain), (b"last words", True))

    def test_will_delay_interval_delays_the_will(self):
        watch = self.watcher()
        c = self.client(5, clean=True).will("will/delayed", b"late", qos=1, delay=2)
        c.connect(session_expiry=60)
        dropped = time.monotonic()
        c.drop()
        m = watch.next_message(timeout=2 + TIMEOUT)
        elapsed = time.monotonic() - dropped
        self.assertEqual(m.payload, b"late")
        self.assertGreaterEqual(elapsed, 1.9, "will sent %.2f s after the drop, delay was 2 s" % elapsed)

    def test_will_is_not_sent_if_the_session_reconnects_within_the_delay(self):
        watch = self.watcher()
        client_id = "will-reconnects"
        c = self.client(5, client_id=client_id).will("will/reconnected", b"must not arrive", qos=1, delay=2)
        c.connect(session_expiry=60)
        c.drop()
        again = self.client(5, client_id=client_id, clean=False)
        again.connect(session_expiry=60)
        self.assertTrue(again.session_present())
        # Bounded wait past the 2 s delay: nothing may arrive.
        watch.expect_no_message(2.5)

    def test_will_is_sent_at_session_end_when_that_comes_before_the_delay(self):
        watch = self.watcher()
        c = self.client(5).will("will/session-end", b"session over", qos=1, delay=60)
        c.connect(session_expiry=1)
        dropped = time.monotonic()
        c.drop()
        m = watch.next_message(timeout=1 + TIMEOUT)
        self.assertEqual(m.payload, b"session over")
        self.assertLess(time.monotonic() - dropped, 30, "the will waited for its delay, not the session end")

    def test_keep_alive_timeout_closes_a_silent_client_and_fires_its_will(self):
        """[MQTT-3.1.2-22]: no packet within 1.5 x Keep Alive -> close as if the network failed."""
        watch = self.watcher()
        raw = w.RawClient(self.broker.port())
        self.on_teardown(raw.close)
        raw.connect("silent", version=5, keepalive=1, will=("will/silent", b"timed out", 1, False))
        started = time.monotonic()
        raw.expect_closed_maybe_disconnect([0x8D], timeout=TIMEOUT)  # 0x8D: Keep Alive timeout
        elapsed = time.monotonic() - started
        self.assertGreaterEqual(elapsed, 1.0)
        self.assertEqual(watch.next_message().payload, b"timed out")


if __name__ == "__main__":
    main()
