#!/usr/bin/python3
"""Checks tests/support/oidc (provider.mjs) through tests/support/oidc_provider.py.

Run: /usr/bin/python3 tests/support/oidc/selftest.py   (after scripts/install-deps)
Every check talks to the real node oidc-provider over loopback HTTP(S).
"""

import base64
import json
import os
import sys
import unittest

sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), "..")))

from jwcrypto import jwk, jws  # noqa: E402  (python3-jwcrypto, scripts/install-deps)

from oidc_provider import OidcProvider, OidcProviderError  # noqa: E402

CLIENTS = [
    {"client_id": "sensor-1", "client_secret": "secret one", "scope": "mqtt:pub:sensors/# mqtt:sub:cmd/#"},
    {"client_id": "opaque-1", "client_secret": "s2", "scope": "mqtt:pub:sensors/#", "token_format": "opaque"},
    {"client_id": "tollgate", "client_secret": "introspector"},
]


def jwt_parts(token):
    def part(p):
        return json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)))

    head, body, _ = token.split(".")
    return part(head), part(body)


def verify(token, jwks):
    keys = jwk.JWKSet.from_json(json.dumps(jwks))
    kid = jwt_parts(token)[0]["kid"]
    sig = jws.JWS()
    sig.deserialize(token)
    sig.verify(keys.get_key(kid))  # raises on a bad signature or an unknown kid


class ProviderTest(unittest.TestCase):
    def check_jwt(self, alg, https):
        with OidcProvider(CLIENTS, alg=alg, https=https) as idp:
            self.assertTrue(idp.issuer.startswith("https://" if https else "http://"))
            status, meta, _ = idp.request("GET", idp.discovery_url)
            self.assertEqual(status, 200)
            self.assertEqual(meta["issuer"], idp.issuer)
            self.assertEqual(meta["token_endpoint"], idp.token_endpoint)
            self.assertEqual(meta["jwks_uri"], idp.jwks_uri)
            self.assertEqual(meta["introspection_endpoint"], idp.introspection_endpoint)
            self.assertEqual(meta["revocation_endpoint"], idp.revocation_endpoint)
            answer = idp.token("sensor-1", "secret one", scope="mqtt:pub:sensors/#")
            self.assertEqual(answer["scope"], "mqtt:pub:sensors/#")
            head, claims = jwt_parts(answer["access_token"])
            self.assertEqual((head["alg"], head["typ"]), (alg, "at+jwt"))
            self.assertEqual(claims["aud"], "urn:tollgate:broker")
            self.assertEqual(claims["iss"], idp.issuer)
            self.assertEqual(claims["client_id"], "sensor-1")
            self.assertEqual(claims["exp"] - claims["iat"], 600)
            verify(answer["access_token"], idp.jwks())

    def test_es256_https(self):
        self.check_jwt("ES256", True)

    def test_rs256_http(self):
        self.check_jwt("RS256", False)

    def test_eddsa_http(self):
        self.check_jwt("EdDSA", False)

    def test_scope_outside_the_clients_is_refused(self):
        # RFC 6749 §5.2 invalid_scope: opaque-1 may not ask for sensor-1's subscribe scope.
        with OidcProvider(CLIENTS) as idp:
            status, body, _ = idp.request("POST", idp.token_endpoint,
                                          {"grant_type": "client_credentials", "scope": "mqtt:sub:cmd/#"},
                                          ("opaque-1", "s2"))
            self.assertEqual((status, body["error"]), (400, "invalid_scope"))

    def test_wrong_secret_is_invalid_client(self):
        with OidcProvider(CLIENTS) as idp:
            with self.assertRaises(OidcProviderError):
                idp.token("sensor-1", "wrong")

    def test_opaque_introspection_and_revocation(self):
        # RFC 7662 §2.2 active/scope/client_id/aud; RFC 7009 §2.2: revoked -> inactive.
        with OidcProvider(CLIENTS, https=True) as idp:
            token = idp.access_token("opaque-1", "s2", scope="mqtt:pub:sensors/#")
            self.assertNotIn(".", token)
            info = idp.introspect(token, "tollgate", "introspector")
            self.assertTrue(info["active"])
            self.assertEqual(info["scope"], "mqtt:pub:sensors/#")
            self.assertEqual(info["client_id"], "opaque-1")
            self.assertEqual(info["aud"], "urn:tollgate:broker")
            idp.revoke(token, "opaque-1", "s2")
            self.assertFalse(idp.introspect(token, "tollgate", "introspector")["active"])

    def test_rotation_puts_the_new_key_first_and_keeps_the_old(self):
        with OidcProvider(CLIENTS) as idp:
            old_token = idp.access_token("sensor-1", "secret one")
            old_kid = jwt_parts(old_token)[0]["kid"]
            new_kid = idp.rotate_keys()
            kids = [k["kid"] for k in idp.jwks()["keys"]]
            self.assertEqual(kids, [new_kid, old_kid])
            new_token = idp.access_token("sensor-1", "secret one")
            self.assertEqual(jwt_parts(new_token)[0]["kid"], new_kid)
            verify(old_token, idp.jwks())
            self.assertEqual(idp.retire_keys(), new_kid)
            self.assertEqual([k["kid"] for k in idp.jwks()["keys"]], [new_kid])

    def test_workers_share_one_port(self):
        with OidcProvider(CLIENTS, workers=2) as idp:
            for _ in range(4):
                verify(idp.access_token("sensor-1", "secret one"), idp.jwks())


if __name__ == "__main__":
    unittest.main(verbosity=2)
