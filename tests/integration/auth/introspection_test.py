"""RFC 7662 introspection end to end (docs/auth.md "Introspection"): the real tollgate against a real
introspection endpoint, node oidc-provider (tests/support/oidc), which issues opaque access tokens.

tollgate is configured with the provider as an external issuer ([[auth.issuers]] with
introspection_endpoint, client_secret_basic credentials from a file, opaque_tokens = true, plain
http on loopback with allow_http, recheck_interval 2 s, recheck_grace 2 s):
  - an opaque token is accepted through introspection alone, its scopes govern PUBLISH; an unknown
    token is refused (CONNACK 0x86);
  - a token revoked at the issuer (RFC 7009 /token/revocation) ends its live session on its next
    PUBLISH after the interval: DISCONNECT 0x98 "token no longer active"; a reconnect is refused;
  - an inactive verdict learnt during another client's CONNECT ends the token's live sessions at
    once, without waiting for their next packet;
  - with the issuer gone, a session keeps working during the grace, then PUBLISH is refused (0x87)
    and the session ends with DISCONNECT 0x87 "token could not be re-checked" (fail closed);
  - neither the token nor the introspection client secret appears in tollgate's log.
Waiting is on events (the broker's packets), with a deadline; publishing is what triggers a re-check
(the issue: "triggered by the session's next CONNECT, PUBLISH or SUBSCRIBE").
"""

import os
import shutil
import tempfile
import time

import mqtt_wire as w
from oidc_provider import OidcProvider
from tollgate_fixture import BrokerTestCase, main, make_config, tcp_listener, toml_value

PROP_REASON_STRING = 0x1F
INTERVAL = 2.0
GRACE = 2.0
SENSOR = {"client_id": "sensor-1", "client_secret": "s1", "scope": "mqtt:pub:sensors/# mqtt:sub:sensors/#",
          "token_format": "opaque"}
INTROSPECTOR_SECRET = "introspector-Secret-93f1"
INTROSPECTOR = {"client_id": "tollgate", "client_secret": INTROSPECTOR_SECRET}


def reason_string(p, offset):
    """The Reason String property of an MQTT 5 packet whose properties start at `offset`."""
    if len(p.body) <= offset:
        return None
    props, _ = w.parse_properties(p.body, offset)
    values = props.get(PROP_REASON_STRING)
    return values[0].decode() if values else None


class IntrospectionTest(BrokerTestCase):
    def setUp(self):
        self.idp = OidcProvider(clients=[SENSOR, INTROSPECTOR], https=False)
        self.idp.start()
        self.scratch = tempfile.mkdtemp(prefix="tollgate-introspect-")
        secret_file = os.path.join(self.scratch, "introspection-secret")
        with open(secret_file, "w") as f:
            f.write(INTROSPECTOR_SECRET + "\n")
        os.chmod(secret_file, 0o600)
        issuer = {
            "issuer": self.idp.issuer,
            "jwks_uri": self.idp.jwks_uri,  # its JWTs would verify locally; its opaque tokens cannot
            "introspection_endpoint": self.idp.introspection_endpoint,
            "introspection_client_id": "tollgate",
            "introspection_client_secret_file": secret_file,
            "opaque_tokens": True,
            "allow_http": True,
            "recheck_interval": "%ds" % INTERVAL,
            "recheck_grace": "%ds" % GRACE,
        }
        text = make_config([tcp_listener()], mqtt={"allow_anonymous": False}, server={"threads": 2},
                           log={"level": "debug"})
        text += "\n[auth]\nenabled = true\nbuiltin_issuer = false\n\n[[auth.issuers]]\n"
        for k, v in issuer.items():
            text += "%s = %s\n" % (k, toml_value(v))
        self.config_text = text
        try:
            super().setUp()
        except BaseException:
            self.idp.stop(check=False)
            raise
        self.on_teardown(lambda: self.idp.stop(check=False))
        self.on_teardown(lambda: shutil.rmtree(self.scratch, ignore_errors=True))

    def broker_options(self):
        return {"config_text": self.config_text}

    # ---- helpers ---------------------------------------------------------------------------------

    def token(self):
        return self.idp.access_token("sensor-1", "s1", scope=SENSOR["scope"])

    def connect(self, token, client_id="sensor-1"):
        """(client, CONNACK reason code)."""
        c = w.RawClient(self.broker.port())
        self.on_teardown(c.close)
        c.send(w.connect(client_id, version=5, username="oauth2", password=token.encode()))
        return c, w.connack_reason(c.expect(w.CONNACK))

    def publish(self, c, topic, packet_id):
        """PUBLISH QoS 1; returns ("puback", reason) or ("disconnect", reason, reason string)."""
        c.send(w.publish(topic, b"x", qos=1, packet_id=packet_id, version=5))
        p = c.read_packet()
        if p is None:
            return ("closed",)
        if p.type == w.PUBACK:
            code = p.body[2] if len(p.body) > 2 else 0
            return ("puback", 0 if code == 0x10 else code)  # 0x10 no matching subscribers: accepted
        if p.type == w.DISCONNECT:
            return ("disconnect", p.body[0] if p.body else 0, reason_string(p, 1))
        raise AssertionError("unexpected %r" % p)

    def publish_until_refused(self, c, deadline_s):
        """Publishes every 0.25 s (each PUBLISH may trigger the due re-check) until the broker
        refuses; returns (the outcomes, seconds elapsed)."""
        start = time.monotonic()
        outcomes = []
        packet_id = 100
        while time.monotonic() - start < deadline_s:
            packet_id += 1
            r = self.publish(c, "sensors/t", packet_id)
            outcomes.append(r)
            if r[0] != "puback" or r[1] != 0:
                return outcomes, time.monotonic() - start
            time.sleep(0.25)  # pacing of the client's traffic, not a wait for the broker
        raise AssertionError("never refused within %.1f s: %r" % (deadline_s, outcomes[-5:]))

    # ---- tests -----------------------------------------------------------------------------------

    def test_opaque_token_accepted_through_introspection_with_its_scopes(self):
        token = self.token()
        self.assertNotIn(".", token)  # opaque, not a JWT
        c, code = self.connect(token)
        self.assertEqual(code, 0x00)
        self.assertEqual(self.publish(c, "sensors/a", 1), ("puback", 0x00))
        self.assertEqual(self.publish(c, "actuators/a", 2), ("puback", 0x87))  # outside its scopes
        _, bad = self.connect("notAtokenTheIssuerKnows", client_id="intruder")
        self.assertEqual(bad, 0x86)

    def test_token_revoked_at_the_issuer_ends_the_live_session(self):
        token = self.token()
        c, code = self.connect(token)
        self.assertEqual(code, 0x00)
        self.assertEqual(self.publish(c, "sensors/a", 1), ("puback", 0x00))
        self.idp.revoke(token, "sensor-1", "s1")
        outcomes, elapsed = self.publish_until_refused(c, INTERVAL + 15)
        last = outcomes[-1]
        # The background re-check ends the session (DISCONNECT 0x98); a PUBLISH that arrived after
        # the verdict and before the DISCONNECT is refused first (0x87).
        if last == ("puback", 0x87):
            p = c.expect(w.DISCONNECT)
            last = ("disconnect", p.body[0], reason_string(p, 1))
        self.assertEqual(last, ("disconnect", 0x98, "token no longer active"), outcomes)
        c.expect_closed()
        _, again = self.connect(token, client_id="sensor-1b")
        self.assertEqual(again, 0x86)  # remembered as inactive

    def test_inactive_verdict_at_another_connect_ends_the_live_sessions_at_once(self):
        """An inactive verdict learnt while authenticating one client's CONNECT ends the token's
        other live sessions at once (DISCONNECT 0x98), although they send nothing."""
        token = self.token()
        c1, code1 = self.connect(token, client_id="sensor-a")
        c2, code2 = self.connect(token, client_id="sensor-b")
        self.assertEqual((code1, code2), (0x00, 0x00))
        self.idp.revoke(token, "sensor-1", "s1")
        # The cached answer is reused for the interval; a CONNECT after it asks the issuer again.
        start = time.monotonic()
        probes = []
        while True:
            self.assertLess(time.monotonic() - start, INTERVAL + 15, probes)
            probe, code = self.connect(token, client_id="sensor-probe-%d" % len(probes))
            probes.append(code)
            if code != 0x00:
                break
            probe.close()
            time.sleep(0.25)  # pacing of the client's attempts, not a wait for the broker
        self.assertEqual(code, 0x86, probes)
        refused_at = time.monotonic()
        for c in (c1, c2):  # neither sent a packet: ended by the CONNECT's verdict, not a re-check
            p = c.expect(w.DISCONNECT, timeout=2.0)
            self.assertEqual((p.body[0], reason_string(p, 1)), (0x98, "token no longer active"))
            c.expect_closed()
        self.assertLess(time.monotonic() - refused_at, 2.0)
        # A session of another token is untouched.
        other, code = self.connect(self.token(), client_id="sensor-other")
        self.assertEqual(code, 0x00)
        self.assertEqual(self.publish(other, "sensors/a", 1), ("puback", 0x00))

    def test_issuer_unreachable_allowed_during_grace_then_fail_closed(self):
        token = self.token()
        c, code = self.connect(token)
        self.assertEqual(code, 0x00)
        connected = time.monotonic()
        self.idp.stop(check=False)
        outcomes, _ = self.publish_until_refused(c, INTERVAL + GRACE + 15)
        refused_after = time.monotonic() - connected
        self.assertGreaterEqual(refused_after, INTERVAL + GRACE - 0.5, outcomes)
        self.assertTrue(any(o == ("puback", 0) for o in outcomes), outcomes)  # allowed before the end
        last = outcomes[-1]
        if last == ("puback", 0x87):
            p = c.expect(w.DISCONNECT)
            last = ("disconnect", p.body[0], reason_string(p, 1))
        self.assertEqual(last, ("disconnect", 0x87, "token could not be re-checked"), outcomes)
        c.expect_closed()
        self.assertIn("unavailable", self.broker.log_text())

    def test_token_and_client_secret_never_logged(self):
        token = self.token()
        c, code = self.connect(token)
        self.assertEqual(code, 0x00)
        self.assertEqual(self.publish(c, "sensors/a", 1), ("puback", 0x00))
        self.connect("anotherOpaqueGuess", client_id="guess")
        log = self.broker.log_text()
        self.assertIn("auth", log)
        self.assertNotIn(token, log)
        self.assertNotIn("anotherOpaqueGuess", log)
        self.assertNotIn(INTROSPECTOR_SECRET, log)


if __name__ == "__main__":
    main()
