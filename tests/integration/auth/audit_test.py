"""The audit log, `tollgate admin explain` and the structured permissions claim, end to end
(docs/auth.md "Audit log", "Explaining a decision", "Structured permissions claim").

The real tollgate runs with its built-in authorization server, [auth] on, [auth.audit] writing to a
file, and a second, static-key issuer whose tokens this test signs itself with PyJWT (Debian
python3-jwt): that is how a token with an arbitrary exp, a bad signature, or only the
mqtt_permissions claim (which the built-in server cannot mint) is made.
"""

import json
import os
import subprocess
import time

import jwt
from cryptography.hazmat.primitives.asymmetric import ec

import mqtt_wire as w
from auth_test import TokenClientMixin, auth_config_text, mosquitto_pub
from tollgate_fixture import BrokerTestCase, binary_path, main, toml_value, wait_until

EXTERNAL_ISSUER = "https://idp.example"
AUDIENCE = "urn:tollgate:broker"
EXPLAIN_ALLOWED, EXPLAIN_DENIED, EXPLAIN_USAGE = 0, 1, 2


class ExternalIssuer:
    """An ES256 key, its JWKS file, and tokens signed with it (or with another key)."""

    def __init__(self, directory):
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.other = ec.generate_private_key(ec.SECP256R1())
        jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(self.key.public_key()))
        jwk.update({"kid": "ext-1", "alg": "ES256", "use": "sig"})
        self.jwks_path = os.path.join(directory, "ext-jwks.json")
        with open(self.jwks_path, "w") as f:
            json.dump({"keys": [jwk]}, f)
        self.serial = 0

    def token(self, claims=None, ttl=300, wrong_key=False):
        now = int(time.time())
        self.serial += 1
        body = {"iss": EXTERNAL_ISSUER, "aud": AUDIENCE, "sub": "device-owner", "client_id": "ext-app",
                "jti": "ext-jti-%d" % self.serial, "iat": now, "exp": now + ttl}
        body.update(claims or {})
        return jwt.encode(body, self.other if wrong_key else self.key, algorithm="ES256",
                          headers={"kid": "ext-1", "typ": "at+jwt"})


class AuditAndExplain(TokenClientMixin, BrokerTestCase):
    def broker_options(self):
        self.workdir_extra = os.path.join("/tmp", "tollgate-audit-it-%d-%d" % (os.getpid(), id(self)))
        os.makedirs(self.workdir_extra, exist_ok=True)
        self.issuer = ExternalIssuer(self.workdir_extra)
        self.audit_path = os.path.join(self.workdir_extra, "audit.jsonl")
        text = auth_config_text(auth={"leeway": "0s"})
        text += "\n[auth.audit]\npath = %s\nmax_queue = 1000\n" % toml_value(self.audit_path)
        text += ("\n[[auth.issuers]]\nissuer = %s\nkeys = [%s]\nalgorithms = [\"ES256\"]\n"
                 % (toml_value(EXTERNAL_ISSUER), toml_value(self.issuer.jwks_path)))
        return {"config_text": text}

    def tearDown(self):
        try:
            super().tearDown()
        finally:
            for name in os.listdir(self.workdir_extra):
                os.unlink(os.path.join(self.workdir_extra, name))
            os.rmdir(self.workdir_extra)

    # ---- helpers -------------------------------------------------------------------------------

    def explain(self, token, *args, via_stdin=False):
        """`tollgate admin --data-dir D explain --config C ...`; returns (exit code, stdout+stderr)."""
        cmd = [binary_path(), "admin", "--data-dir", self.broker.data_dir, "explain", "--config",
               self.broker.config_path]
        stdin = None
        if via_stdin:
            cmd += ["--token", "-"]
            stdin = token.encode() + b"\n"
        else:
            path = os.path.join(self.workdir_extra, "token.jwt")
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(token + "\n")
            cmd += ["--token-file", path]
        r = subprocess.run(cmd + list(args), input=stdin, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=60)
        out = r.stdout.decode(errors="replace")
        self.assertNotIn(token, out, "explain printed the token")
        return r.returncode, out

    def audit_lines(self):
        if not os.path.exists(self.audit_path):
            return []
        with open(self.audit_path, encoding="utf-8") as f:
            return [json.loads(line) for line in f if line.strip()]

    def wait_audit(self, predicate, what):
        """The writer thread appends asynchronously; wait for the line to appear."""
        wait_until(lambda: any(predicate(e) for e in self.audit_lines()), 10.0, what)
        return [e for e in self.audit_lines() if predicate(e)]

    # ---- explain ---------------------------------------------------------------------------------

    def test_explain_allowed_denied_and_grants(self):
        client = self.register(["mqtt:pub:devices/{client_id}/#", "mqtt:sub:cmd/+"])
        tok = self.token(client, "mqtt:pub:devices/{client_id}/# mqtt:sub:cmd/+")
        rc, out = self.explain(tok, "--client-id", "dev-1", "--username", "oauth2", "--publish", "devices/dev-1/up",
                               "--qos", "1")
        self.assertEqual(rc, EXPLAIN_ALLOWED, out)
        self.assertIn("authentication: OK", out)
        self.assertIn("pub  devices/dev-1/#    from mqtt:pub:devices/{client_id}/#", out)
        self.assertIn("ALLOWED", out)
        self.assertIn("rule:   mqtt:pub:devices/{client_id}/#", out)
        self.assertIn("client_id  " + client[0], out)
        rc, out = self.explain(tok, "--client-id", "dev-1", "--publish", "devices/dev-2/up")
        self.assertEqual(rc, EXPLAIN_DENIED, out)
        self.assertIn("DENIED", out)
        self.assertIn("rule:   default deny", out)
        # Subscribe, token from stdin; a filter wider than the grant is refused.
        rc, out = self.explain(tok, "--client-id", "dev-1", "--subscribe", "cmd/x", via_stdin=True)
        self.assertEqual(rc, EXPLAIN_ALLOWED, out)
        rc, out = self.explain(tok, "--client-id", "dev-1", "--subscribe", "cmd/#", via_stdin=True)
        self.assertEqual(rc, EXPLAIN_DENIED, out)
        # A placeholder value that would widen the grant (CVE-2017-7650) drops it, and says why.
        rc, out = self.explain(tok, "--client-id", "a+b", "--publish", "devices/a+b/x")
        self.assertEqual(rc, EXPLAIN_DENIED, out)
        self.assertIn("dropped mqtt:pub:devices/{client_id}/#: placeholder value", out)

    def test_explain_bad_signature_expired_and_usage(self):
        client = self.register(["mqtt:pub:a/#"])
        tok = self.token(client, "mqtt:pub:a/#")
        head, payload, sig = tok.split(".")
        forged = "%s.%s.%s" % (head, payload, sig[:-4] + ("AAAA" if not sig.endswith("AAAA") else "BBBB"))
        rc, out = self.explain(forged, "--client-id", "c", "--publish", "a/x")
        self.assertEqual(rc, EXPLAIN_DENIED, out)
        self.assertIn("authentication: FAILED, CONNACK 0x86", out)
        self.assertIn("NOT verified", out)
        self.assertIn("failed check: signature is invalid", out)  # auth_result::detail
        expired = self.issuer.token(ttl=-60, claims={"scope": "mqtt:all:#"})
        rc, out = self.explain(expired, "--client-id", "c", "--publish", "a/x")
        self.assertEqual(rc, EXPLAIN_DENIED, out)
        self.assertIn("authentication: FAILED", out)
        self.assertIn("s ago", out)
        self.assertIn("failed check: token has expired (exp)", out)
        # Other key, same kid: the signature does not verify.
        rc, out = self.explain(self.issuer.token(wrong_key=True), "--client-id", "c", "--publish", "a/x")
        self.assertEqual(rc, EXPLAIN_DENIED, out)
        # Usage errors: exit code 2.
        r = subprocess.run([binary_path(), "admin", "explain", "--token", "eyJhbGciOi.x.y", "--publish", "a"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
        self.assertEqual(r.returncode, EXPLAIN_USAGE, r.stdout)
        self.assertNotIn(b"eyJhbGciOi", r.stdout.replace(b"--token eyJhbGciOi", b""))
        rc, out = self.explain(tok, "--publish", "a/x", "--subscribe", "a/#")
        self.assertEqual(rc, EXPLAIN_USAGE, out)
        r = subprocess.run([binary_path(), "admin", "explain", "--config", "/nonexistent.toml", "--token-file",
                            "/dev/null"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
        self.assertEqual(r.returncode, EXPLAIN_USAGE, r.stdout)

    # ---- structured claim ------------------------------------------------------------------------

    def test_structured_claim_only_token(self):
        tok = self.issuer.token(claims={"scope": "openid", "mqtt_permissions": [
            {"action": "pub", "filter": "fleet/{client_id}/telemetry"},
            {"action": "sub", "filter": "fleet/{client_id}/cmd/#"},
            {"action": "pub", "filter": "x", "effect": "deny"}]})
        rc, out = self.explain(tok, "--client-id", "truck-7", "--publish", "fleet/truck-7/telemetry")
        self.assertEqual(rc, EXPLAIN_ALLOWED, out)
        self.assertIn("rule:   mqtt_permissions[0] pub fleet/{client_id}/telemetry", out)
        self.assertIn("dropped mqtt_permissions[2]: unknown member", out)
        # Through the broker with a real client: in scope goes through, out of scope is refused.
        rc, out = mosquitto_pub(self.broker.port(), "fleet/truck-7/telemetry", "t", qos=1, version="mqttv5",
                                extra=["-i", "truck-7", "-u", "oauth2", "-P", tok])
        self.assertEqual(rc, 0, out)
        rc, out = mosquitto_pub(self.broker.port(), "fleet/truck-8/telemetry", "t", qos=1, version="mqttv5",
                                extra=["-i", "truck-7", "-u", "oauth2", "-P", tok])
        self.assertTrue(rc != 0 or "not authorized" in out.lower(), out)
        denied = self.wait_audit(lambda e: e.get("topic") == "fleet/truck-8/telemetry", "the denied publish")
        self.assertEqual(denied[0]["outcome"], "deny")
        self.assertEqual(denied[0]["issuer"], EXTERNAL_ISSUER)

    # ---- audit log -------------------------------------------------------------------------------

    def test_audit_lines_for_mosquitto_pub_in_and_out_of_scope(self):
        client = self.register(["mqtt:pub:allowed/#"])
        tok = self.token(client, "mqtt:pub:allowed/#")
        rc, out = mosquitto_pub(self.broker.port(), "allowed/x", "hi", qos=1, version="mqttv5",
                                extra=["-i", "pub-in", "-u", "oauth2", "-P", tok])
        self.assertEqual(rc, 0, out)
        mosquitto_pub(self.broker.port(), "forbidden/x", "hi", qos=1, version="mqttv5",
                      extra=["-i", "pub-out", "-u", "oauth2", "-P", tok])
        mosquitto_pub(self.broker.port(), "allowed/x", "hi", qos=1,
                      extra=["-i", "pub-bad", "-u", "oauth2", "-P", tok[:-3] + "xyz"])
        allowed = self.wait_audit(lambda e: e.get("event") == "authz" and e.get("topic") == "allowed/x",
                                  "the allowed publish")[0]
        denied = self.wait_audit(lambda e: e.get("event") == "authz" and e.get("topic") == "forbidden/x",
                                 "the denied publish")[0]
        failed = self.wait_audit(lambda e: e.get("event") == "authn" and e.get("client_id") == "pub-bad",
                                 "the failed CONNECT")[0]
        success = [e for e in self.audit_lines() if e.get("event") == "authn" and e.get("client_id") == "pub-in"][0]
        jti = jwt.decode(tok, options={"verify_signature": False})["jti"]
        self.assertEqual(success["outcome"], "success")
        self.assertEqual(success["jti"], jti)
        self.assertEqual(success["username"], "oauth2")
        self.assertEqual(success["subject"], client[0])
        self.assertTrue(success["peer"].startswith("127.0.0.1:"), success)
        self.assertEqual(allowed["outcome"], "allow")
        self.assertEqual(allowed["rule"], "mqtt:pub:allowed/#")
        self.assertEqual((allowed["action"], allowed["qos"], allowed["retain"]), ("publish", 1, False))
        self.assertEqual(allowed["jti"], jti)
        self.assertEqual(denied["outcome"], "deny")
        self.assertEqual(denied["client_id"], "pub-out")
        self.assertEqual(denied["rule"], "default deny")
        self.assertEqual(failed["outcome"], "failure")
        self.assertEqual(failed["reason_code"], "0x86")
        self.assertEqual(len(failed["token_fp"]), 12)
        for e in self.audit_lines():
            self.assertRegex(e["time"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
        with open(self.audit_path, encoding="utf-8") as f:
            text = f.read()
        self.assertNotIn(tok, text)
        self.assertNotIn(tok.split(".")[2], text)  # not even the signature

    def test_audit_detail_names_the_failed_check_of_expired_and_forged_tokens(self):
        client = self.register(["mqtt:pub:a/#"])
        tok = self.token(client, "mqtt:pub:a/#")
        head, payload, sig = tok.split(".")
        forged = "%s.%s.%s" % (head, payload, sig[:-4] + ("AAAA" if not sig.endswith("AAAA") else "BBBB"))
        expired = self.issuer.token(ttl=-60, claims={"scope": "mqtt:all:#"})
        for client_id, t in (("det-forged", forged), ("det-expired", expired)):
            c, ack = self.raw_connect_v5(client_id, username="oauth2", password=t.encode())
            self.assertEqual(w.connack_reason(ack), 0x86)
            self.assertNotIn(b"signature", ack.body)  # the detail is never sent to the client
            self.assertNotIn(b"exp)", ack.body)
        forged_line = self.wait_audit(lambda e: e.get("client_id") == "det-forged", "the forged CONNECT")[0]
        expired_line = self.wait_audit(lambda e: e.get("client_id") == "det-expired", "the expired CONNECT")[0]
        for line in (forged_line, expired_line):
            self.assertEqual((line["event"], line["outcome"], line["reason_code"]), ("authn", "failure", "0x86"))
            self.assertEqual(line["reason"], "invalid token")
        self.assertEqual(forged_line["detail"], "signature is invalid")
        self.assertEqual(expired_line["detail"], "token has expired (exp)")
        c, ack = self.raw_connect_v5("det-ok", username="oauth2", password=tok.encode())
        self.assertEqual(w.connack_reason(ack), 0)
        success = self.wait_audit(lambda e: e.get("client_id") == "det-ok", "the genuine CONNECT")[0]
        self.assertEqual(success["outcome"], "success")
        self.assertNotIn("detail", success)
        with open(self.audit_path, encoding="utf-8") as f:
            text = f.read()
        for t in (tok, forged, expired):
            self.assertNotIn(t, text)
            self.assertNotIn(t.split(".")[2], text)


if __name__ == "__main__":
    main()
