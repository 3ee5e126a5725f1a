#!/usr/bin/python3
"""Every QoS level over every transport with real clients: TCP (see also qos_test.py), TLS
(mosquitto_pub/mosquitto_sub --cafile, Paho tls_set), WebSocket and WebSocket over TLS (Paho
transport="websockets", MQTT.js over ws:// and wss://), with a CA made by scripts/gen-test-certs.
mTLS: a client certificate signed by the CA is accepted; none, or one from another CA, is
refused; "request" accepts clients without a certificate."""

import socket
import ssl

from mqtt_clients import ClientError, MosquittoSub, PahoClient, mosquitto_pub, run_node
from tollgate_fixture import BrokerTestCase, cert, main, tcp_listener, tls_listener, ws_listener

WS_PATH = "/mqtt"


def all_listeners():
    return [tcp_listener("mqtt"), tls_listener("tls"), ws_listener("ws", WS_PATH), tls_listener("wss", "wss")]


def paho_transport(name):
    """(transport, tls options) for a listener name."""
    ca = {"ca": cert("ca.crt")}
    return {"mqtt": ("tcp", None), "tls": ("tcp", ca), "ws": ("websockets", None), "wss": ("websockets", ca)}[name]


class AllTransportsTest(BrokerTestCase):
    def broker_options(self):
        return {"listeners": all_listeners()}

    def roundtrip_paho(self, listener, version, qos):
        transport, tls = paho_transport(listener)
        port = self.broker.port(listener)
        sub = PahoClient(port, version=version, transport=transport, tls=tls, ws_path=WS_PATH, host="localhost")
        pub = PahoClient(port, version=version, transport=transport, tls=tls, ws_path=WS_PATH, host="localhost")
        self.on_teardown(sub.close)
        self.on_teardown(pub.close)
        sub.connect()
        pub.connect()
        topic = "transport/%s/v%d/q%d" % (listener, version, qos)
        self.assertEqual(sub.subscribe(topic, qos=qos), [qos])
        payloads = [b"%s-%d" % (listener.encode(), i) for i in range(5)] + [b"\x00" * 70000]
        for p in payloads:
            pub.publish(topic, p, qos=qos)
        got = [sub.next_message() for _ in payloads]
        self.assertEqual([m.payload for m in got], payloads)
        self.assertEqual({m.qos for m in got}, {qos})
        pub.disconnect()
        sub.disconnect()

    def test_mosquitto_clients_over_tls_every_qos(self):
        port = self.broker.port("tls")
        tls = ["--cafile", cert("ca.crt")]
        for version in ("mqttv311", "mqttv5"):
            for qos in (0, 1, 2):
                topic = "tls/mosq/%s/%d" % (version, qos)
                sub = MosquittoSub(port, topic, qos=qos, version=version, count=1,
                                   extra=tls + ["-h", "localhost"]).start()
                self.on_teardown(sub.stop)
                mosquitto_pub(port, topic, "over tls", qos=qos, version=version, extra=tls + ["-h", "localhost"])
                self.assertEqual(sub.next_message(), (topic, str(qos), "0", "over tls"))
                self.assertEqual(sub.wait_exit(), 0)

    def test_tls_rejects_a_client_that_does_not_trust_the_server(self):
        """A client with an unrelated CA must fail the handshake (the server certificate is verified)."""
        c = PahoClient(self.broker.port("tls"), version=5, tls={"ca": cert("other-ca.crt")}, host="localhost")
        with self.assertRaises((ssl.SSLError, OSError)):
            c.connect()
        c.close()

    def test_plaintext_mqtt_on_the_tls_port_is_closed(self):
        s = socket.create_connection(("127.0.0.1", self.broker.port("tls")), timeout=10)
        try:
            s.sendall(b"\x10\x0c\x00\x04MQTT\x04\x02\x00\x3c\x00\x00")
            s.settimeout(10)
            data = b""
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
            self.assertFalse(data.startswith(b"\x20"), "a CONNACK came back over plaintext on the TLS port")
        except ConnectionResetError:
            pass
        finally:
            s.close()

    def test_mqttjs_over_websocket_v311_and_v5(self):
        for version in (4, 5):
            code, out = run_node("mqttjs_roundtrip.js", ["ws://127.0.0.1:%d%s" % (self.broker.port("ws"), WS_PATH),
                                                          version])
            self.assertEqual(code, 0, out)
            self.assertIn("OK", out)

    def test_mqttjs_over_secure_websocket_v311_and_v5(self):
        for version in (4, 5):
            code, out = run_node("mqttjs_roundtrip.js",
                                 ["wss://localhost:%d%s" % (self.broker.port("wss"), WS_PATH), version,
                                  cert("ca.crt")])
            self.assertEqual(code, 0, out)
            self.assertIn("OK", out)

    def test_websocket_on_a_wrong_path_is_refused(self):
        c = PahoClient(self.broker.port("ws"), version=5, transport="websockets", ws_path="/not-mqtt")
        with self.assertRaises((ClientError, OSError, ValueError)):
            c.connect()
        c.close()


def _add_paho_tests():
    for listener in ("mqtt", "tls", "ws", "wss"):
        for version in (4, 5):
            for qos in (0, 1, 2):
                name = "test_paho_%s_v%d_qos%d" % ({"mqtt": "tcp"}.get(listener, listener), version, qos)
                setattr(AllTransportsTest, name,
                        lambda self, l=listener, v=version, q=qos: self.roundtrip_paho(l, v, q))


_add_paho_tests()


class MutualTlsTest(BrokerTestCase):
    def broker_options(self):
        return {"listeners": [tls_listener("mtls", client_certificates="require"),
                              tls_listener("mtls-wss", "wss", client_certificates="require"),
                              tls_listener("optional", client_certificates="request")]}

    def test_client_certificate_from_the_ca_is_accepted(self):
        for version in (4, 5):
            c = PahoClient(self.broker.port("mtls"), version=version, host="localhost",
                           tls={"ca": cert("ca.crt"), "cert": cert("client.crt"), "key": cert("client.key")})
            self.on_teardown(c.close)
            c.connect()
            c.subscribe("mtls/t", qos=1)
            c.publish("mtls/t", b"hi", qos=1)
            self.assertEqual(c.next_message().payload, b"hi")
            c.disconnect()

    def test_mosquitto_clients_with_a_client_certificate(self):
        port = self.broker.port("mtls")
        tls = ["--cafile", cert("ca.crt"), "--cert", cert("client.crt"), "--key", cert("client.key"),
               "-h", "localhost"]
        sub = MosquittoSub(port, "mtls/mosq", qos=2, version="mqttv5", count=1, extra=tls).start()
        self.on_teardown(sub.stop)
        mosquitto_pub(port, "mtls/mosq", "with cert", qos=2, version="mqttv5", extra=tls)
        self.assertEqual(sub.next_message()[3], "with cert")

    def test_client_certificate_over_wss(self):
        c = PahoClient(self.broker.port("mtls-wss"), version=5, transport="websockets", host="localhost",
                       tls={"ca": cert("ca.crt"), "cert": cert("client.crt"), "key": cert("client.key")})
        self.on_teardown(c.close)
        c.connect()
        c.disconnect()

    def assert_refused(self, port, tls):
        c = PahoClient(port, version=5, host="localhost", tls=tls)
        try:
            with self.assertRaises((ssl.SSLError, OSError, ClientError)):
                # Under TLS 1.3 the client may finish its handshake before the server's verdict,
                # so the refusal may surface at CONNECT instead of in the handshake.
                c.connect()
        finally:
            c.close()

    def test_no_client_certificate_is_refused(self):
        self.assert_refused(self.broker.port("mtls"), {"ca": cert("ca.crt")})

    def test_client_certificate_from_another_ca_is_refused(self):
        self.assert_refused(self.broker.port("mtls"), {"ca": cert("ca.crt"), "cert": cert("rogue-client.crt"),
                                                       "key": cert("rogue-client.key")})

    def test_request_mode_accepts_clients_without_a_certificate(self):
        c = PahoClient(self.broker.port("optional"), version=5, host="localhost", tls={"ca": cert("ca.crt")})
        self.on_teardown(c.close)
        c.connect()
        c.disconnect()

    def test_request_mode_still_refuses_a_certificate_from_another_ca(self):
        self.assert_refused(self.broker.port("optional"), {"ca": cert("ca.crt"), "cert": cert("rogue-client.crt"),
                                                           "key": cert("rogue-client.key")})


if __name__ == "__main__":
    main()
