"""Live-session lifetime with real clients against the real tollgate (issue 5, docs/auth.md
"Session lifetime"): token expiry mid-session (MQTT 5 DISCONNECT with the expiry reason code and
"token expired"; MQTT 3.1.1 closed), the will and session policies at expiry
([mqtt] token_expiry_publishes_will, token_expiry_session_expiry), revocation through /revoke ending
an MQTT.js-over-WebSocket session within one second, client removal with `tollgate admin client
remove`, a signing-key rotation under steady traffic, and re-authentication (AUTH 0x19, CUSTOM-JWT)
that narrows the scopes or extends the expiry.

Tokens come from the built-in authorization server (/token, client_credentials) of the broker under
test; clients are registered with `tollgate admin client add --ttl N` and auth.leeway is "0s".
Every wait is on an event (a packet, a process line, a callback) with a timeout; waits for
something that must NOT happen are bounded (QUIET) and followed by a positive check.
"""

import base64
import json
import subprocess
import sys
import threading
import time
import urllib.error

import mqtt_wire as w
from auth_test import REAUTHENTICATE, TokenClientMixin, auth_config_text
from mqtt_clients import QUIET, PahoClient
from tollgate_fixture import BrokerTestCase, binary_path, main, wait_until, ws_listener, tcp_listener

PROP_REASON_STRING = 0x1F
# The DISCONNECT reason code of a token expiry, as the auth layer sets it (principal.expiry_reason;
# libs/auth token_authenticator) and docs/auth.md documents. Revocation is 0x98 "token revoked".
EXPIRY_REASON = 0xA0  # maximum connect time (MQTT 5 §3.14.2.1)
ADMINISTRATIVE_ACTION = 0x98
V311_BAD_CREDENTIALS = 4


def claims_of(token):
    part = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def header_of(token):
    part = token.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def disconnect_reason(p):
    """(reason code, reason string) of a v5 DISCONNECT."""
    code = p.body[0] if p.body else 0
    reason = None
    if len(p.body) > 1:
        props, _ = w.parse_properties(p.body, 1)
        if PROP_REASON_STRING in props:
            reason = props[PROP_REASON_STRING][0].decode()
    return code, reason


class LifetimeBase(TokenClientMixin, BrokerTestCase):
    mqtt_policies = {}

    def broker_options(self):
        return {"config_text": auth_config_text(mqtt=self.mqtt_policies, auth={"leeway": "0s"},
                                                listeners=[tcp_listener(), ws_listener()])}

    def watcher(self, filters):
        """A long-lived MQTT 5 subscriber (paho) with its own token."""
        client = self.register(["mqtt:sub:%s" % f for f in filters], ttl=3600)
        tok = self.token(client, " ".join("mqtt:sub:%s" % f for f in filters))
        p = PahoClient(self.broker.port(), version=5)
        p.client.username_pw_set("oauth2", tok)
        self.on_teardown(p.close)
        p.connect()
        for f in filters:
            self.assertEqual(p.subscribe(f, qos=1), [1])
        return p

    def wait_expiry_disconnect(self, c, token):
        """Waits for the DISCONNECT of an expired token; checks it comes at exp (leeway 0)."""
        exp = claims_of(token)["exp"]
        p = c.expect(w.DISCONNECT, timeout=exp - time.time() + 5)
        now = time.time()
        self.assertGreaterEqual(now, exp - 0.3, "ended before the token's exp")
        self.assertLess(now, exp + 2.0, "ended long after the token's exp")
        c.expect_closed(timeout=2.0)
        return disconnect_reason(p)


class TokenExpiry(LifetimeBase):
    def test_v5_expiry_mid_session_disconnects_with_the_expiry_reason(self):
        client = self.register(["mqtt:all:a/#"], ttl=2)
        tok = self.token(client, "mqtt:all:a/#")
        c, ack = self.raw_connect_v5("exp-v5", username="oauth2", password=tok.encode())
        self.assertEqual(w.connack_reason(ack), 0)
        self.assertIn(self.puback_reason(c, "a/x", 1), (0x00, 0x10))  # live until exp
        code, reason = self.wait_expiry_disconnect(c, tok)
        self.assertEqual(reason, "token expired")
        self.assertEqual(code, EXPIRY_REASON)
        self.assertNotEqual(code, ADMINISTRATIVE_ACTION)  # distinct from a revocation
        # The same token no longer connects: 0x86 [MQTT-3.2.2-*], docs/auth.md reason codes.
        c2, ack2 = self.raw_connect_v5("exp-v5b", username="oauth2", password=tok.encode())
        self.assertEqual(w.connack_reason(ack2), 0x86)

    def test_v5_expiry_reason_string_differs_from_revoked_and_not_authorized(self):
        client = self.register(["mqtt:pub:a/#"], ttl=2)
        tok = self.token(client, "mqtt:pub:a/#")
        c, _ = self.raw_connect_v5("exp-cmp", username="oauth2", password=tok.encode())
        c.send(w.publish("b/denied", b"x", qos=1, packet_id=1, version=5))
        p = c.expect(w.PUBACK)
        self.assertEqual(p.body[2], 0x87)
        props, _ = w.parse_properties(p.body, 3)
        denied_reason = props.get(PROP_REASON_STRING, [b""])[0].decode()
        code, reason = self.wait_expiry_disconnect(c, tok)
        self.assertEqual(reason, "token expired")
        self.assertNotEqual(reason, denied_reason)
        self.assertNotEqual(reason, "token revoked")

    def test_v311_expiry_closes_the_connection_raw(self):
        client = self.register(["mqtt:all:a/#"], ttl=2)
        tok = self.token(client, "mqtt:all:a/#")
        c, ack = self.raw_connect_v311("exp-311", tok.encode())
        self.assertEqual(w.connack_reason(ack), 0)
        exp = claims_of(tok)["exp"]
        c.expect_closed(timeout=exp - time.time() + 5)  # no DISCONNECT in 3.1.1: just the close
        self.assertGreaterEqual(time.time(), exp - 0.3)

    def test_v311_expiry_closes_mosquitto_sub_and_paho(self):
        client = self.register(["mqtt:all:a/#"], ttl=3)
        tok = self.token(client, "mqtt:all:a/#")
        exp = claims_of(tok)["exp"]
        paho = PahoClient(self.broker.port(), version=4)
        paho.client.username_pw_set("oauth2", tok)
        self.on_teardown(paho.close)
        paho.connect()
        sub = subprocess.Popen(["stdbuf", "-oL", "mosquitto_sub", "-h", "127.0.0.1", "-p", str(self.broker.port()),
                                "-V", "mqttv311", "-t", "a/#", "-u", "oauth2", "-P", tok, "-d"],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.on_teardown(lambda: sub.poll() is None and sub.kill())
        # paho: on_disconnect with a non-zero rc (the connection was lost, not closed by the client).
        self.assertTrue(paho.disconnected.wait(exp - time.time() + 5), "paho still connected after exp")
        self.assertNotEqual(paho.disconnect_reason, 0)
        self.assertGreaterEqual(time.time(), exp - 0.3)
        # mosquitto_sub reconnects with the same (now expired) token, is refused (return code 4)
        # and exits with an error.
        out, _ = sub.communicate(timeout=30)
        text = out.decode(errors="replace")
        self.assertNotEqual(sub.returncode, 0, text)
        self.assertIn("received CONNACK", text)
        self.assertRegex(text.lower(), r"bad user ?name or password|not authori[sz]ed", text)


class WillAndSessionAtExpiryDefaults(LifetimeBase):
    """Defaults: the will is not published at token expiry; the session keeps its negotiated
    Session Expiry Interval and can be resumed with a fresh token by the same subject."""

    def test_will_not_published_at_token_expiry_by_default(self):
        watch = self.watcher(["a/#"])
        client = self.register(["mqtt:all:a/#"], ttl=2)
        tok = self.token(client, "mqtt:all:a/#")
        c, ack = self.raw_connect_v5("will-exp", username="oauth2", password=tok.encode(),
                                     will=("a/will", b"expired", 1, False))
        self.assertEqual(w.connack_reason(ack), 0)
        self.wait_expiry_disconnect(c, tok)
        watch.expect_no_message(QUIET)
        # Control: the same will after a network loss (token still valid) is published
        # [MQTT-3.1.2-8], so the silence above is the policy, not a routing problem.
        tok2 = self.token(client, "mqtt:all:a/#")
        c2, ack2 = self.raw_connect_v5("will-drop", username="oauth2", password=tok2.encode(),
                                       will=("a/will", b"dropped", 1, False))
        self.assertEqual(w.connack_reason(ack2), 0)
        c2.close()
        msg = watch.next_message()
        self.assertEqual((msg.topic, msg.payload), ("a/will", b"dropped"))

    def test_session_kept_after_expiry_and_resumed_with_a_fresh_token(self):
        client = self.register(["mqtt:all:a/#"], ttl=2)
        tok = self.token(client, "mqtt:all:a/#")
        expiry = w.prop_u32(w.PROP_SESSION_EXPIRY, 300)
        c, ack = self.raw_connect_v5("persist", props=expiry, clean=False, username="oauth2",
                                     password=tok.encode())
        c.send(w.subscribe(1, [("a/queued", 1)], version=5))
        self.assertEqual(c.expect(w.SUBACK).body[-1], 1)
        self.wait_expiry_disconnect(c, tok)
        # While it is offline a QoS 1 message is queued for it.
        pub_client = self.register(["mqtt:pub:a/#"], ttl=3600)
        pub, _ = self.raw_connect_v5("pub", username="oauth2",
                                     password=self.token(pub_client, "mqtt:pub:a/#").encode())
        self.assertEqual(self.puback_reason(pub, "a/queued", 1), 0x00)
        fresh = self.token(client, "mqtt:all:a/#")
        c2, ack2 = self.raw_connect_v5("persist", props=expiry, clean=False, username="oauth2",
                                       password=fresh.encode())
        self.assertEqual(w.connack_reason(ack2), 0)
        self.assertEqual(ack2.body[0] & 1, 1, "Session Present 0: the session was not kept")
        p = c2.expect(w.PUBLISH)
        self.assertEqual(w.parse_publish(p, 5)[0], "a/queued")

    def test_another_subject_cannot_resume_the_session_after_expiry(self):
        owner = self.register(["mqtt:all:a/#"], ttl=2)
        tok = self.token(owner, "mqtt:all:a/#")
        expiry = w.prop_u32(w.PROP_SESSION_EXPIRY, 300)
        c, _ = self.raw_connect_v5("owned", props=expiry, clean=False, username="oauth2", password=tok.encode())
        c.send(w.subscribe(1, [("a/secret", 1)], version=5))
        c.expect(w.SUBACK)
        self.wait_expiry_disconnect(c, tok)
        intruder = self.register(["mqtt:pub:z/#"], ttl=3600)
        pub_client = self.register(["mqtt:pub:a/#"], ttl=3600)
        pub, _ = self.raw_connect_v5("pub2", username="oauth2",
                                     password=self.token(pub_client, "mqtt:pub:a/#").encode())
        self.assertEqual(self.puback_reason(pub, "a/secret", 1), 0x00)
        c2, ack2 = self.raw_connect_v5("owned", props=expiry, clean=False, username="oauth2",
                                       password=self.token(intruder, "mqtt:pub:z/#").encode())
        self.assertEqual(w.connack_reason(ack2), 0)
        self.assertEqual(ack2.body[0] & 1, 0, "another subject resumed the session")
        c2.send(w.packet(0xC0, b""))  # PINGREQ: the next packet is its answer, not a queued PUBLISH
        self.assertEqual(c2.expect(w.PINGRESP).type, w.PINGRESP)


class WillAndSessionAtExpiryConfigured(LifetimeBase):
    mqtt_policies = {"token_expiry_publishes_will": True, "token_expiry_session_expiry": 0}

    def test_will_published_at_token_expiry_when_configured(self):
        watch = self.watcher(["a/#"])
        client = self.register(["mqtt:all:a/#"], ttl=2)
        tok = self.token(client, "mqtt:all:a/#")
        c, _ = self.raw_connect_v5("will-exp2", username="oauth2", password=tok.encode(),
                                   will=("a/will", b"expired", 1, False))
        self.wait_expiry_disconnect(c, tok)
        msg = watch.next_message()
        self.assertEqual((msg.topic, msg.payload), ("a/will", b"expired"))

    def test_session_ends_at_token_expiry_with_cap_zero(self):
        client = self.register(["mqtt:all:a/#"], ttl=2)
        tok = self.token(client, "mqtt:all:a/#")
        expiry = w.prop_u32(w.PROP_SESSION_EXPIRY, 300)
        c, _ = self.raw_connect_v5("capped", props=expiry, clean=False, username="oauth2", password=tok.encode())
        c.send(w.subscribe(1, [("a/q", 1)], version=5))
        c.expect(w.SUBACK)
        self.wait_expiry_disconnect(c, tok)
        fresh = self.token(client, "mqtt:all:a/#")
        c2, ack2 = self.raw_connect_v5("capped", props=expiry, clean=False, username="oauth2",
                                       password=fresh.encode())
        self.assertEqual(w.connack_reason(ack2), 0)
        self.assertEqual(ack2.body[0] & 1, 0, "the session outlived its token despite the cap 0")


class Revocation(LifetimeBase):
    def test_revoke_ends_mqttjs_websocket_session_within_one_second_RFC7009(self):
        client = self.register(["mqtt:all:a/#"], ttl=3600)
        tok = self.token(client, "mqtt:all:a/#")
        js = self.mqttjs({"url": "ws://127.0.0.1:%d/mqtt" % self.broker.port("ws"), "version": 5,
                          "clientId": "js-revoked", "username": "oauth2", "password": tok,
                          "subscribe": [["a/#", 1]], "publish": [["a/x", "hi", 1]], "stay": True})
        self.assertEqual(js.expect("connack")["rc"], 0)
        self.assertEqual(js.expect("suback")["granted"], [1])
        e = js.next_event()
        if e["ev"] == "message":  # its own message may come before the PUBACK callback
            e = js.next_event()
        self.assertEqual((e["ev"], e.get("rc")), ("puback", 0), js.seen)
        js.expect("ready") if js.seen[-1]["ev"] != "ready" else None
        start = time.monotonic()
        self.post("/revoke", {"token": tok, "token_type_hint": "access_token"}, client)
        e = js.next_event(timeout=2.0)
        while e["ev"] == "message":
            e = js.next_event(timeout=2.0)
        self.assertEqual(e["ev"], "disconnect", js.seen)
        self.assertLess(time.monotonic() - start, 1.0)
        self.assertEqual((e["rc"], e["reason"]), (ADMINISTRATIVE_ACTION, "token revoked"))
        js.expect("close", timeout=2.0)

    def test_revoke_closes_v311_within_one_second(self):
        client = self.register(["mqtt:all:a/#"], ttl=3600)
        tok = self.token(client, "mqtt:all:a/#")
        c, ack = self.raw_connect_v311("rev-311", tok.encode())
        self.assertEqual(w.connack_reason(ack), 0)
        start = time.monotonic()
        self.post("/revoke", {"token": tok, "token_type_hint": "access_token"}, client)
        c.expect_closed(timeout=1.0)
        self.assertLess(time.monotonic() - start, 1.0)

    def test_admin_client_remove_refuses_new_tokens_RFC6749_5_2(self):
        client = self.register(["mqtt:all:a/#"], ttl=3600)
        tok = self.token(client, "mqtt:all:a/#")
        c, ack = self.raw_connect_v5("removed-live", username="oauth2", password=tok.encode())
        self.assertEqual(w.connack_reason(ack), 0)
        # `tollgate admin` runs in its own process on the same data directory; its revocation
        # events reach the running server through the revocation journal (docs/oauth-server.md),
        # read every 250 ms: the live session ends within one second of the command's return.
        self.admin("client", "remove", client[0])
        start = time.monotonic()
        p = c.expect(w.DISCONNECT, timeout=1.0)
        self.assertLess(time.monotonic() - start, 1.0)
        self.assertEqual(disconnect_reason(p)[0], ADMINISTRATIVE_ACTION)
        # The removed client's unexpired access token no longer connects (CONNACK 0x86 Bad User
        # Name or Password).
        c2, ack2 = self.raw_connect_v5("removed-again", username="oauth2", password=tok.encode())
        self.assertEqual(w.connack_reason(ack2), 0x86)
        # The removal is stored in the shared database: /token refuses the client at once
        # (RFC 6749 §5.2 invalid_client, HTTP 401).
        with self.assertRaises(urllib.error.HTTPError) as refused:
            self.token(client, "mqtt:all:a/#")
        self.assertEqual(refused.exception.code, 401)

    def test_admin_token_revoke_reads_the_token_from_stdin_RFC7009_2_1(self):
        # `tollgate admin token revoke -` takes the token on standard input, so it never shows in
        # ps or the shell history; the revocation reaches the running server through the journal
        # and ends the live session (DISCONNECT 0x98), and the token no longer connects.
        client = self.register(["mqtt:all:a/#"], ttl=3600)
        tok = self.token(client, "mqtt:all:a/#")
        c, ack = self.raw_connect_v5("revoked-by-admin", username="oauth2", password=tok.encode())
        self.assertEqual(w.connack_reason(ack), 0)
        out = subprocess.run([binary_path(), "admin", "--data-dir", self.broker.data_dir, "token", "revoke", "-"],
                             input=(tok + "\n").encode(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             timeout=60)
        self.assertEqual(out.returncode, 0, out.stdout.decode())
        self.assertIn("revoked", out.stdout.decode())
        p = c.expect(w.DISCONNECT, timeout=2.0)
        self.assertEqual(disconnect_reason(p)[0], ADMINISTRATIVE_ACTION)
        c2, ack2 = self.raw_connect_v5("revoked-again", username="oauth2", password=tok.encode())
        self.assertEqual(w.connack_reason(ack2), 0x86)


class KeyRotation(LifetimeBase):
    def test_key_rotation_under_steady_traffic_no_failed_connection(self):
        client = self.register(["mqtt:all:a/#"], ttl=3600)
        old_token = self.token(client, "mqtt:all:a/#")
        old_kid = header_of(old_token)["kid"]
        stop = threading.Event()
        failures = []
        counts = {"published": 0, "connects": 0, "connects_new_kid": 0}
        new_kid = {}

        # A paho publisher on the old token publishes QoS 1 continuously, each acknowledged.
        pub = PahoClient(self.broker.port(), version=5)
        pub.client.username_pw_set("oauth2", old_token)
        self.on_teardown(pub.close)
        pub.connect()

        def publisher():
            i = 0
            while not stop.is_set():
                i += 1
                try:
                    pub.publish("a/steady", b"%d" % i, qos=1)
                    counts["published"] += 1
                except AssertionError as e:
                    failures.append("publish %d: %s" % (i, e))
                    return

        # Clients reconnecting in a loop, each with a fresh token from /token.
        def reconnector(n):
            while not stop.is_set():
                try:
                    tok = self.token(client, "mqtt:all:a/#")
                    c = w.RawClient(self.broker.port())
                    try:
                        c.send(w.connect("rot-%d" % n, version=5, username="oauth2", password=tok.encode()))
                        code = w.connack_reason(c.expect(w.CONNACK))
                        if code != 0:
                            failures.append("CONNACK 0x%02x for kid %s" % (code, header_of(tok)["kid"]))
                            return
                        c.send(w.disconnect(5, 0))
                    finally:
                        c.close()
                    counts["connects"] += 1
                    if header_of(tok)["kid"] != old_kid:
                        new_kid["kid"] = header_of(tok)["kid"]
                        counts["connects_new_kid"] += 1
                except Exception as e:  # noqa: BLE001 - any failure of the loop is a test failure
                    failures.append("reconnect: %r" % (e,))
                    return

        threads = [threading.Thread(target=publisher)] + [threading.Thread(target=reconnector, args=(n,))
                                                          for n in range(2)]
        for t in threads:
            t.start()
        try:
            wait_until(lambda: counts["connects"] >= 5 and counts["published"] >= 5 or failures, 20,
                       "steady traffic before the rotation")
            out = self.admin("key", "rotate")
            self.assertIn("new signing key", out)
            # The running server reloads its key cache (oauth key_manager, refresh_period 30 s):
            # tokens signed by the new key appear within it; the broker learns the kid by its
            # unknown-kid refresh. Every connection before, during and after must succeed.
            wait_until(lambda: counts["connects_new_kid"] >= 10 or failures, 60,
                       "10 connections with tokens of the new key")
        finally:
            stop.set()
            for t in threads:
                t.join(timeout=30)
        sys.stderr.write("key rotation: %r (old kid %s, new kid %s)\n" % (counts, old_kid, new_kid.get("kid")))
        self.assertEqual(failures, [])
        self.assertNotEqual(new_kid.get("kid"), old_kid)
        kids = [k["kid"] for k in self.jwks()["keys"]]
        self.assertIn(old_kid, kids)  # the old key stays published until its tokens expire
        self.assertIn(new_kid["kid"], kids)
        self.assertTrue(pub.connected.is_set(), "the publisher on the old token lost its session")
        self.assertGreater(counts["published"], 10)


class Reauthentication(LifetimeBase):
    def auth_packet(self, token):
        return w.packet(0xF0, bytes([REAUTHENTICATE]) + w.properties(self.auth_props(token)))

    def test_narrowing_takes_effect_on_the_very_next_publish_MQTT_4_12_1(self):
        client = self.register(["mqtt:pub:a/#", "mqtt:pub:a/b"], ttl=3600)
        wide = self.token(client, "mqtt:pub:a/#")
        narrow = self.token(client, "mqtt:pub:a/b")
        c, ack = self.raw_connect_v5("narrow", props=self.auth_props(wide))
        self.assertEqual(w.connack_reason(ack), 0)
        for i in range(1, 4):
            self.assertIn(self.puback_reason(c, "a/x", i), (0x00, 0x10))
        # AUTH 0x19 and the PUBLISH in one write: the PUBLISH right behind the AUTH is judged by
        # the new token (the broker reads no packet while re-authentication is pending).
        c.send(self.auth_packet(narrow) + w.publish("a/x", b"y", qos=1, packet_id=9, version=5))
        self.assertEqual(c.expect(w.AUTH).body[0], 0x00)
        p = c.expect(w.PUBACK)
        self.assertEqual(p.body[2], 0x87)
        self.assertIn(self.puback_reason(c, "a/b", 10), (0x00, 0x10))

    def test_extending_the_expiry_keeps_the_session_past_the_old_exp(self):
        client = self.register(["mqtt:all:a/#"], ttl=3)
        first = self.token(client, "mqtt:all:a/#")
        old_exp = claims_of(first)["exp"]
        c, ack = self.raw_connect_v5("extend", props=self.auth_props(first))
        self.assertEqual(w.connack_reason(ack), 0)
        later = {}

        def later_token():
            later["t"] = self.token(client, "mqtt:all:a/#")
            return claims_of(later["t"])["exp"] > old_exp

        wait_until(later_token, 5, "a token with a later exp")
        new_exp = claims_of(later["t"])["exp"]
        c.send(self.auth_packet(later["t"]))
        self.assertEqual(c.expect(w.AUTH).body[0], 0x00)
        # Past the old exp: still connected (nothing arrives; then PINGREQ is answered).
        with self.assertRaises(TimeoutError):
            c.read_packet(timeout=max(0.0, old_exp - time.time()) + 0.5)
        self.assertGreater(time.time(), old_exp)
        c.send(w.packet(0xC0, b""))
        c.expect(w.PINGRESP)
        # At the new exp the session ends, with the expiry reason.
        code, reason = self.wait_expiry_disconnect(c, later["t"])
        self.assertEqual((code, reason), (EXPIRY_REASON, "token expired"))
        self.assertGreaterEqual(time.time(), new_exp - 0.3)

    def test_reauthentication_with_an_expired_token_ends_the_session_MQTT_4_12_1_2(self):
        client = self.register(["mqtt:all:a/#"], ttl=2)
        old = self.token(client, "mqtt:all:a/#")
        first, _ = self.raw_connect_v5("reauth-old", props=self.auth_props(old))
        self.wait_expiry_disconnect(first, old)  # the event that proves `old` has expired
        c, ack = self.raw_connect_v5("reauth-exp", props=self.auth_props(self.token(client, "mqtt:all:a/#")))
        self.assertEqual(w.connack_reason(ack), 0)
        c.send(self.auth_packet(old))
        p = c.expect(w.DISCONNECT)
        self.assertEqual(p.body[0], 0x87)  # 0x86 is not a DISCONNECT reason code [MQTT-4.12.1-2]
        c.expect_closed()

    def test_reauthentication_with_another_subjects_token_ends_the_session_MQTT_4_12_1_2(self):
        client = self.register(["mqtt:all:a/#"], ttl=3600)
        other = self.register(["mqtt:all:a/#"], ttl=3600)
        c, ack = self.raw_connect_v5("reauth-other", props=self.auth_props(self.token(client, "mqtt:all:a/#")))
        self.assertEqual(w.connack_reason(ack), 0)
        c.send(self.auth_packet(self.token(other, "mqtt:all:a/#")))
        p = c.expect(w.DISCONNECT)
        self.assertEqual(p.body[0], 0x87)
        c.expect_closed()

if __name__ == "__main__":
    main()
