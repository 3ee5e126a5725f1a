"""Regression tests for the red-team findings of session 3 (docs/hostile-inputs-coverage.md), each
failing before its fix:

H1: revocations must survive a restart of `tollgate serve` (oauth replay_revocations()).
V1: the will of a session ended by revocation must not be published.
M1: authorization reason strings must respect the client's Maximum Packet Size.
R1: a token valid "until year 9999" is refused ([[auth.issuers]] max_token_lifetime, default 24 h).
E1: `tollgate admin explain` refuses a revoked token, as the running broker does.

docs/auth.md "Revocation": a revoked jti is refused until its exp; a client or subject revocation
refuses that issuer's tokens issued before it for 24 h. RFC 7009 §2: once revoked, the token
"cannot be used anymore"; hostile-inputs #78 (replay after revocation). The broker is stopped
(SIGTERM) and started again on the same data directory; each revoked token must still get
CONNACK 0x86 while a fresh token of a surviving client connects.
"""

import threading

import mqtt_wire as w
from auth_test import TokenClientMixin, auth_config_text
import hostile_tokens_test as ht
from tollgate_fixture import BrokerTestCase, binary_path, main, wait_until

BAD_CREDENTIALS = 0x86


class RevocationAcrossRestart(TokenClientMixin, BrokerTestCase):
    def broker_options(self):
        return {"config_text": auth_config_text()}

    def restart(self):
        b = self.broker
        b.stop()
        b._ready_event = threading.Event()
        b._stdout_lines = []
        b._stopped = False
        b.start()

    def code(self, client_id, token):
        c = w.RawClient(self.broker.port())
        self.on_teardown(c.close)
        c.send(w.connect(client_id, version=5, username="oauth2", password=token.encode()))
        return w.connack_reason(c.expect(w.CONNACK))

    def test_revoked_tokens_stay_refused_after_restart_RFC7009_2_HI_78(self):
        keep = self.register(["mqtt:all:k/#"])
        by_endpoint = self.token(keep, "mqtt:all:k/#")
        by_admin = self.token(keep, "mqtt:all:k/#")
        doomed = self.register(["mqtt:all:d/#"])
        of_removed_client = self.token(doomed, "mqtt:all:d/#")
        self.post("/revoke", {"token": by_endpoint, "token_type_hint": "access_token"}, keep)
        self.admin("token", "revoke", by_admin)
        self.admin("client", "remove", doomed[0])
        self.restart()
        self.assertEqual(self.code("r-endpoint", by_endpoint), BAD_CREDENTIALS, "POST /revoke forgotten")
        self.assertEqual(self.code("r-admin", by_admin), BAD_CREDENTIALS, "admin token revoke forgotten")
        self.assertEqual(self.code("r-removed", of_removed_client), BAD_CREDENTIALS, "admin client remove forgotten")
        self.assertEqual(self.code("r-fresh", self.token(keep, "mqtt:all:k/#")), 0)

    def test_explain_applies_revocations_like_the_broker(self):
        client = self.register(["mqtt:pub:e/#"])
        tok = self.token(client, "mqtt:pub:e/#")

        def explain():
            r = __import__("subprocess").run(
                [binary_path(), "admin", "--data-dir", self.broker.data_dir, "explain", "--config",
                 self.broker.config_path, "--token", "-", "--client-id", "e1", "--publish", "e/x"],
                input=(tok + "\n").encode(), stdout=-1, stderr=-2, timeout=60)
            return r.returncode, r.stdout.decode(errors="replace")

        rc, out = explain()
        self.assertEqual(rc, 0, out)
        self.admin("token", "revoke", tok)
        # The running broker learns it from the revocation journal (polled every 250 ms).
        wait_until(lambda: self.code("e1", tok) == BAD_CREDENTIALS, 10.0, "broker refuses the revoked token")
        rc, out = explain()
        self.assertEqual(rc, 1, out)  # denied: authentication fails on the revoked token
        self.assertIn("revoked", out)
        self.assertNotIn(tok, out)


class WillAfterRevocation(TokenClientMixin, BrokerTestCase):
    """V1: docs/auth.md discards the will at token expiry by default because it "would be published
    on the authority of a credential that has just lapsed"; a revoked credential is worse. The
    will of a session that ends because its token was revoked (/revoke) or its client removed is
    never published."""

    def broker_options(self):
        return {"config_text": auth_config_text()}

    def test_will_not_published_after_revocation_RFC7009_2(self):
        from mqtt_clients import QUIET, PahoClient
        watcher_client = self.register(["mqtt:sub:#"])
        watch = PahoClient(self.broker.port(), version=5)
        watch.client.username_pw_set("oauth2", self.token(watcher_client, "mqtt:sub:#"))
        self.on_teardown(watch.close)
        watch.connect()
        self.assertEqual(watch.subscribe("#", qos=1), [1])
        client = self.register(["mqtt:pub:a/#"])
        tok = self.token(client, "mqtt:pub:a/#")
        c = w.RawClient(self.broker.port())
        self.on_teardown(c.close)
        c.send(w.connect("will-revoked", version=5, username="oauth2", password=tok.encode(),
                         will=("a/will", b"after-revoke", 1, False)))
        self.assertEqual(w.connack_reason(c.expect(w.CONNACK)), 0)
        self.post("/revoke", {"token": tok, "token_type_hint": "access_token"}, client)
        c.expect_disconnect_or_close(5, 0x98)
        # Control: a will of a session that simply loses its network is published after it.
        c2 = w.RawClient(self.broker.port())
        self.on_teardown(c2.close)
        c2.send(w.connect("will-ctl", version=5, username="oauth2", password=self.token(client, "mqtt:pub:a/#").encode(),
                          will=("a/control", b"c", 1, False)))
        self.assertEqual(w.connack_reason(c2.expect(w.CONNACK)), 0)
        c2.close()
        self.assertEqual(watch.next_message().topic, "a/control")
        watch.expect_no_message(QUIET)


class ReasonStringsAndMaximumPacketSize(ht.CertificateBound):
    """M1: [MQTT-3.1.2-24] the Server MUST NOT send packets exceeding the client's Maximum Packet
    Size; [MQTT-3.4.2-2], [MQTT-3.5.2-2], [MQTT-3.9.2-1], [MQTT-3.14.2-3]: the Reason String is
    left out of PUBACK / PUBREC / SUBACK / DISCONNECT when it would make the packet too large."""

    def test_denials_fit_the_clients_maximum_packet_size_MQTT_3_1_2_24(self):
        c = w.RawClient(self.broker.port())
        self.on_teardown(c.close)
        tok = self.token(self.client, "mqtt:pub:a/#")
        c.send(w.connect("small-max", version=5, username="oauth2", password=tok.encode(),
                         props=w.prop_u32(w.PROP_MAXIMUM_PACKET_SIZE, 16)))
        self.assertEqual(w.connack_reason(c.expect(w.CONNACK)), 0)
        for ptype, packet in [(w.PUBACK, w.publish("b/x", b"x", qos=1, packet_id=1, version=5)),
                              (w.PUBREC, w.publish("b/y", b"x", qos=2, packet_id=2, version=5)),
                              (w.SUBACK, w.subscribe(3, [("b/#", 1)], version=5))]:
            c.send(packet)
            p = c.expect(ptype)
            self.assertLessEqual(2 + len(p.body), 16, p)
            self.assertEqual(p.body[-1], ht.NOT_AUTHORIZED if ptype == w.SUBACK else p.body[-1])
        self.post("/revoke", {"token": tok, "token_type_hint": "access_token"}, self.client)
        p = c.expect(w.DISCONNECT)
        self.assertLessEqual(2 + len(p.body), 16, p)
        self.assertEqual(p.body[0], 0x98)


class MaximumTokenLifetime(ht.HostileTokenBase):
    """R1, hostile-inputs #67: exp in the far future is accepted only within the issuer's
    max_token_lifetime (default 24 h, counted from iat), else the session would never expire."""

    def test_far_future_exp_refused_HI_67(self):
        now = int(__import__("time").time())
        self.assert_refused("exp year 9999", self.signed_by_test_issuer(self.make_claims(exp=253402300799)))
        self.assert_refused("lifetime 25 h", self.signed_by_test_issuer(self.make_claims(exp=now + 25 * 3600)))
        self.assertEqual(self.connect_code_v5(self.signed_by_test_issuer(self.make_claims(exp=now + 23 * 3600))), 0)


if __name__ == "__main__":
    main()
