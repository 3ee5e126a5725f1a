#!/usr/bin/python3
"""No acknowledged message is lost (issue 2, "Bad input"): ten QoS 1 Paho publishers publish as
fast as their in-flight windows allow into one QoS 1 Paho subscriber; every message the broker
acknowledged (PUBACK) must reach the subscriber. Mosquitto 2.0.11 drops up to 31 % here. Run with
the default limits and with a small per-session queue (max_queued_messages = 50), which forces
the broker's queue-full policy (backpressure on the publishers) to do the work."""

import threading
import time

from mqtt_clients import PahoClient
from tollgate_fixture import BrokerTestCase, main

PUBLISHERS = 10
PER_PUBLISHER = 500
DEADLINE = 90.0  # seconds for all messages to arrive


class NoLossTestBase(BrokerTestCase):
    version = 4

    def run_fan_in(self, qos=1):
        sub = PahoClient(self.broker.port(), version=self.version)
        self.on_teardown(sub.close)
        sub.connect()
        self.assertEqual(sub.subscribe("fanin/#", qos=qos), [qos])
        publishers = []
        for i in range(PUBLISHERS):
            p = PahoClient(self.broker.port(), version=self.version)
            p.client.max_inflight_messages_set(100)
            self.on_teardown(p.close)
            p.connect()
            publishers.append(p)

        acked = {}
        errors = []

        def publish_all(index, client):
            try:
                mids = [(client.publish("fanin/%d" % index, b"%d:%d" % (index, n), qos=qos, wait=False), n)
                        for n in range(PER_PUBLISHER)]
                for mid, n in mids:
                    client.wait_published(mid, timeout=DEADLINE)
                acked[index] = PER_PUBLISHER
            except Exception as e:  # reported below, with what was acknowledged
                errors.append("publisher %d: %s" % (index, e))

        started = time.monotonic()
        threads = [threading.Thread(target=publish_all, args=(i, p)) for i, p in enumerate(publishers)]
        for t in threads:
            t.start()
        received = {}
        arrivals = []
        duplicates = 0
        total = PUBLISHERS * PER_PUBLISHER
        while len(received) < total:
            remaining = DEADLINE - (time.monotonic() - started)
            if remaining <= 0:
                break
            try:
                m = sub.next_message(timeout=remaining)
            except AssertionError:
                break
            key = m.payload
            if key in received:
                duplicates += 1 if qos == 2 else 0
            else:
                arrivals.append(key)
            received[key] = m.qos
        for t in threads:
            t.join(DEADLINE)
        self.assertEqual(errors, [], "publishers were not acknowledged")
        missing = [b"%d:%d" % (i, n) for i in range(PUBLISHERS) for n in range(PER_PUBLISHER)
                   if b"%d:%d" % (i, n) not in received]
        self.assertEqual(len(missing), 0, "%d of %d acknowledged messages never arrived (first: %r)" %
                         (len(missing), total, missing[:5]))
        self.assertEqual(duplicates, 0, "QoS 2 delivered duplicates")
        # [MQTT-4.6.0-6]: messages of one publisher on one topic arrive in the order published.
        last = {}
        for key in arrivals:
            index, n = (int(x) for x in key.split(b":"))
            self.assertGreater(n, last.get(index, -1), "publisher %d: %d arrived after %d" %
                               (index, n, last.get(index, -1)))
            last[index] = n


class NoLossDefaultLimitsTest(NoLossTestBase):
    def test_ten_qos1_publishers_one_qos1_subscriber_v311(self):
        self.version = 4
        self.run_fan_in(1)

    def test_ten_qos1_publishers_one_qos1_subscriber_v5(self):
        self.version = 5
        self.run_fan_in(1)

    def test_ten_qos2_publishers_one_qos2_subscriber_v5(self):
        self.version = 5
        self.run_fan_in(2)


class NoLossSmallQueueTest(NoLossTestBase):
    def broker_options(self):
        return {"limits": {"max_queued_messages": 50, "max_inflight": 10}}

    def test_small_queue_forces_backpressure_not_loss_v311(self):
        self.version = 4
        self.run_fan_in(1)

    def test_small_queue_forces_backpressure_not_loss_v5(self):
        self.version = 5
        self.run_fan_in(1)


if __name__ == "__main__":
    main()
