"""Access tokens shaped like those of common identity providers (docs/auth.md "Tokens from common
identity providers").

Each provider is an external issuer of the real tollgate: its keys are a JWKS served by this test on
loopback (`jwks_uri`, `allow_http`), and its tokens carry the header and claims that provider puts
in its access tokens:

- Keycloak: typ "JWT", aud ["mqtt-broker", "account"], azp, `scope` string (RFC 9068 §2.2.3), and
  realm roles under `realm_access.roles` (a second realm reads those: `scope_claim =
  "realm_access.roles"`);
- Okta (custom authorization server): no typ, aud "api://mqtt", cid/uid, `scp` array;
- Azure AD / Entra ID v2: typ "JWT" and an x5t header, aud = the API's application id URI, tid/oid,
  `scp` space-separated string (delegated), `roles` array (application permissions, a second tenant);
- Auth0 with the RFC 9068 token profile: typ "at+jwt" (`require_typ = true`), aud array, azp,
  `permissions` array beside a `scope` string.

For each: the topic its scope claim grants passes (PUBACK 0x00/0x10, SUBACK granted), another topic
is refused (MQTT 5 PUBACK / SUBACK 0x87, [MQTT-3.3.4-?] / [MQTT-3.9.3-1]); MQTT scopes written in a
claim the issuer is NOT configured to read grant nothing; mosquitto_pub / mosquitto_sub deliver with
the token as password.
"""

import base64
import http.server
import json
import threading
import time
import uuid

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils

import mqtt_wire as w
from auth_test import TokenClientMixin, auth_config_text
from mqtt_clients import MosquittoSub, PahoClient, mosquitto_pub
from tollgate_fixture import BrokerTestCase, main, toml_value

NOT_AUTHORIZED = 0x87
BAD_CREDENTIALS = 0x86
ALLOWED = (0x00, 0x10)  # success, or no matching subscribers


def b64u(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def int_b64u(n):
    return b64u(n.to_bytes((n.bit_length() + 7) // 8, "big"))


class Provider:
    """One identity provider: a signing key, its JWK, the issuer settings and a token shape."""

    def __init__(self, name, issuer, jwks_path, alg, header, audiences, scope_claim, require_typ, claims):
        self.name = name
        self.issuer = issuer
        self.jwks_path = jwks_path
        self.alg = alg
        self.kid = "%s-%s" % (name, uuid.uuid4().hex[:8])
        self.header = header
        self.audiences = audiences
        self.scope_claim = scope_claim
        self.require_typ = require_typ
        self.claims = claims  # function(client_id, grant) -> the token's claims
        if alg == "RS256":
            self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        else:
            self.key = ec.generate_private_key(ec.SECP256R1())

    def jwk(self):
        if self.alg == "RS256":
            n = self.key.public_key().public_numbers()
            return {"kty": "RSA", "kid": self.kid, "use": "sig", "alg": "RS256", "n": int_b64u(n.n),
                    "e": int_b64u(n.e)}
        n = self.key.public_key().public_numbers()
        return {"kty": "EC", "crv": "P-256", "kid": self.kid, "use": "sig", "alg": "ES256",
                "x": b64u(n.x.to_bytes(32, "big")), "y": b64u(n.y.to_bytes(32, "big"))}

    def sign(self, claims, header_changes=None):
        header = {"alg": self.alg, "kid": self.kid}
        header.update(self.header)
        header.update(header_changes or {})
        header = {k: v for k, v in header.items() if v is not None}
        signing_input = (b64u(json.dumps(header).encode()) + "." + b64u(json.dumps(claims).encode())).encode()
        if self.alg == "RS256":
            sig = self.key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
        else:
            r, s = utils.decode_dss_signature(self.key.sign(signing_input, ec.ECDSA(hashes.SHA256())))
            sig = r.to_bytes(32, "big") + s.to_bytes(32, "big")
        return signing_input.decode() + "." + b64u(sig)

    def token(self, client_id, grant, **changes):
        claims = self.claims(client_id, grant)
        for k, v in changes.items():
            if v is None:
                claims.pop(k, None)
            else:
                claims[k] = v
        return self.sign(claims)

    def issuer_table(self, jwks_base):
        values = {"issuer": self.issuer, "jwks_uri": jwks_base + self.jwks_path, "allow_http": True,
                  "algorithms": [self.alg], "audiences": self.audiences, "require_typ": self.require_typ,
                  "scope_claim": self.scope_claim}
        text = "\n[[auth.issuers]]\n"
        for k, v in values.items():
            text += "%s = %s\n" % (k, toml_value(v) if not isinstance(v, list) else json.dumps(v))
        return text


def times(ttl=300):
    now = int(time.time())
    return {"iat": now, "nbf": now, "exp": now + ttl}


def keycloak_claims(realm):
    def claims(client_id, grant):
        c = {"jti": str(uuid.uuid4()), "iss": "https://sso.example.com/realms/" + realm,
             "aud": ["mqtt-broker", "account"], "sub": str(uuid.uuid4()), "typ": "Bearer", "azp": client_id,
             "session_state": str(uuid.uuid4()), "acr": "1", "allowed-origins": ["/*"],
             "realm_access": {"roles": ["default-roles-" + realm, "offline_access", "uma_authorization"]},
             "resource_access": {"account": {"roles": ["manage-account", "view-profile"]}},
             "scope": "openid profile email", "sid": str(uuid.uuid4()), "email_verified": False,
             "clientHost": "10.0.0.7", "preferred_username": "service-account-" + client_id,
             "clientAddress": "10.0.0.7", "client_id": client_id}
        c.update(times())
        if realm == "iot":
            c["scope"] += " " + grant  # a client scope named after the MQTT grant
        else:
            c["realm_access"]["roles"].append(grant)  # a realm role named after the MQTT grant
        return c
    return claims


def okta_claims(client_id, grant):
    c = {"ver": 1, "jti": "AT." + uuid.uuid4().hex, "iss": "https://dev-4711.okta.com/oauth2/aus1mqtt",
         "aud": "api://mqtt", "cid": "0oa" + client_id, "uid": "00u1abc", "sub": client_id + "@example.com",
         "scp": ["openid", grant, "offline_access"], "auth_time": int(time.time()) - 60}
    c.update(times())
    return c


def azure_claims(tenant, app_only):
    def claims(client_id, grant):
        c = {"aud": "api://0d9a2c4b-6a1f-4f7e-9d55-1c6f1b4f7e21",
             "iss": "https://login.microsoftonline.com/%s/v2.0" % tenant, "azp": str(uuid.uuid4()),
             "azpacr": "1", "oid": str(uuid.uuid4()), "tid": tenant, "uti": uuid.uuid4().hex[:22],
             "ver": "2.0", "sub": b64u(uuid.uuid4().bytes), "rh": "0.AXkA-x"}
        if app_only:
            c["roles"] = ["Telemetry.Read", grant]  # application permissions (client credentials)
        else:
            c["scp"] = "User.Read " + grant  # delegated permissions: one space-separated string
            c["name"] = "Device " + client_id
        c.update(times())
        return c
    return claims


def auth0_claims(client_id, grant):
    c = {"iss": "https://tollgate-test.eu.auth0.com/", "sub": client_id + "@clients",
         "aud": ["https://mqtt.example.com", "https://tollgate-test.eu.auth0.com/userinfo"],
         "azp": client_id, "scope": "openid profile", "permissions": ["read:profile", grant],
         "client_id": client_id, "jti": uuid.uuid4().hex}
    c.update(times())
    return c


def providers():
    return [
        Provider("keycloak", "https://sso.example.com/realms/iot", "/realms/iot/protocol/openid-connect/certs",
                 "RS256", {"typ": "JWT"}, ["mqtt-broker"], "scope", False, keycloak_claims("iot")),
        Provider("keycloak-roles", "https://sso.example.com/realms/plant",
                 "/realms/plant/protocol/openid-connect/certs", "RS256", {"typ": "JWT"}, ["mqtt-broker"],
                 "realm_access.roles", False, keycloak_claims("plant")),
        Provider("okta", "https://dev-4711.okta.com/oauth2/aus1mqtt", "/oauth2/aus1mqtt/v1/keys", "RS256", {},
                 ["api://mqtt"], "scp", False, okta_claims),
        Provider("azure", "https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0",
                 "/72f988bf/discovery/v2.0/keys", "RS256", {"typ": "JWT", "x5t": b64u(uuid.uuid4().bytes)},
                 ["api://0d9a2c4b-6a1f-4f7e-9d55-1c6f1b4f7e21"], "scp", False,
                 azure_claims("72f988bf-86f1-41af-91ab-2d7cd011db47", False)),
        Provider("azure-app", "https://login.microsoftonline.com/5b2b0b1e-0c6d-4b52-9d2a-9f3c1d0e8a11/v2.0",
                 "/5b2b0b1e/discovery/v2.0/keys", "RS256", {"typ": "JWT"},
                 ["api://0d9a2c4b-6a1f-4f7e-9d55-1c6f1b4f7e21"], "roles", False,
                 azure_claims("5b2b0b1e-0c6d-4b52-9d2a-9f3c1d0e8a11", True)),
        Provider("auth0", "https://tollgate-test.eu.auth0.com/", "/.well-known/jwks.json", "ES256",
                 {"typ": "at+jwt"}, ["https://mqtt.example.com"], "permissions", True, auth0_claims),
    ]


class JwksServer:
    """Serves each provider's JWKS at its path on loopback."""

    def __init__(self, provs):
        documents = {p.jwks_path: json.dumps({"keys": [p.jwk()]}).encode() for p in provs}
        self.fetches = []

        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                server.fetches.append(self.path)
                body = documents.get(self.path)
                self.send_response(200 if body else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body or b"")))
                self.end_headers()
                self.wfile.write(body or b"")

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def base(self):
        return "http://127.0.0.1:%d" % self.httpd.server_address[1]

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class IdpShapes(TokenClientMixin, BrokerTestCase):
    def broker_options(self):
        self.providers = {p.name: p for p in providers()}
        self.jwks = JwksServer(self.providers.values())
        self.addCleanup(self.jwks.close)
        text = auth_config_text()
        for p in self.providers.values():
            text += p.issuer_table(self.jwks.base())
        return {"config_text": text}

    def connect(self, client_id, token):
        c, ack = self.raw_connect_v5(client_id, username="oauth2", password=token.encode())
        return c, w.connack_reason(ack)

    def connected(self, client_id, token):
        c, code = self.connect(client_id, token)
        self.assertEqual(code, 0, "CONNACK 0x%02x for %s" % (code, client_id))
        return c

    def suback(self, c, topic, packet_id):
        c.send(w.subscribe(packet_id, [(topic, 1)], version=5))
        return c.expect(w.SUBACK).body[-1]

    def check_provider(self, name):
        p = self.providers[name]
        grant = "mqtt:all:idp/%s/#" % name
        c = self.connected("%s-dev" % name, p.token("%s-dev" % name, grant))
        # The topic the provider's scope claim grants passes; another is refused (0x87).
        self.assertIn(self.puback_reason(c, "idp/%s/telemetry" % name, 1), ALLOWED, name)
        self.assertEqual(self.puback_reason(c, "idp/other/telemetry", 2), NOT_AUTHORIZED, name)
        self.assertEqual(self.suback(c, "idp/%s/cmd/#" % name, 3), 1, name)
        self.assertEqual(self.suback(c, "idp/#", 4), NOT_AUTHORIZED, name)
        c.close()
        # mosquitto_sub and mosquitto_pub with the token as password: delivered.
        sub = MosquittoSub(self.broker.port(), "idp/%s/cmd/+" % name, qos=1, version="mqttv5",
                           extra=["-u", "oauth2", "-P", p.token("%s-sub" % name, grant), "-i", "%s-sub" % name]
                           ).start()
        self.on_teardown(sub.stop)
        mosquitto_pub(self.broker.port(), "idp/%s/cmd/reboot" % name, "now", qos=1, version="mqttv5",
                      extra=["-u", "oauth2", "-P", p.token("%s-pub" % name, grant), "-i", "%s-pub" % name])
        self.assertEqual(sub.next_message()[3], "now")
        sub.stop()
        # Paho MQTT 5 with a token whose grant is narrower.
        paho = PahoClient(self.broker.port(), client_id="%s-paho" % name, version=5)
        paho.client.username_pw_set("oauth2", p.token("%s-paho" % name, "mqtt:sub:idp/%s/alerts" % name))
        self.on_teardown(paho.close)
        paho.connect()
        self.assertEqual(paho.subscribe("idp/%s/alerts" % name, qos=1), [1], name)
        self.assertEqual(paho.subscribe("idp/%s/cmd/#" % name, qos=1), [NOT_AUTHORIZED], name)
        paho.close()

    def test_keycloak_scope_string(self):
        self.check_provider("keycloak")

    def test_keycloak_realm_roles_dotted_path(self):
        self.check_provider("keycloak-roles")

    def test_okta_scp_array(self):
        self.check_provider("okta")

    def test_azure_ad_scp_string_delegated(self):
        self.check_provider("azure")

    def test_azure_ad_roles_array_app_only(self):
        self.check_provider("azure-app")

    def test_auth0_permissions_rfc9068_profile(self):
        self.check_provider("auth0")

    def test_mqtt_scopes_in_a_claim_not_configured_grant_nothing(self):
        # Each issuer reads only its scope_claim: the same grant written in another claim is ignored.
        elsewhere = {
            "keycloak": {"realm_access": {"roles": ["mqtt:all:#"]}, "scp": ["mqtt:all:#"]},
            "keycloak-roles": {"scope": "openid mqtt:all:#"},
            "okta": {"scope": "mqtt:all:#", "scp": ["openid"]},
            "azure": {"roles": ["mqtt:all:#"]},
            "azure-app": {"scp": "mqtt:all:#"},
            "auth0": {"scope": "openid mqtt:all:#"},
        }
        for name, claims in elsewhere.items():
            p = self.providers[name]
            token = p.token("%s-x" % name, "mqtt:pub:nothing/here", **claims)
            c = self.connected("%s-x" % name, token)
            self.assertEqual(self.puback_reason(c, "idp/%s/telemetry" % name, 1), NOT_AUTHORIZED, name)
            self.assertEqual(self.suback(c, "#", 2), NOT_AUTHORIZED, name)
            c.close()

    def test_wrong_shapes_are_refused_or_grant_nothing(self):
        # A scope claim of the wrong type grants nothing (never coerced): numbers, objects, nested arrays.
        okta = self.providers["okta"]
        for i, bad in enumerate([42, {"mqtt:all:#": True}, [["mqtt:all:#"]], "mqtt:all:#\tmqtt:all:x"]):
            c = self.connected("shape-%d" % i, okta.token("shape-%d" % i, "x", scp=bad))
            self.assertEqual(self.puback_reason(c, "idp/okta/telemetry", 1), NOT_AUTHORIZED, bad)
            c.close()
        # RFC 9068 §4: the issuer requiring typ "at+jwt" refuses the same token typed "JWT" (0x86),
        # and an audience the issuer is not configured for is refused.
        auth0 = self.providers["auth0"]
        jwt_typed = auth0.sign(auth0_claims("typ-1", "mqtt:all:#"), {"typ": "JWT"})
        self.assertEqual(self.connect("typ-1", jwt_typed)[1], BAD_CREDENTIALS)
        wrong_aud = okta.token("aud-1", "mqtt:all:#", aud="api://other")
        self.assertEqual(self.connect("aud-1", wrong_aud)[1], BAD_CREDENTIALS)
        # A token of one provider signed with another's key (same kid) is refused.
        forged = self.providers["azure"].sign(okta_claims("forge-1", "mqtt:all:#"), {"kid": okta.kid})
        self.assertEqual(self.connect("forge-1", forged)[1], BAD_CREDENTIALS)


if __name__ == "__main__":
    main()
