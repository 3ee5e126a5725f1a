#!/usr/bin/python3
"""Graceful shutdown: on SIGTERM (and SIGINT) tollgate stops accepting, sends MQTT 5 clients
DISCONNECT 0x8B (Server shutting down), closes MQTT 3.1.1 clients, and exits 0."""

import signal
import socket

import mqtt_wire as w
from mqtt_clients import PahoClient
from tollgate_fixture import Broker, main, tcp_listener, ws_listener

import unittest


class ShutdownTest(unittest.TestCase):
    def setUp(self):
        self.broker = Broker(listeners=[tcp_listener(), ws_listener()])
        self.broker.start()
        self.addCleanup(self.broker.cleanup)

    def shutdown_with(self, sig):
        v5 = w.RawClient(self.broker.port())
        v311 = w.RawClient(self.broker.port())
        self.addCleanup(v5.close)
        self.addCleanup(v311.close)
        v5.connect("shutdown-v5", version=5)
        v5.send(w.subscribe(1, [("s/#", 1)], version=5))
        v5.expect(w.SUBACK)
        v311.connect("shutdown-v311", version=4)
        ws = PahoClient(self.broker.port("ws"), version=5, transport="websockets")
        self.addCleanup(ws.close)
        ws.connect()
        self.broker.process.send_signal(sig)
        v5.expect_disconnect_or_close(5, 0x8B)
        v311.expect_closed()
        self.assertTrue(ws.disconnected.wait(10), "the WebSocket client was not disconnected")
        self.assertEqual(self.broker.process.wait(timeout=15), 0, self.broker.log_tail())
        self.broker.kill()
        # Nothing listens any more.
        with self.assertRaises(OSError):
            socket.create_connection(("127.0.0.1", self.broker.port()), timeout=2).close()

    def test_sigterm_sends_v5_clients_disconnect_0x8b_and_exits_0(self):
        self.shutdown_with(signal.SIGTERM)

    def test_sigint_sends_v5_clients_disconnect_0x8b_and_exits_0(self):
        self.shutdown_with(signal.SIGINT)

    def test_shutdown_with_a_client_that_stopped_reading(self):
        """A subscriber whose socket is full must not hold the shutdown past its deadline."""
        slow = w.RawClient(self.broker.port())
        self.addCleanup(slow.close)
        slow.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        slow.connect("slow-reader", version=5)
        slow.send(w.subscribe(1, [("flood/#", 0)], version=5))
        slow.expect(w.SUBACK)
        pub = w.RawClient(self.broker.port())
        self.addCleanup(pub.close)
        pub.connect("flooder", version=5)
        chunk = b"".join(w.publish("flood/x", b"y" * 1000, version=5) for _ in range(100))
        for _ in range(20):
            pub.send(chunk)
        pub.send(b"\xc0\x00")
        pub.expect(w.PINGRESP)  # the broker has read every PUBLISH before our PINGREQ
        self.broker.process.send_signal(signal.SIGTERM)
        code = self.broker.process.wait(timeout=15)  # the shutdown deadline is 5 s
        self.assertEqual(code, 0, self.broker.log_tail())
        self.broker.kill()


if __name__ == "__main__":
    main()
