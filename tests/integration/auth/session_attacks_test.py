"""Every JOSE attack of issue 3 replayed through CONNECT against the real tollgate (issue 5 tests).

The broker runs with its built-in authorization server and, next to it, a static issuer
("https://idp.test") whose ES256 key this script holds, so that claim-level attacks (expired, nbf,
iss, aud, typ, crit, duplicate claims, non-JSON) are *validly signed* and fail only on the check
under test. Key-level attacks (alg none, HS256 with the public key as secret, kid injection,
jwk/jku/x5u headers, stripped or "psychic" signatures, tampered payload) start from a real token of
the built-in server and its JWKS. Each forged token goes through a raw MQTT 5 CONNECT (password
and CUSTOM-JWT) and an MQTT 3.1.1 CONNECT; each must get CONNACK 0x86 / return code 4 (RFC 8725,
RFC 7515 §4.1.11, RFC 9068 §4, docs/auth.md "Reason codes"), while a well-formed token of the same
issuer is accepted and the broker keeps serving. A loopback HTTP server stands behind every jku/x5u
URL and must see no request (RFC 8725 §3.10: no fetch from a token-supplied URL).

Also the size limits: a 65,535-byte password is over max_packet_size_before_connect (64 KiB), so
MQTT 5 gets CONNACK 0x95 and MQTT 3.1.1 is closed ([MQTT-3.1.2-*] has no size code for 3.1.1); a
password over auth.max_token_bytes (8 KiB) but within the packet limit gets 0x86 / 4.
"""

import base64
import http.server
import json
import os
import struct
import tempfile
import threading
import time
import uuid

from cryptography.hazmat.primitives import hashes, hmac, serialization
from cryptography.hazmat.primitives.asymmetric import ec, utils

import mqtt_wire as w
from auth_test import TokenClientMixin, auth_config_text
from tollgate_fixture import BrokerTestCase, main

BAD_CREDENTIALS = 0x86  # MQTT 5 CONNACK: Bad User Name or Password
PACKET_TOO_LARGE = 0x95
V311_BAD_CREDENTIALS = 4  # MQTT 3.1.1 CONNACK return code [MQTT-3.2.2-*], table 3.1
TEST_ISSUER = "https://idp.test"
TEST_KID = "test-k1"
AUDIENCE = "urn:tollgate:broker"


def b64u(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64u_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def json_bytes(obj):
    return json.dumps(obj, separators=(",", ":")).encode()


def es256_sign(private_key, signing_input):
    der = private_key.sign(signing_input, ec.ECDSA(hashes.SHA256()))
    r, s = utils.decode_dss_signature(der)
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def compact(header_bytes, payload_bytes, sign):
    """A compact JWS from raw header/payload bytes; sign(signing_input) -> signature bytes."""
    signing_input = (b64u(header_bytes) + "." + b64u(payload_bytes)).encode()
    return signing_input.decode() + "." + b64u(sign(signing_input))


def ec_public_jwk(private_key, kid):
    numbers = private_key.public_key().public_numbers()
    return {"kty": "EC", "crv": "P-256", "kid": kid, "alg": "ES256", "use": "sig",
            "x": b64u(numbers.x.to_bytes(32, "big")), "y": b64u(numbers.y.to_bytes(32, "big"))}


class FetchTrap:
    """A loopback HTTP server that records every request (none may arrive)."""

    def __init__(self):
        trap = self
        self.requests = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                trap.requests.append(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"keys":[]}')

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path):
        return "http://127.0.0.1:%d%s" % (self.server.server_address[1], path)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class AttackBase(TokenClientMixin, BrokerTestCase):
    signing_alg = "ES256"

    def broker_options(self):
        self.keydir = tempfile.mkdtemp(prefix="tollgate-attacks-")
        self.test_key = ec.generate_private_key(ec.SECP256R1())
        pem_path = os.path.join(self.keydir, "idp.pem")
        with open(pem_path, "wb") as f:
            f.write(self.test_key.public_key().public_bytes(serialization.Encoding.PEM,
                                                            serialization.PublicFormat.SubjectPublicKeyInfo))
        text = auth_config_text(auth={"leeway": "0s"})
        text = text.replace('[oauth]\n', '[oauth]\nsigning_alg = "%s"\n' % self.signing_alg)
        text += ('\n[[auth.issuers]]\nissuer = "%s"\nkeys = [{ file = %s, kid = "%s", alg = "ES256" }]\n'
                 'algorithms = ["ES256"]\n' % (TEST_ISSUER, json.dumps(pem_path), TEST_KID))
        return {"config_text": text}

    def setUp(self):
        super().setUp()
        self.attacker = ec.generate_private_key(ec.SECP256R1())
        self.client = self.register(["mqtt:pub:a/#", "mqtt:all:#"])
        self.real = self.token(self.client, "mqtt:pub:a/#")
        h, p, s = self.real.split(".")
        self.real_header = json.loads(b64u_decode(h))
        self.real_claims = json.loads(b64u_decode(p))
        self.real_sig = b64u_decode(s)
        self.assertEqual(self.real_header["alg"], self.signing_alg)
        self.connects = 0

    # ---- token makers -----------------------------------------------------------------------

    def make_claims(self, **changes):
        now = int(time.time())
        claims = {"iss": TEST_ISSUER, "aud": AUDIENCE, "sub": "device-1", "client_id": "device-1",
                  "iat": now, "exp": now + 300, "jti": str(uuid.uuid4()), "scope": "mqtt:all:a/#"}
        for k, v in changes.items():
            if v is None:
                claims.pop(k, None)
            else:
                claims[k] = v
        return claims

    def signed_by_test_issuer(self, claims=None, header=None, raw_header=None, raw_payload=None):
        """A token validly signed with the static issuer's key."""
        hdr = {"alg": "ES256", "typ": "at+jwt", "kid": TEST_KID}
        hdr.update(header or {})
        header_bytes = raw_header if raw_header is not None else json_bytes(
            {k: v for k, v in hdr.items() if v is not None})
        payload_bytes = raw_payload if raw_payload is not None else json_bytes(
            claims if claims is not None else self.make_claims())
        return compact(header_bytes, payload_bytes, lambda m: es256_sign(self.test_key, m))

    def widened_claims(self):
        claims = dict(self.real_claims)
        claims["scope"] = "mqtt:all:#"
        return claims

    def signed_by_attacker(self, header_changes, claims=None):
        hdr = dict(self.real_header)
        hdr.update(header_changes)
        hdr = {k: v for k, v in hdr.items() if v is not None}
        return compact(json_bytes(hdr), json_bytes(claims or self.widened_claims()),
                       lambda m: es256_sign(self.attacker, m))

    # ---- checks ---------------------------------------------------------------------------

    def connect_code_v5(self, token, enhanced=False):
        self.connects += 1
        cid = "atk-%d" % self.connects
        c = w.RawClient(self.broker.port())
        try:
            if enhanced:
                c.send(w.connect(cid, version=5, props=self.auth_props(token)))
            else:
                c.send(w.connect(cid, version=5, username="oauth2", password=token.encode()
                                 if isinstance(token, str) else token))
            p = c.read_packet()
            if p is None:
                return "closed"
            self.assertEqual(p.type, w.CONNACK, p)
            code = w.connack_reason(p)
            if code != 0:
                c.expect_closed()  # a refusing CONNACK is followed by the close [MQTT-3.2.2-7]
            return code
        finally:
            c.close()

    def connect_code_v311(self, token):
        self.connects += 1
        c = w.RawClient(self.broker.port())
        try:
            c.send(w.connect("atk-%d" % self.connects, version=4, username="oauth2",
                             password=token.encode() if isinstance(token, str) else token))
            p = c.read_packet()
            if p is None:
                return "closed"
            self.assertEqual(p.type, w.CONNACK, p)
            code = w.connack_reason(p)
            if code != 0:
                c.expect_closed()
            return code
        finally:
            c.close()

    def assert_refused(self, name, token):
        with self.subTest(attack=name, path="v5 password"):
            self.assertEqual(self.connect_code_v5(token), BAD_CREDENTIALS)
        with self.subTest(attack=name, path="v5 CUSTOM-JWT"):
            self.assertEqual(self.connect_code_v5(token, enhanced=True), BAD_CREDENTIALS)
        with self.subTest(attack=name, path="v3.1.1 password"):
            self.assertEqual(self.connect_code_v311(token), V311_BAD_CREDENTIALS)

    def assert_still_serving(self):
        """The broker is up and a genuine token still connects and publishes."""
        self.assertTrue(self.broker.alive(), self.broker.log_tail())
        self.assertEqual(self.connect_code_v5(self.real), 0)
        c, ack = self.raw_connect_v5("still-serving", username="oauth2", password=self.real.encode())
        self.assertEqual(w.connack_reason(ack), 0)
        self.assertIn(self.puback_reason(c, "a/ok", 1), (0x00, 0x10))
        self.assertEqual(self.puback_reason(c, "b/not-granted", 2), 0x87)

    def assert_no_secret_in_log(self, *tokens):
        log = self.broker.log_text()
        for t in tokens:
            sig = t.rsplit(".", 1)[-1]
            if len(sig) >= 16:
                self.assertNotIn(sig, log)


class JoseAttacksThroughConnect(AttackBase):
    """ES256 built-in server (the default)."""

    def test_controls_genuine_tokens_are_accepted(self):
        # Without these the refusals below would prove nothing.
        self.assertEqual(self.connect_code_v5(self.real), 0)
        self.assertEqual(self.connect_code_v5(self.signed_by_test_issuer()), 0)
        self.assertEqual(self.connect_code_v5(self.signed_by_test_issuer(), enhanced=True), 0)
        self.assertEqual(self.connect_code_v311(self.signed_by_test_issuer()), 0)

    def test_alg_none_RFC8725_2_1(self):
        for alg in ("none", "None", "NONE", "nOnE"):
            hdr = dict(self.real_header, alg=alg)
            head = b64u(json_bytes(hdr)) + "." + b64u(json_bytes(self.widened_claims()))
            self.assert_refused("alg=%s empty signature" % alg, head + ".")
            self.assert_refused("alg=%s real signature" % alg, head + "." + b64u(self.real_sig))
        self.assert_still_serving()

    def test_hs256_with_the_public_key_as_secret_RFC8725_2_1(self):
        jwk = next(k for k in self.jwks()["keys"] if k["kid"] == self.real_header["kid"])
        secrets = {"x coordinate": b64u_decode(jwk["x"]), "JWK JSON": json_bytes(jwk)}
        for name, secret in secrets.items():
            def mac(m, secret=secret):
                h = hmac.HMAC(secret, hashes.SHA256())
                h.update(m)
                return h.finalize()
            hdr = dict(self.real_header, alg="HS256")
            self.assert_refused("HS256 keyed with " + name,
                                compact(json_bytes(hdr), json_bytes(self.widened_claims()), mac))
        self.assert_still_serving()

    def test_kid_traversal_and_injection_RFC8725_3_10(self):
        kids = ["../../../../dev/null", "/etc/passwd", "' OR '1'='1", "*)(uid=*))(|(uid=*", "k\u0000" +
                self.real_header["kid"], "x" * 10000, self.real_header["kid"] + "/../" + self.real_header["kid"]]
        for kid in kids:
            self.assert_refused("kid=%r" % kid[:40], self.signed_by_attacker({"kid": kid}))
        self.assert_still_serving()

    def test_jwk_jku_x5u_headers_are_never_trusted_or_fetched_RFC8725_3_10(self):
        trap = FetchTrap()
        self.addCleanup(trap.close)
        attacker_jwk = ec_public_jwk(self.attacker, "attacker")
        cases = {
            "embedded jwk": {"jwk": attacker_jwk, "kid": "attacker"},
            "embedded jwk, real kid": {"jwk": attacker_jwk},
            "jku": {"jku": trap.url("/jwks.json"), "kid": "attacker"},
            "jku, real kid": {"jku": trap.url("/jwks2.json")},
            "x5u": {"x5u": trap.url("/cert.pem"), "kid": "attacker"},
            "x5c": {"x5c": ["MIIBszCCAVmgAwIBAgIU"], "kid": "attacker"},
        }
        for name, changes in cases.items():
            self.assert_refused(name, self.signed_by_attacker(changes))
        self.assert_still_serving()
        self.assertEqual(trap.requests, [], "the broker fetched a token-supplied URL")

    def test_crit_header_RFC7515_4_1_11(self):
        self.assert_refused("crit [foo]", self.signed_by_test_issuer(header={"crit": ["foo"], "foo": 1}))
        self.assert_refused("crit []", self.signed_by_test_issuer(header={"crit": []}))
        self.assert_refused("crit [exp]", self.signed_by_test_issuer(header={"crit": ["exp"]}))
        self.assert_still_serving()

    def test_time_claims_RFC7519_4_1_4_and_4_1_5(self):
        now = int(time.time())
        self.assert_refused("expired", self.signed_by_test_issuer(self.make_claims(exp=now - 5)))
        self.assert_refused("exp missing", self.signed_by_test_issuer(self.make_claims(exp=None)))
        self.assert_refused("exp as string", self.signed_by_test_issuer(self.make_claims(exp=str(now + 300))))
        self.assert_refused("nbf in the future", self.signed_by_test_issuer(self.make_claims(nbf=now + 300)))
        self.assert_refused("iat in the future", self.signed_by_test_issuer(self.make_claims(iat=now + 300)))
        self.assert_still_serving()

    def test_wrong_iss_aud_typ_RFC9068_4(self):
        cases = {
            "iss trailing slash": self.signed_by_test_issuer(self.make_claims(iss=TEST_ISSUER + "/")),
            "iss other": self.signed_by_test_issuer(self.make_claims(iss="https://evil.test")),
            "iss missing": self.signed_by_test_issuer(self.make_claims(iss=None)),
            "aud other": self.signed_by_test_issuer(self.make_claims(aud="urn:other")),
            "aud array without us": self.signed_by_test_issuer(self.make_claims(aud=["urn:a", "urn:b"])),
            "aud empty array": self.signed_by_test_issuer(self.make_claims(aud=[])),
            "aud missing": self.signed_by_test_issuer(self.make_claims(aud=None)),
            "typ JWT (an ID token)": self.signed_by_test_issuer(header={"typ": "JWT"}),
            "typ missing": self.signed_by_test_issuer(header={"typ": None}),
        }
        for name, token in cases.items():
            self.assert_refused(name, token)
        # The built-in server's token presented as if from the static issuer's key is refused too.
        self.assert_refused("real token re-signed by the test key under the built-in kid",
                            compact(json_bytes(self.real_header), json_bytes(self.real_claims),
                                    lambda m: es256_sign(self.test_key, m)))
        self.assert_still_serving()

    def test_signature_stripped_or_tampered_RFC7515_5_2(self):
        h, p, s = self.real.split(".")
        widened = b64u(json_bytes(self.widened_claims()))
        cases = {
            "signature stripped, trailing dot": h + "." + p + ".",
            "two segments": h + "." + p,
            "payload widened, real signature": h + "." + widened + "." + s,
            "four segments": self.real + "." + s,
            "padded base64": h + "." + p + "." + s + "==",
            "signature truncated": h + "." + p + "." + s[:-4],
            "JWE-shaped (5 segments)": h + "." + p + "." + s + "." + s + "." + s,
        }
        for name, token in cases.items():
            self.assert_refused(name, token)
        self.assert_still_serving()

    def test_psychic_signature_r_s_zero_CVE_2022_21449(self):
        h = b64u(json_bytes(self.real_header))
        p = b64u(json_bytes(self.widened_claims()))
        n = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551  # P-256 order
        cases = {
            "r=s=0 (64 zero bytes)": bytes(64),
            "r=s=0 DER": base64.b64decode("MAYCAQACAQA="),
            "r=s=n": n.to_bytes(32, "big") * 2,
            "63 bytes": bytes(63),
            "65 bytes": bytes(65),
        }
        for name, sig in cases.items():
            self.assert_refused(name, h + "." + p + "." + b64u(sig))
        self.assert_still_serving()

    def test_non_json_and_duplicate_claims_RFC8725_3_7(self):
        now = int(time.time())
        base = json_bytes(self.make_claims())[1:-1].decode()
        cases = {
            "header not JSON": self.signed_by_test_issuer(raw_header=b"not json"),
            "payload not JSON": self.signed_by_test_issuer(raw_payload=b"[1,2"),
            "payload an array": self.signed_by_test_issuer(raw_payload=b"[]"),
            "payload trailing garbage": self.signed_by_test_issuer(raw_payload=json_bytes(self.make_claims()) + b"x"),
            "payload invalid UTF-8": self.signed_by_test_issuer(
                raw_payload=("{" + base + ',"name":"').encode() + b"\xff\xfe" + b'"}'),
            "payload nested 10000 deep": self.signed_by_test_issuer(
                raw_payload=("{" + base + ',"x":').encode() + b"[" * 10000 + b"]" * 10000 + b"}"),
            "duplicate exp": self.signed_by_test_issuer(
                raw_payload=('{"exp":1,' + base + "}").encode()),
            "duplicate sub": self.signed_by_test_issuer(
                raw_payload=("{" + base + ',"sub":"admin"}').encode()),
            "duplicate alg in header": self.signed_by_test_issuer(
                raw_header=('{"alg":"none","alg":"ES256","typ":"at+jwt","kid":"%s"}' % TEST_KID).encode()),
            "exp above 2^53": self.signed_by_test_issuer(self.make_claims(exp=2 ** 60 + now)),
        }
        for name, token in cases.items():
            self.assert_refused(name, token)
        self.assert_still_serving()

    def test_oversized_token_refused_before_parsing(self):
        # Over auth.max_token_bytes (8 KiB) but well within the 64 KiB pre-CONNECT packet limit.
        big = self.signed_by_test_issuer(self.make_claims(pad="x" * 9000))
        self.assertGreater(len(big), 8192)
        self.assert_refused("9 KB validly signed token", big)
        self.assert_refused("60,000 dots", "." * 60000)
        self.assert_still_serving()

    def test_65535_byte_password_MQTT_3_1_2_and_packet_limit(self):
        password = b"e" * 65535
        # MQTT 5: the CONNECT exceeds max_packet_size_before_connect (64 KiB): CONNACK 0x95, refused
        # before its body is read; MQTT 3.1.1 has no such code: the connection is closed.
        self.assertEqual(self.connect_code_v5(password), PACKET_TOO_LARGE)
        self.assertEqual(self.connect_code_v311(password), "closed")
        # The same as MQTT 5 Authentication Data (a binary property holds at most 65,535 bytes).
        self.assertEqual(self.connect_code_v5(password.decode(), enhanced=True), PACKET_TOO_LARGE)
        # Just under the packet limit: the token size limit answers, 0x86 / 4.
        self.assertEqual(self.connect_code_v5(b"e" * 65000), BAD_CREDENTIALS)
        self.assertEqual(self.connect_code_v311(b"e" * 65000), V311_BAD_CREDENTIALS)
        # Many at once: nothing accumulates, the broker keeps serving.
        clients = []
        try:
            for i in range(50):
                c = w.RawClient(self.broker.port())
                clients.append(c)
                c.send(w.connect("big-%d" % i, version=5, username="oauth2", password=password))
            for c in clients:
                p = c.read_packet()
                self.assertIsNotNone(p)
                self.assertEqual(w.connack_reason(p), PACKET_TOO_LARGE)
        finally:
            for c in clients:
                c.close()
        self.assert_still_serving()


class JoseAttacksRS256(AttackBase):
    """The built-in server signing with RS256: the classic RSA-public-key-as-HMAC-secret attack."""

    signing_alg = "RS256"

    def test_hs256_with_the_rsa_public_key_as_secret_RFC8725_2_1(self):
        jwk = next(k for k in self.jwks()["keys"] if k["kid"] == self.real_header["kid"])
        n = int.from_bytes(b64u_decode(jwk["n"]), "big")
        e = int.from_bytes(b64u_decode(jwk["e"]), "big")
        from cryptography.hazmat.primitives.asymmetric import rsa
        public = rsa.RSAPublicNumbers(e, n).public_key()
        secrets = {
            "SPKI PEM": public.public_bytes(serialization.Encoding.PEM,
                                            serialization.PublicFormat.SubjectPublicKeyInfo),
            "PKCS#1 PEM": public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.PKCS1),
            "SPKI DER": public.public_bytes(serialization.Encoding.DER,
                                            serialization.PublicFormat.SubjectPublicKeyInfo),
            "modulus n": b64u_decode(jwk["n"]),
            "empty": b"",
        }
        for name, secret in secrets.items():
            for alg in ("HS256", "HS384", "HS512"):
                digest = {"HS256": hashes.SHA256(), "HS384": hashes.SHA384(), "HS512": hashes.SHA512()}[alg]

                def mac(m, secret=secret, digest=digest):
                    h = hmac.HMAC(secret if secret else b"\0", digest)
                    h.update(m)
                    return h.finalize() if secret else b""
                hdr = dict(self.real_header, alg=alg)
                self.assert_refused("%s keyed with %s" % (alg, name),
                                    compact(json_bytes(hdr), json_bytes(self.widened_claims()), mac))
        self.assert_still_serving()

    def test_rsa_signature_of_wrong_length_libjwt_281(self):
        h, p, s = self.real.split(".")
        widened = b64u(json_bytes(self.widened_claims()))
        for name, sig in {"AAAA": b"\0\0\0", "one byte short": b64u_decode(s)[:-1],
                          "one byte long": b64u_decode(s) + b"\0", "all zero": bytes(len(b64u_decode(s)))}.items():
            self.assert_refused(name, h + "." + widened + "." + b64u(sig))
        self.assert_refused("PS256 header on an RS256 signature",
                            b64u(json_bytes(dict(self.real_header, alg="PS256"))) + "." + p + "." + s)
        self.assert_still_serving()


if __name__ == "__main__":
    main()
