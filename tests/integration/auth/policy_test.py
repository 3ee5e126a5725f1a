"""Policy sources end to end (docs/auth.md "Policy sources").

The real tollgate runs with its built-in authorization server, [auth] on and [auth.policy] with two
sources: a SQLite database made by the test (the default mqtt_acl table) and a static TOML rule file.
Clients get tokens from /token (client_credentials) and connect with mosquitto_pub / mosquitto_sub,
Paho (MQTT 5) and raw MQTT 5 packets. Checked: a deny rule overrides the token scope's allow
(PUBACK 0x87, SUBACK 0x87), an allow rule grants a topic the scope lacks, a username carrying SQL
gets no rules, a broken source fails closed, and bad [auth.policy] keys are config errors naming
the key. PolicyClaims: {claim:NAME} in file rules and $claim:NAME bound in a SQL query, with tokens
signed by a test issuer's key and carrying a "tenant" claim (hostile values included).
"""

import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
import time
import unittest
import uuid

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

import mqtt_wire as w
from auth_test import TokenClientMixin, auth_config_text
from session_attacks_test import compact, es256_sign, json_bytes
from mqtt_clients import MosquittoSub, PahoClient, mosquitto_pub
from tollgate_fixture import BrokerTestCase, binary_path, main, toml_value

NOT_AUTHORIZED = 0x87
ALLOWED = (0x00, 0x10)  # success, or no matching subscribers

ACL_FILE = """
# Everyone may publish to their own extra/<client id> topic, which no token scope names.
[[rule]]
effect = "allow"
action = "pub"
filter = "extra/{client_id}"

# Nobody may subscribe to anything that can reach data/<x>/private.
[[rule]]
effect = "deny"
action = "sub"
filter = "data/+/private"

# Only the user "carol" gets reports/#.
[[rule]]
effect = "allow"
action = "all"
filter = "reports/#"
username = "carol"
"""


def make_policy_db(path, rows):
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE mqtt_acl (username TEXT, client_id TEXT, effect TEXT NOT NULL, "
               "action TEXT NOT NULL, filter TEXT NOT NULL)")
    db.executemany("INSERT INTO mqtt_acl VALUES (?, ?, ?, ?, ?)", rows)
    db.commit()
    db.close()


def policy_config_text(sources, extra_policy=None):
    """auth_config_text() plus [auth.policy] with the given [[auth.policy.sources]] tables."""
    text = auth_config_text()
    text += "\n[auth.policy]\n"
    values = {"cache_ttl": "60s"}
    values.update(extra_policy or {})
    for k, v in values.items():
        text += "%s = %s\n" % (k, toml_value(v))
    for s in sources:
        text += "\n[[auth.policy.sources]]\n"
        for k, v in s.items():
            text += "%s = %s\n" % (k, toml_value(v))
    return text


class PolicyTestCase(TokenClientMixin, BrokerTestCase):
    ROWS = []

    def broker_options(self):
        self.policy_dir = tempfile.mkdtemp(prefix="tollgate-policy-it-")
        self.addCleanup(shutil.rmtree, self.policy_dir, True)
        db_path = os.path.join(self.policy_dir, "policy.db")
        make_policy_db(db_path, self.ROWS)
        acl_path = os.path.join(self.policy_dir, "acl.toml")
        with open(acl_path, "w") as f:
            f.write(ACL_FILE)
        return {"config_text": policy_config_text(self.sources(db_path, acl_path))}

    def sources(self, db_path, acl_path):
        return [{"type": "sql", "database": "sqlite://" + db_path}, {"type": "file", "path": acl_path}]

    def connect_v5(self, client_id, username, token):
        c, ack = self.raw_connect_v5(client_id, username=username, password=token.encode())
        self.assertEqual(w.connack_reason(ack), 0)
        return c


class PolicyEndToEnd(PolicyTestCase):
    ROWS = [
        ("alice", None, "deny", "pub", "data/secret"),     # overrides the scope mqtt:all:data/#
        ("alice", None, "allow", "sub", "alerts/#"),       # a grant the scope lacks
        (None, "dev-9", "allow", "pub", "fleet/dev-9"),    # by client id, any user
        ("alice", None, "deny", "everything", "bad/row"),  # a bad row: skipped with a warning
    ]

    def test_sql_deny_overrides_scope_allow_puback_0x87(self):
        client = self.register(["mqtt:all:data/#"])
        tok = self.token(client, "mqtt:all:data/#")
        c = self.connect_v5("pol-1", "alice", tok)
        # [MQTT-3.4.2-1]: PUBACK 0x87 (not authorized) for the denied topic; the scope still works
        # for the rest.
        self.assertEqual(self.puback_reason(c, "data/secret", 1), NOT_AUTHORIZED)
        self.assertIn(self.puback_reason(c, "data/public", 2), ALLOWED)
        # mosquitto_pub (MQTT 5) is told "not authorized" for the denied topic; another user is not
        # affected by alice's rule.
        r = subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(self.broker.port()), "-V", "mqttv5",
                            "-t", "data/secret", "-q", "1", "-m", "x", "-u", "alice", "-P", tok, "-i", "pol-cli"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=20)
        out = r.stdout.decode(errors="replace")
        self.assertTrue(r.returncode != 0 or "not authorized" in out.lower(), out)
        mosquitto_pub(self.broker.port(), "data/secret", "ok", qos=1, version="mqttv5",
                      extra=["-u", "bob", "-P", tok, "-i", "pol-bob"])
        log = self.broker.log_text()
        self.assertRegex(log, r"sql: row \d+ skipped .*action must be the text pub, sub or all \(got \"everything\"\)")

    def test_sql_allow_grants_what_the_scope_lacks(self):
        client = self.register(["mqtt:pub:data/#"])
        tok = self.token(client, "mqtt:pub:data/#")
        paho = PahoClient(self.broker.port(), client_id="pol-2", version=5)
        paho.client.username_pw_set("alice", tok)
        self.on_teardown(paho.close)
        paho.connect()
        self.assertEqual(paho.subscribe("alerts/fire", qos=1), [1])  # allowed by the SQL row
        self.assertEqual(paho.subscribe("other/#", qos=1), [NOT_AUTHORIZED])  # neither scope nor rule
        # A message from a client allowed by its client id (the fleet row) reaches the subscriber.
        c = self.connect_v5("dev-9", "someone", tok)
        self.assertIn(self.puback_reason(c, "fleet/dev-9", 1), ALLOWED)
        self.assertEqual(self.puback_reason(c, "fleet/dev-8", 2), NOT_AUTHORIZED)

    def test_file_rules_deny_subscribe_and_allow_publish(self):
        client = self.register(["mqtt:all:data/#"])
        tok = self.token(client, "mqtt:all:data/#")
        paho = PahoClient(self.broker.port(), client_id="pol-3", version=5)
        paho.client.username_pw_set("dave", tok)
        self.on_teardown(paho.close)
        paho.connect()
        # [MQTT-3.9.3-1] SUBACK 0x87: "data/#" could receive data/x/private, which the file denies,
        # although the scope mqtt:all:data/# covers it; "$share/g/..." is judged on its filter.
        self.assertEqual(paho.subscribe("data/#", qos=1), [NOT_AUTHORIZED])
        self.assertEqual(paho.subscribe("$share/g/data/+/private", qos=1), [NOT_AUTHORIZED])
        self.assertEqual(paho.subscribe("data/x/public", qos=1), [1])
        # extra/<client id>: allowed by the file, absent from the scope. mosquitto_sub receives it.
        sub = MosquittoSub(self.broker.port(), "data/x/public", qos=1, version="mqttv5",
                           extra=["-u", "dave", "-P", tok, "-i", "pol-sub"]).start()
        self.on_teardown(sub.stop)
        c = self.connect_v5("pol-4", "dave", tok)
        self.assertIn(self.puback_reason(c, "extra/pol-4", 1), ALLOWED)
        self.assertEqual(self.puback_reason(c, "extra/pol-5", 2), NOT_AUTHORIZED)
        mosquitto_pub(self.broker.port(), "data/x/public", "hello", qos=1, version="mqttv5",
                      extra=["-u", "dave", "-P", tok, "-i", "pol-pub"])
        self.assertEqual(sub.next_message()[3], "hello")
        # Only carol has reports/#.
        self.assertEqual(self.puback_reason(c, "reports/q1", 3), NOT_AUTHORIZED)
        carol = self.connect_v5("pol-6", "carol", tok)
        self.assertIn(self.puback_reason(carol, "reports/q1", 1), ALLOWED)

    def test_sql_injection_in_username_gets_nothing(self):
        client = self.register(["mqtt:pub:none"])
        tok = self.token(client, "mqtt:pub:none")
        for i, evil in enumerate(["x' OR '1'='1", "alice' --", "x'; DELETE FROM mqtt_acl; --"]):
            paho = PahoClient(self.broker.port(), client_id="inj-%d" % i, version=5)
            paho.client.username_pw_set(evil, tok)
            self.on_teardown(paho.close)
            paho.connect()
            self.assertEqual(paho.subscribe("alerts/x", qos=1), [NOT_AUTHORIZED], evil)
        # The table is intact: alice still has her grant.
        paho = PahoClient(self.broker.port(), client_id="inj-alice", version=5)
        paho.client.username_pw_set("alice", tok)
        self.on_teardown(paho.close)
        paho.connect()
        self.assertEqual(paho.subscribe("alerts/x", qos=1), [1])


class PolicyFailClosed(PolicyTestCase):
    def sources(self, db_path, acl_path):
        # The default query against a database without the mqtt_acl table: every load fails.
        empty = os.path.join(self.policy_dir, "empty.db")
        sqlite3.connect(empty).close()
        return [{"type": "file", "path": acl_path}, {"type": "sql", "database": "sqlite://" + empty}]

    def test_failing_source_denies_even_what_scope_and_file_allow(self):
        client = self.register(["mqtt:all:data/#"])
        tok = self.token(client, "mqtt:all:data/#")
        c = self.connect_v5("fc-1", "alice", tok)
        c.send(w.publish("data/a", b"x", qos=1, packet_id=1, version=5))
        p = c.expect(w.PUBACK)
        self.assertEqual(p.body[2], NOT_AUTHORIZED)
        self.assertIn(b"policy source unavailable", p.body)  # the Reason String; no database detail
        self.assertNotIn(b"mqtt_acl", p.body)
        self.assertIn(self.puback_reason(c, "extra/fc-1", 2), (NOT_AUTHORIZED,))
        self.assertIn("fail closed", self.broker.log_text())


CLAIMS_ISSUER = "https://idp.claims.test"
CLAIMS_KID = "claims-k1"

# {claim:NAME} in a file rule: every token may use its own tenant's subtree, never another's.
CLAIMS_ACL_FILE = """
[[rule]]
effect = "allow"
action = "all"
filter = "tenants/{claim:tenant}/#"

[[rule]]
effect = "deny"
action = "pub"
filter = "tenants/{claim:tenant}/locked/#"

[[rule]]
effect = "allow"
action = "pub"
filter = "tenants/+/locked/broadcast"
"""


class PolicyClaims(TokenClientMixin, BrokerTestCase):
    """{claim:NAME} in a file rule and $claim:NAME as a bound SQL parameter, with tokens signed by a
    test issuer (static key) that carry a "tenant" claim (docs/auth.md "Claims in policy rules")."""

    def broker_options(self):
        self.policy_dir = tempfile.mkdtemp(prefix="tollgate-policy-claims-")
        self.addCleanup(shutil.rmtree, self.policy_dir, True)
        self.key = ec.generate_private_key(ec.SECP256R1())
        pem = os.path.join(self.policy_dir, "idp.pem")
        with open(pem, "wb") as f:
            f.write(self.key.public_key().public_bytes(serialization.Encoding.PEM,
                                                       serialization.PublicFormat.SubjectPublicKeyInfo))
        acl = os.path.join(self.policy_dir, "acl.toml")
        with open(acl, "w") as f:
            f.write(CLAIMS_ACL_FILE)
        db = os.path.join(self.policy_dir, "tenants.db")
        conn = sqlite3.connect(db)
        conn.execute("CREATE TABLE tenant_rules (tenant TEXT, effect TEXT, action TEXT, filter TEXT)")
        conn.executemany("INSERT INTO tenant_rules VALUES (?, ?, ?, ?)", [
            ("acme", "allow", "sub", "partners/globex/feed"),   # acme may read one partner feed
            ("acme", "deny", "sub", "tenants/acme/audit/#"),    # and not its own audit trail
            (None, "allow", "pub", "untenanted/#"),              # only for tokens without a tenant
        ])
        conn.commit()
        conn.close()
        sources = [
            {"type": "file", "path": acl},
            {"type": "sql", "database": "sqlite://" + db,
             "query": "SELECT effect, action, filter FROM tenant_rules "
                      "WHERE tenant = $claim:tenant OR (tenant IS NULL AND CAST($claim:tenant AS TEXT) IS NULL)"},
        ]
        text = policy_config_text(sources)
        text += ('\n[[auth.issuers]]\nissuer = "%s"\nkeys = [{ file = %s, kid = "%s", alg = "ES256" }]\n'
                 'algorithms = ["ES256"]\n' % (CLAIMS_ISSUER, json.dumps(pem), CLAIMS_KID))
        return {"config_text": text}

    def signed(self, client_id, **claims):
        now = int(time.time())
        body = {"iss": CLAIMS_ISSUER, "aud": "urn:tollgate:broker", "sub": "user-" + client_id,
                "client_id": client_id, "iat": now, "exp": now + 300, "jti": str(uuid.uuid4()),
                "scope": "openid"}
        for k, v in claims.items():
            if v is None:
                body.pop(k, None)
            else:
                body[k] = v
        return compact(json_bytes({"alg": "ES256", "typ": "at+jwt", "kid": CLAIMS_KID}), json_bytes(body),
                       lambda m: es256_sign(self.key, m))

    def connect_v5(self, client_id, token):
        c, ack = self.raw_connect_v5(client_id, username="u", password=token.encode())
        self.assertEqual(w.connack_reason(ack), 0)
        return c

    def suback(self, c, topic, packet_id):
        c.send(w.subscribe(packet_id, [(topic, 1)], version=5))
        return c.expect(w.SUBACK).body[-1]

    def test_file_claim_rule_scopes_each_tenant(self):
        acme = self.connect_v5("acme-1", self.signed("acme-1", tenant="acme"))
        self.assertIn(self.puback_reason(acme, "tenants/acme/sensors/1", 1), ALLOWED)
        self.assertEqual(self.puback_reason(acme, "tenants/globex/sensors/1", 2), NOT_AUTHORIZED)
        self.assertEqual(self.puback_reason(acme, "tenants/acme/locked/x", 3), NOT_AUTHORIZED)
        self.assertEqual(self.puback_reason(acme, "tenants/acme/locked/broadcast", 4), NOT_AUTHORIZED)
        self.assertIn(self.puback_reason(acme, "tenants/globex/locked/broadcast", 5), ALLOWED)
        self.assertEqual(self.suback(acme, "tenants/acme/sensors/+", 6), 1)
        self.assertEqual(self.suback(acme, "tenants/#", 7), NOT_AUTHORIZED)
        # A second tenant, through mosquitto_sub/pub: it receives its own messages only.
        gtok = self.signed("globex-sub", tenant="globex")
        sub = MosquittoSub(self.broker.port(), "tenants/globex/#", qos=1, version="mqttv5",
                           extra=["-u", "u", "-P", gtok, "-i", "globex-sub"]).start()
        self.on_teardown(sub.stop)
        mosquitto_pub(self.broker.port(), "tenants/globex/news", "hello", qos=1, version="mqttv5",
                      extra=["-u", "u", "-P", self.signed("globex-pub", tenant="globex"), "-i", "globex-pub"])
        self.assertEqual(sub.next_message()[3], "hello")

    def test_claim_values_that_would_widen_a_rule_never_do(self):
        # CVE-2017-7650 through a claim: "#", "+", "a/b", "", a number, an array, absent. The allow
        # is dropped, the deny widened (tenants/+/locked/#), so the broad broadcast allow is denied.
        for i, tenant in enumerate(["#", "+", "acme/#", "", 7, ["acme"], {"id": "acme"}, None]):
            c = self.connect_v5("evil-%d" % i, self.signed("evil-%d" % i, tenant=tenant))
            self.assertEqual(self.puback_reason(c, "tenants/acme/x", 1), NOT_AUTHORIZED, tenant)
            self.assertEqual(self.puback_reason(c, "tenants/globex/locked/broadcast", 2), NOT_AUTHORIZED,
                             tenant)
            self.assertEqual(self.suback(c, "tenants/#", 3), NOT_AUTHORIZED, tenant)
            self.assertEqual(self.suback(c, "#", 4), NOT_AUTHORIZED, tenant)
            c.close()
        self.assertIn("placeholder value absent or unsafe", self.broker.log_text())

    def test_sql_claim_parameter_is_bound(self):
        acme = self.connect_v5("acme-sql", self.signed("acme-sql", tenant="acme"))
        self.assertEqual(self.suback(acme, "partners/globex/feed", 1), 1)         # SQL allow for acme
        self.assertEqual(self.suback(acme, "tenants/acme/audit/2026", 2), NOT_AUTHORIZED)  # SQL deny
        self.assertEqual(self.suback(acme, "tenants/acme/other", 3), 1)           # file allow
        self.assertEqual(self.puback_reason(acme, "untenanted/x", 4), NOT_AUTHORIZED)
        globex = self.connect_v5("globex-sql", self.signed("globex-sql", tenant="globex"))
        self.assertEqual(self.suback(globex, "partners/globex/feed", 1), NOT_AUTHORIZED)
        # A missing claim binds NULL: the tenant IS NULL row applies.
        none = self.connect_v5("none-sql", self.signed("none-sql", tenant=None))
        self.assertIn(self.puback_reason(none, "untenanted/x", 1), ALLOWED)
        # SQL in a claim value is bound, never pasted: it matches nothing.
        for i, evil in enumerate(["acme' OR '1'='1", "x' OR tenant IS NULL --", "'; DROP TABLE tenant_rules; --"]):
            c = self.connect_v5("inj-%d" % i, self.signed("inj-%d" % i, tenant=evil))
            self.assertEqual(self.suback(c, "partners/globex/feed", 1), NOT_AUTHORIZED, evil)
            self.assertEqual(self.puback_reason(c, "untenanted/x", 2), NOT_AUTHORIZED, evil)
            c.close()
        again = self.connect_v5("acme-sql-2", self.signed("acme-sql-2", tenant="acme"))
        self.assertEqual(self.suback(again, "partners/globex/feed", 1), 1)  # the table is intact


class PolicyConfigErrors(unittest.TestCase):
    """`tollgate serve --check` refuses bad [auth.policy] keys, naming them (exit code 2)."""

    def check(self, sources, extra_policy=None):
        d = tempfile.mkdtemp(prefix="tollgate-policy-cfg-")
        self.addCleanup(shutil.rmtree, d, True)
        path = os.path.join(d, "tollgate.toml")
        with open(path, "w") as f:
            f.write(policy_config_text(sources, extra_policy))
        r = subprocess.run([binary_path(), "serve", "--check", "--config", path], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=30)
        return r.returncode, r.stdout.decode(errors="replace")

    def test_bad_keys_are_named(self):
        code, out = self.check([{"type": "sql", "database": "sqlite:///tmp/x.db",
                                 "query": "SELECT effect, action, filter FROM t WHERE u = '" + "' OR $user"}])
        self.assertNotEqual(code, 0, out)
        self.assertIn("auth.policy.sources[0].query", out)
        code, out = self.check([{"type": "sql", "database": "sqlite:///tmp/x.db",
                                 "query": "SELECT effect, action, filter FROM t WHERE u = ?"}])
        self.assertIn("auth.policy.sources[0].query: '?' placeholder", out)
        code, out = self.check([{"type": "nosql"}])
        self.assertIn("auth.policy.sources[0].type: must be one of sql, file, ldap", out)
        code, out = self.check([{"type": "file"}])
        self.assertIn("auth.policy.sources[0].path: is required", out)
        code, out = self.check([{"type": "file", "path": "/x", "colour": "red"}])
        self.assertIn("auth.policy.sources[0].colour", out)
        code, out = self.check([], {"cache_ttl": "1y"})
        self.assertIn("auth.policy.cache_ttl", out)
        code, out = self.check([])
        self.assertIn("auth.policy.sources", out)


if __name__ == "__main__":
    main()
