"""Authorization of what a token does not cover, with real clients against the real tollgate (issue 5,
docs/auth.md "Scopes to topics" and "Session lifetime"): `$share` subscriptions, wills, retained
messages, the MQTT 3.1.1 unauthorized-PUBLISH policy ([mqtt] v311_unauthorized_publish), and MQTT.js
over WebSocket with a token.

- `$share/g/f` is judged on `f`: outside the scope, SUBACK 0x87 (v5) / 0x80 (3.1.1) [MQTT-3.9.3-*].
- A will is authorized when it is published (the principal of the session at that moment): a
  CONNECT with a will outside the scope is accepted, and the will is never published
  ([MQTT-3.1.2-8] lets the server refuse a PUBLISH it does not authorize, §5.4.2).
- A retained message is stored only after its PUBLISH was authorized ([MQTT-3.3.1-5] applies to an
  accepted PUBLISH): one outside the publisher's scope is never stored; one stored by an authorized
  publisher is delivered to any subscriber whose filter is authorized ([MQTT-3.3.1-9]).
- MQTT 3.1.1 has no negative PUBACK: an unauthorized PUBLISH is acknowledged and dropped, or the
  connection is closed, by configuration [MQTT-3.3.5-2].
"""

import time

import mqtt_wire as w
from auth_test import TokenClientMixin, auth_config_text
from mqtt_clients import QUIET, PahoClient
from tollgate_fixture import BrokerTestCase, main, tcp_listener, ws_listener

NOT_AUTHORIZED = 0x87
V311_SUBACK_FAILURE = 0x80


def suback_codes(p, version):
    """Reason codes / return codes of a SUBACK."""
    body = p.body[2:]
    if version == 5:
        _, offset = w.parse_properties(p.body, 2)
        body = p.body[offset:]
    return list(body)


class AuthzBase(TokenClientMixin, BrokerTestCase):
    mqtt_policies = {}

    def broker_options(self):
        return {"config_text": auth_config_text(mqtt=self.mqtt_policies,
                                                listeners=[tcp_listener(), ws_listener()])}

    def connect_with(self, scopes, client_id, version=5, **kw):
        client = self.register(scopes, ttl=3600)
        tok = self.token(client, " ".join(scopes))
        if version == 5:
            c, ack = self.raw_connect_v5(client_id, username="oauth2", password=tok.encode(), **kw)
        else:
            c, ack = self.raw_connect_v311(client_id, tok.encode(), **kw)
        self.assertEqual(w.connack_reason(ack), 0)
        return c

    def paho_with(self, scopes, version=5):
        client = self.register(scopes, ttl=3600)
        p = PahoClient(self.broker.port(), version=version)
        p.client.username_pw_set("oauth2", self.token(client, " ".join(scopes)))
        self.on_teardown(p.close)
        p.connect()
        return p

    def ping(self, c):
        c.send(w.packet(0xC0, b""))
        c.expect(w.PINGRESP)


class SharedSubscriptions(AuthzBase):
    def test_share_outside_scope_is_0x87_v5_MQTT_4_8_2(self):
        c = self.connect_with(["mqtt:sub:a/#"], "share-v5")
        c.send(w.subscribe(1, [("$share/g/b/x", 1), ("$share/g/a/x", 1), ("$share/evil/#", 1),
                               ("$share/g/a/#", 1)], version=5))
        self.assertEqual(suback_codes(c.expect(w.SUBACK), 5), [NOT_AUTHORIZED, 1, NOT_AUTHORIZED, 1])

    def test_share_outside_scope_is_0x80_v311_MQTT_3_9_3_2(self):
        c = self.connect_with(["mqtt:sub:a/#"], "share-311", version=4)
        c.send(w.subscribe(1, [("$share/g/b/x", 1), ("$share/g/a/x", 1)], version=4))
        self.assertEqual(suback_codes(c.expect(w.SUBACK), 4), [V311_SUBACK_FAILURE, 1])

    def test_share_outside_scope_paho_and_no_delivery(self):
        sub = self.paho_with(["mqtt:sub:a/#"])
        self.assertEqual(sub.subscribe("$share/g/b/#", qos=1), [NOT_AUTHORIZED])
        self.assertEqual(sub.subscribe("$share/g/a/#", qos=1), [1])
        pub = self.connect_with(["mqtt:pub:#"], "share-pub")
        self.assertIn(self.puback_reason(pub, "b/secret", 1), (0x00, 0x10))
        self.assertIn(self.puback_reason(pub, "a/public", 2), (0x00,))
        msg = sub.next_message()
        self.assertEqual(msg.topic, "a/public")  # b/secret never arrived before it
        sub.expect_no_message(QUIET)


class Wills(AuthzBase):
    def test_will_outside_scope_accepted_at_connect_never_published(self):
        watch = self.paho_with(["mqtt:sub:#"])
        self.assertEqual(watch.subscribe("#", qos=1), [1])
        c = self.connect_with(["mqtt:pub:a/#"], "will-out", will=("b/will", b"forbidden", 1, False))
        c.close()  # network loss: the will would be published [MQTT-3.1.2-8]
        # Control on the same watcher, after it: a will inside the scope is published.
        c2 = self.connect_with(["mqtt:pub:a/#"], "will-in", will=("a/will", b"allowed", 1, False))
        c2.close()
        msg = watch.next_message()
        self.assertEqual((msg.topic, msg.payload), ("a/will", b"allowed"))
        watch.expect_no_message(QUIET)

    def test_will_judged_by_the_principal_at_publication_after_reauth_narrowing(self):
        watch = self.paho_with(["mqtt:sub:#"])
        self.assertEqual(watch.subscribe("#", qos=1), [1])
        client = self.register(["mqtt:pub:a/#", "mqtt:pub:a/b"], ttl=3600)
        wide = self.token(client, "mqtt:pub:a/#")
        narrow = self.token(client, "mqtt:pub:a/b")
        c, ack = self.raw_connect_v5("will-narrowed", props=self.auth_props(wide),
                                     will=("a/will", b"narrowed", 1, False))
        self.assertEqual(w.connack_reason(ack), 0)
        c.send(w.packet(0xF0, bytes([0x19]) + w.properties(self.auth_props(narrow))))
        self.assertEqual(c.expect(w.AUTH).body[0], 0x00)
        c.close()
        c2 = self.connect_with(["mqtt:pub:a/#"], "will-control", will=("a/control", b"c", 1, False))
        c2.close()
        msg = watch.next_message()
        self.assertEqual(msg.topic, "a/control")  # a/will (no longer covered) never came
        watch.expect_no_message(QUIET)

    def test_will_to_sys_topic_never_published(self):
        watch = self.paho_with(["mqtt:sub:$SYS/#", "mqtt:sub:a/#"])
        self.assertEqual(watch.subscribe("$SYS/#", qos=1), [1])
        self.assertEqual(watch.subscribe("a/#", qos=1), [1])
        c = self.connect_with(["mqtt:pub:#"], "will-sys", will=("$SYS/fake", b"x", 1, False))
        c.close()
        c2 = self.connect_with(["mqtt:pub:#"], "will-ctl", will=("a/ctl", b"c", 1, False))
        c2.close()
        self.assertEqual(watch.next_message().topic, "a/ctl")
        watch.expect_no_message(QUIET)


class Retained(AuthzBase):
    def test_retained_by_an_authorized_publisher_is_delivered_MQTT_3_3_1_9(self):
        pub = self.connect_with(["mqtt:pub:a/#"], "ret-pub")
        pub.send(w.publish("a/state", b"on", qos=1, packet_id=1, retain=True, version=5))
        self.assertIn(pub.expect(w.PUBACK).body[2:3], (b"", b"\x00", b"\x10"))
        # Another principal, allowed to subscribe to a/# only (not to publish there), receives it.
        sub = self.connect_with(["mqtt:sub:a/#"], "ret-sub-a")
        sub.send(w.subscribe(1, [("a/#", 1)], version=5))
        self.assertEqual(suback_codes(sub.expect(w.SUBACK), 5), [1])
        p = sub.expect(w.PUBLISH)
        topic, _, _, payload = w.parse_publish(p, 5)
        self.assertEqual((topic, payload, p.flags & 1), ("a/state", b"on", 1))
        # A subscriber whose token does not cover the filter gets 0x87 and no retained message.
        other = self.connect_with(["mqtt:sub:z/#"], "ret-sub-z")
        other.send(w.subscribe(1, [("a/#", 1)], version=5))
        self.assertEqual(suback_codes(other.expect(w.SUBACK), 5), [NOT_AUTHORIZED])
        self.ping(other)

    def test_retained_outside_scope_is_never_stored(self):
        pub = self.connect_with(["mqtt:pub:a/#"], "ret-pub-v5")
        pub.send(w.publish("b/state", b"forged", qos=1, packet_id=1, retain=True, version=5))
        self.assertEqual(pub.expect(w.PUBACK).body[2], NOT_AUTHORIZED)
        pub311 = self.connect_with(["mqtt:pub:a/#"], "ret-pub-311", version=4)
        pub311.send(w.publish("b/state311", b"forged", qos=1, packet_id=1, retain=True, version=4))
        pub311.expect(w.PUBACK)  # 3.1.1: acknowledged and dropped (default policy)
        pub.send(w.publish("a/ok", b"fine", qos=1, packet_id=2, retain=True, version=5))
        self.assertIn(pub.expect(w.PUBACK).body[2:3], (b"", b"\x00", b"\x10"))
        # A subscriber allowed to read everything gets only the authorized retained message.
        sub = self.connect_with(["mqtt:sub:#"], "ret-sub")
        sub.send(w.subscribe(1, [("#", 1)], version=5))
        self.assertEqual(suback_codes(sub.expect(w.SUBACK), 5), [1])
        p = sub.expect(w.PUBLISH)
        topic, _, _, payload = w.parse_publish(p, 5)
        self.assertEqual((topic, payload, p.flags & 1), ("a/ok", b"fine", 1))
        self.ping(sub)  # the next packet is the PINGRESP: nothing else was retained


class SubscriptionsFollowTheToken(AuthzBase):
    def test_reauth_narrowing_removes_subscriptions_the_new_token_lacks(self):
        client = self.register(["mqtt:sub:a/#", "mqtt:sub:b/#"], ttl=3600)
        both = self.token(client, "mqtt:sub:a/# mqtt:sub:b/#")
        only_a = self.token(client, "mqtt:sub:a/#")
        c, ack = self.raw_connect_v5("narrow-sub", props=self.auth_props(both))
        self.assertEqual(w.connack_reason(ack), 0)
        c.send(w.subscribe(1, [("a/#", 1), ("b/#", 1)], version=5))
        self.assertEqual(suback_codes(c.expect(w.SUBACK), 5), [1, 1])
        c.send(w.packet(0xF0, bytes([0x19]) + w.properties(self.auth_props(only_a))))
        self.assertEqual(c.expect(w.AUTH).body[0], 0x00)
        self.ping(c)  # the re-authentication is complete, subscriptions judged again
        pub = self.connect_with(["mqtt:pub:#"], "narrow-pub")
        self.assertEqual(self.puback_reason(pub, "b/x", 1), 0x10)  # no subscriber left for b/x
        self.assertEqual(self.puback_reason(pub, "a/x", 2), 0x00)
        p = c.expect(w.PUBLISH)
        self.assertEqual(w.parse_publish(p, 5)[0], "a/x")

    def test_resumed_session_keeps_only_what_the_new_token_grants(self):
        client = self.register(["mqtt:sub:a/#", "mqtt:sub:b/#"], ttl=3600)
        expiry = w.prop_u32(w.PROP_SESSION_EXPIRY, 300)
        c, _ = self.raw_connect_v5("resume-narrow", props=expiry, clean=False, username="oauth2",
                                   password=self.token(client, "mqtt:sub:a/# mqtt:sub:b/#").encode())
        c.send(w.subscribe(1, [("a/#", 1), ("b/#", 1)], version=5))
        self.assertEqual(suback_codes(c.expect(w.SUBACK), 5), [1, 1])
        c.send(w.disconnect(5, 0))
        c.expect_closed()
        c2, ack2 = self.raw_connect_v5("resume-narrow", props=expiry, clean=False, username="oauth2",
                                       password=self.token(client, "mqtt:sub:a/#").encode())
        self.assertEqual(ack2.body[0] & 1, 1)
        self.ping(c2)
        pub = self.connect_with(["mqtt:pub:#"], "resume-pub")
        self.assertEqual(self.puback_reason(pub, "b/x", 1), 0x10)
        self.assertEqual(self.puback_reason(pub, "a/x", 2), 0x00)
        self.assertEqual(w.parse_publish(c2.expect(w.PUBLISH), 5)[0], "a/x")


class V311PolicyDrop(AuthzBase):
    def test_v311_unauthorized_publish_acknowledged_and_dropped_MQTT_3_3_5_2(self):
        watch = self.paho_with(["mqtt:sub:#"])
        self.assertEqual(watch.subscribe("#", qos=1), [1])
        c = self.connect_with(["mqtt:pub:a/#"], "drop-311", version=4)
        c.send(w.publish("b/x", b"dropped", qos=1, packet_id=5, version=4))
        self.assertEqual(c.expect(w.PUBACK).body, b"\x00\x05")  # positive ack, no reason code
        self.ping(c)  # still connected
        c.send(w.publish("a/x", b"kept", qos=1, packet_id=6, version=4))
        c.expect(w.PUBACK)
        msg = watch.next_message()
        self.assertEqual((msg.topic, msg.payload), ("a/x", b"kept"))  # b/x never came before it

    def test_v311_paho_unauthorized_publish_completes(self):
        p = self.paho_with(["mqtt:pub:a/#"], version=4)
        p.publish("b/x", b"y", qos=1)  # waits for the PUBACK
        p.publish("b/x", b"y", qos=2)  # and for PUBCOMP
        self.assertTrue(p.connected.is_set())


class V311PolicyDisconnect(AuthzBase):
    mqtt_policies = {"v311_unauthorized_publish": "disconnect"}

    def test_v311_unauthorized_publish_closes_the_connection_MQTT_3_3_5_2(self):
        watch = self.paho_with(["mqtt:sub:#"])
        self.assertEqual(watch.subscribe("#", qos=1), [1])
        c = self.connect_with(["mqtt:pub:a/#"], "close-311", version=4, will=("a/will", b"closed", 1, False))
        c.send(w.publish("b/x", b"no", qos=1, packet_id=5, version=4))
        c.expect_closed()  # no PUBACK, no packet at all: the connection is closed
        msg = watch.next_message()  # not a normal disconnection: the will is published
        self.assertEqual((msg.topic, msg.payload), ("a/will", b"closed"))

    def test_v5_keeps_puback_0x87_under_the_disconnect_policy(self):
        c = self.connect_with(["mqtt:pub:a/#"], "v5-under-close-policy")
        self.assertEqual(self.puback_reason(c, "b/x", 1), NOT_AUTHORIZED)
        self.ping(c)


class MqttJsWebSocket(AuthzBase):
    def test_mqttjs_over_websocket_with_a_token_v5(self):
        client = self.register(["mqtt:all:a/#"], ttl=3600)
        tok = self.token(client, "mqtt:all:a/#")
        js = self.mqttjs({"url": "ws://127.0.0.1:%d/mqtt" % self.broker.port("ws"), "version": 5,
                          "clientId": "js-token", "username": "oauth2", "password": tok,
                          "subscribe": [["a/#", 1], ["b/#", 1], ["$share/g/b/#", 1]],
                          "publish": [["a/js", "hello", 1], ["b/js", "nope", 1]]})
        self.assertEqual(js.expect("connack")["rc"], 0)
        self.assertEqual(js.expect("suback")["granted"], [1])
        # MQTT.js reports a SUBACK failure code (0x87 here) as an error naming it.
        for _ in range(2):
            self.assertEqual(js.expect("suback")["error"], "Subscribe error: Not authorized", js.seen)
        events = []
        while not events or events[-1]["ev"] != "close":
            events.append(js.next_event())
        pubacks = {e["topic"]: e["rc"] for e in events if e["ev"] == "puback"}
        self.assertEqual(pubacks, {"a/js": 0, "b/js": NOT_AUTHORIZED}, events)
        received = [(e["topic"], e["payload"]) for e in events if e["ev"] == "message"]
        self.assertEqual(received, [("a/js", "hello")], events)

    def test_mqttjs_over_websocket_with_a_token_v311_and_a_bad_token(self):
        client = self.register(["mqtt:all:a/#"], ttl=3600)
        tok = self.token(client, "mqtt:all:a/#")
        js = self.mqttjs({"url": "ws://127.0.0.1:%d/mqtt" % self.broker.port("ws"), "version": 4,
                          "clientId": "js-311", "username": "oauth2", "password": tok,
                          "subscribe": [["a/#", 1]], "publish": [["a/js", "v311", 1]]})
        self.assertEqual(js.expect("connack")["rc"], 0)
        self.assertEqual(js.expect("suback")["granted"], [1])
        events = []
        while not events or events[-1]["ev"] != "close":
            events.append(js.next_event())
        self.assertIn({"ev": "message", "topic": "a/js", "payload": "v311", "retain": False}, events)
        bad = self.mqttjs({"url": "ws://127.0.0.1:%d/mqtt" % self.broker.port("ws"), "version": 5,
                           "clientId": "js-bad", "username": "oauth2", "password": tok[:-3] + "AAA"})
        e = bad.next_event()
        self.assertEqual(e["ev"], "error", bad.seen)
        self.assertEqual(e.get("code"), 0x86, bad.seen)


if __name__ == "__main__":
    main()
