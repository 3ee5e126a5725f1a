"""The LDAP policy source end to end (docs/auth.md "LDAP").

The real tollgate runs with its built-in authorization server, [auth] on and [auth.policy] with one
`type = "ldap"` source pointing at the throwaway slapd of the `slapd` ctest fixture
(tests/support/slapd-server; its directory is $TOLLGATE_TEST_LDAP_DIR). Each test writes its own
subtree (ou=<test>,dc=tollgate,dc=test: people and groups carrying mqttRule values) with ldapadd as
the root DN, and tollgate binds as the read-only service account. Clients get tokens from /token
(client_credentials; the token's `sub` is the client id) and connect with mosquitto_pub /
mosquitto_sub, Paho (MQTT 5) and raw MQTT 5 packets. Checked: an LDAP group rule allows a topic the
token's scope lacks; an LDAP deny overrides a scope allow (PUBACK 0x87, SUBACK 0x87); the identity
taken from the MQTT user name over StartTLS, with LDAP filter metacharacters in the user name finding
nothing; an unreachable directory fails closed; nested groups (a cycle, nesting beyond
max_group_depth failing closed) over ldaps:// with SASL EXTERNAL and the client certificate; an
ldaps:// server that never completes the TLS handshake denies within connect_timeout.
"""

import os
import re
import shutil
import subprocess
import tempfile
import time

import mqtt_wire as w
from auth_test import TokenClientMixin, auth_config_text
from mqtt_clients import MosquittoSub, PahoClient, mosquitto_pub
from tollgate_fixture import BrokerTestCase, main, toml_value

NOT_AUTHORIZED = 0x87
ALLOWED = (0x00, 0x10)  # success, or no matching subscribers
ROOT_DN = "cn=admin,dc=tollgate,dc=test"
ROOT_PASSWORD = "admin-test-secret"
SERVICE_DN = "cn=tollgate,ou=services,dc=tollgate,dc=test"
SERVICE_PASSWORD = "tollgate-test-secret"


def ldap_dir():
    path = os.environ.get("TOLLGATE_TEST_LDAP_DIR")
    if not path:
        raise AssertionError("TOLLGATE_TEST_LDAP_DIR is not set: run through ctest (the slapd fixture)")
    return path


def ldap_file(name):
    with open(os.path.join(ldap_dir(), name)) as f:
        return f.read().strip()


def ldap_tool(tool, args, ldif=None):
    """Runs ldapadd/ldapdelete as the root DN; returns the completed process."""
    return subprocess.run([tool, "-x", "-H", ldap_file("url"), "-D", ROOT_DN, "-w", ROOT_PASSWORD] + args,
                          input=(ldif or "").encode(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30)


def policy_config_text(source, cache_ttl="60s"):
    text = auth_config_text()
    text += "\n[auth.policy]\ncache_ttl = %s\n\n[[auth.policy.sources]]\n" % toml_value(cache_ttl)
    for k, v in source.items():
        text += "%s = %s\n" % (k, toml_value(v))
    return text


class LdapTestCase(TokenClientMixin, BrokerTestCase):
    """A subtree of its own per test and a broker whose LDAP source searches it."""

    def broker_options(self):
        self.base = "ou=%s,dc=tollgate,dc=test" % self._testMethodName
        ldap_tool("ldapdelete", ["-r", self.base])  # left over by an interrupted run (or absent)
        self.ldap_add("dn: %s\nobjectClass: organizationalUnit\nou: %s\n\n"
                      "dn: ou=people,%s\nobjectClass: organizationalUnit\nou: people\n\n"
                      "dn: ou=groups,%s\nobjectClass: organizationalUnit\nou: groups\n"
                      % (self.base, self._testMethodName, self.base, self.base))
        self.addCleanup(ldap_tool, "ldapdelete", ["-r", self.base])
        self.work = tempfile.mkdtemp(prefix="tollgate-ldap-it-")
        self.addCleanup(shutil.rmtree, self.work, True)
        return {"config_text": policy_config_text(self.source())}

    def source(self):
        return {"type": "ldap", "url": ldap_file("url"), "bind_dn": SERVICE_DN,
                "bind_password": SERVICE_PASSWORD, "base_dn": self.base}

    def ldap_add(self, ldif):
        r = ldap_tool("ldapadd", [], ldif)
        self.assertEqual(r.returncode, 0, r.stdout.decode(errors="replace"))

    def add_user(self, uid, rules=()):
        ldif = "dn: uid=%s,ou=people,%s\nobjectClass: inetOrgPerson\nobjectClass: tollgateMqttPolicy\n" \
               "uid: %s\ncn: %s\nsn: test\n" % (uid, self.base, uid, uid)
        ldif += "".join("mqttRule: %s\n" % r for r in rules)
        self.ldap_add(ldif)
        return "uid=%s,ou=people,%s" % (uid, self.base)

    def add_group(self, cn, members, rules=()):
        ldif = "dn: cn=%s,ou=groups,%s\nobjectClass: groupOfNames\nobjectClass: tollgateMqttPolicy\ncn: %s\n" \
               % (cn, self.base, cn)
        ldif += "".join("member: %s\n" % m for m in members)
        ldif += "".join("mqttRule: %s\n" % r for r in rules)
        self.ldap_add(ldif)

    def connect_v5(self, client_id, token, username="oauth2"):
        c, ack = self.raw_connect_v5(client_id, username=username, password=token.encode())
        self.assertEqual(w.connack_reason(ack), 0)
        return c

    def mosquitto_pub_refused(self, topic, token, client_id):
        """mosquitto_pub (MQTT 5, QoS 1) is told "not authorized" (PUBACK 0x87)."""
        r = subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(self.broker.port()), "-V", "mqttv5",
                            "-t", topic, "-q", "1", "-m", "x", "-u", "oauth2", "-P", token, "-i", client_id],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=20)
        out = r.stdout.decode(errors="replace")
        self.assertTrue(r.returncode != 0 or "not authorized" in out.lower(), out)


class LdapEndToEnd(LdapTestCase):
    def test_group_rule_allows_topic_the_scope_lacks(self):
        client = self.register(["mqtt:pub:scoped/#"])
        tok = self.token(client, "mqtt:pub:scoped/#")
        dn = self.add_user(client[0])
        self.add_group("fleet", [dn], ["allow pub ldap/{client_id}/#"])
        self.add_group("not-hers", ["cn=nobody," + self.base], ["allow pub elsewhere/#"])
        # mosquitto_pub with the token: QoS 1 completes on the topic only the LDAP group grants.
        mosquitto_pub(self.broker.port(), "ldap/ldap-1/x", "hi", qos=1, version="mqttv5",
                      extra=["-u", "oauth2", "-P", tok, "-i", "ldap-1"])
        c = self.connect_v5("ldap-2", tok)
        self.assertIn(self.puback_reason(c, "ldap/ldap-2/x", 1), ALLOWED)
        self.assertIn(self.puback_reason(c, "scoped/x", 2), ALLOWED)  # the scope still counts
        # [MQTT-3.4.2-1] PUBACK 0x87: another client's topic, a group she is not in, nothing at all.
        self.assertEqual(self.puback_reason(c, "ldap/ldap-1/x", 3), NOT_AUTHORIZED)
        self.assertEqual(self.puback_reason(c, "elsewhere/x", 4), NOT_AUTHORIZED)
        self.assertEqual(self.puback_reason(c, "nowhere/x", 5), NOT_AUTHORIZED)
        self.mosquitto_pub_refused("nowhere/x", tok, "ldap-3")

    def test_deny_in_user_entry_overrides_scope_allow(self):
        client = self.register(["mqtt:all:plant/#"])
        tok = self.token(client, "mqtt:all:plant/#")
        self.add_user(client[0], ["deny pub plant/valves/#", "not a rule"])
        c = self.connect_v5("ldap-4", tok)
        self.assertEqual(self.puback_reason(c, "plant/valves/v1", 1), NOT_AUTHORIZED)
        self.assertIn(self.puback_reason(c, "plant/sensors/s1", 2), ALLOWED)
        self.mosquitto_pub_refused("plant/valves/v2", tok, "ldap-5")
        # The bad value was skipped with a warning naming the entry; the good one still applies.
        self.assertRegex(self.broker.log_text(),
                         r"ldap: mqttRule value 'not a rule' of uid=%s,.* skipped" % re.escape(client[0]))

    def test_subscribe_rules_from_groups_with_mosquitto_sub(self):
        reader = self.register(["mqtt:sub:none"])
        writer = self.register(["mqtt:pub:feed/#"])
        rtok = self.token(reader, "mqtt:sub:none")
        wtok = self.token(writer, "mqtt:pub:feed/#")
        dn = self.add_user(reader[0], ["deny sub feed/private/#"])
        self.add_group("readers", [dn], ["allow sub feed/#"])
        paho = PahoClient(self.broker.port(), client_id="ldap-6", version=5)
        paho.client.username_pw_set("oauth2", rtok)
        self.on_teardown(paho.close)
        paho.connect()
        self.assertEqual(paho.subscribe("feed/public", qos=1), [1])
        # [MQTT-3.9.3-1] SUBACK 0x87: feed/# could receive feed/private/x, which the user entry denies.
        self.assertEqual(paho.subscribe("feed/#", qos=1), [NOT_AUTHORIZED])
        self.assertEqual(paho.subscribe("other/#", qos=1), [NOT_AUTHORIZED])
        sub = MosquittoSub(self.broker.port(), "feed/public", qos=1, version="mqttv5",
                           extra=["-u", "oauth2", "-P", rtok, "-i", "ldap-7"]).start()
        self.on_teardown(sub.stop)
        mosquitto_pub(self.broker.port(), "feed/public", "hello", qos=1, version="mqttv5",
                      extra=["-u", "oauth2", "-P", wtok, "-i", "ldap-8"])
        self.assertEqual(sub.next_message()[3], "hello")

    def test_client_absent_from_directory_keeps_its_scope_only(self):
        client = self.register(["mqtt:pub:scoped/#"])
        tok = self.token(client, "mqtt:pub:scoped/#")
        self.add_group("fleet", ["uid=someone-else,ou=people," + self.base], ["allow pub fleet/#"])
        c = self.connect_v5("ldap-9", tok)
        self.assertIn(self.puback_reason(c, "scoped/x", 1), ALLOWED)
        self.assertEqual(self.puback_reason(c, "fleet/x", 2), NOT_AUTHORIZED)


class LdapUsernameStartTls(LdapTestCase):
    """identity = "username" (the CONNECT user name), StartTLS with the fixture's CA, the bind
    password from a file."""

    def source(self):
        password_file = os.path.join(self.work, "bind-password")
        with open(password_file, "w") as f:
            f.write(SERVICE_PASSWORD + "\n")
        return {"type": "ldap", "url": ldap_file("url"), "bind_dn": SERVICE_DN,
                "bind_password_file": password_file, "base_dn": self.base, "identity": "username",
                "tls": "starttls", "ca_file": os.path.join(ldap_dir(), "ca.pem")}

    def test_username_identity_and_filter_injection(self):
        client = self.register(["mqtt:pub:none"])
        tok = self.token(client, "mqtt:pub:none")
        self.add_user("alice", ["allow pub alice/#"])
        self.add_user("bob", ["allow pub bob/#"])
        alice = self.connect_v5("ldap-10", tok, username="alice")
        self.assertIn(self.puback_reason(alice, "alice/x", 1), ALLOWED)
        self.assertEqual(self.puback_reason(alice, "bob/x", 2), NOT_AUTHORIZED)
        # RFC 4515: LDAP filter metacharacters in the MQTT user name are escaped, so they match no
        # entry (unescaped, "*" would match every user and ")(uid=*" would splice a clause in).
        for i, evil in enumerate(["*", "a*", ")(uid=*", "alice)(|(uid=*", "*)(objectClass=*"]):
            c = self.connect_v5("ldap-inj-%d" % i, tok, username=evil)
            self.assertEqual(self.puback_reason(c, "alice/x", 1), NOT_AUTHORIZED, evil)
            self.assertEqual(self.puback_reason(c, "bob/x", 2), NOT_AUTHORIZED, evil)
        # The password never reaches the log.
        self.assertNotIn(SERVICE_PASSWORD, self.broker.log_text())


class LdapFailClosed(LdapTestCase):
    def source(self):
        # Nothing listens on the port of a freshly closed socket.
        import socket
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        return {"type": "ldap", "url": "ldap://127.0.0.1:%d" % port, "bind_dn": SERVICE_DN,
                "bind_password": SERVICE_PASSWORD, "base_dn": self.base, "connect_timeout": "2s"}

    def test_unreachable_directory_denies_even_what_the_scope_allows(self):
        client = self.register(["mqtt:all:data/#"])
        tok = self.token(client, "mqtt:all:data/#")
        c = self.connect_v5("ldap-11", tok)
        c.send(w.publish("data/a", b"x", qos=1, packet_id=1, version=5))
        p = c.expect(w.PUBACK)
        self.assertEqual(p.body[2], NOT_AUTHORIZED)
        self.assertIn(b"policy source unavailable", p.body)  # the Reason String, no LDAP detail
        self.assertNotIn(SERVICE_PASSWORD, self.broker.log_text())


class LdapNestedGroupsSaslExternal(LdapTestCase):
    """ldaps://, SASL EXTERNAL with the fixture's client certificate (mapped by slapd to the service
    account), and nested groups up to max_group_depth = 2."""

    def source(self):
        pki = os.path.join(ldap_dir(), "pki")
        return {"type": "ldap", "url": ldap_file("url-ldaps"), "bind_method": "sasl_external",
                "cert_file": os.path.join(pki, "client.crt"), "key_file": os.path.join(pki, "client.key"),
                "ca_file": os.path.join(ldap_dir(), "ca.pem"), "base_dn": self.base, "max_group_depth": 2}

    def group_dn(self, cn):
        return "cn=%s,ou=groups,%s" % (cn, self.base)

    def test_rules_of_a_group_in_a_group_apply(self):
        client = self.register(["mqtt:pub:none"])
        tok = self.token(client, "mqtt:pub:none")
        dn = self.add_user(client[0])
        self.add_group("team", [dn], ["allow pub team/#"])
        self.add_group("dept", [self.group_dn("team")], ["allow pub dept/#", "deny pub team/secret/#"])
        c = self.connect_v5("ldap-12", tok)
        self.assertIn(self.puback_reason(c, "team/x", 1), ALLOWED)
        self.assertIn(self.puback_reason(c, "dept/x", 2), ALLOWED)  # reached through team
        # The deny of the outer group applies to the inner group's allow.
        self.assertEqual(self.puback_reason(c, "team/secret/x", 3), NOT_AUTHORIZED)

    def test_cycle_ends_and_nesting_beyond_the_depth_fails_closed(self):
        looped = self.register(["mqtt:pub:none"])
        deep = self.register(["mqtt:pub:scoped/#"])
        ltok = self.token(looped, "mqtt:pub:none")
        dtok = self.token(deep, "mqtt:pub:scoped/#")
        ldn = self.add_user(looped[0])
        self.add_group("ring-a", [ldn, self.group_dn("ring-b")], ["allow pub ring/a"])
        self.add_group("ring-b", [self.group_dn("ring-a")], ["allow pub ring/b"])
        c = self.connect_v5("ldap-13", ltok)
        self.assertIn(self.puback_reason(c, "ring/a", 1), ALLOWED)
        self.assertIn(self.puback_reason(c, "ring/b", 2), ALLOWED)
        # deep -> l1 -> l2 -> l3: l3 is beyond max_group_depth = 2, so the source cannot answer and
        # everything is denied, the scope's allow too (a deny in l3 must not be silently missed).
        ddn = self.add_user(deep[0])
        self.add_group("l1", [ddn], ["allow pub l1/#"])
        self.add_group("l2", [self.group_dn("l1")], [])
        self.add_group("l3", [self.group_dn("l2")], ["deny pub scoped/#"])
        d = self.connect_v5("ldap-14", dtok)
        d.send(w.publish("scoped/x", b"x", qos=1, packet_id=1, version=5))
        p = d.expect(w.PUBACK)
        self.assertEqual(p.body[2], NOT_AUTHORIZED)
        self.assertIn(b"policy source unavailable", p.body)
        self.assertRegex(self.broker.log_text(), r"nested deeper than max_group_depth")


class LdapsSilentServer(LdapTestCase):
    """An ldaps:// server that accepts TCP and never answers the TLS handshake (a listening socket
    nobody accepts on): the load ends at connect_timeout and the broker denies (fail closed)."""

    def source(self):
        import socket
        self.silent = socket.socket()
        self.silent.bind(("127.0.0.1", 0))
        self.silent.listen(16)
        self.addCleanup(self.silent.close)
        return {"type": "ldap", "url": "ldaps://127.0.0.1:%d" % self.silent.getsockname()[1],
                "bind_dn": SERVICE_DN, "bind_password": SERVICE_PASSWORD, "base_dn": self.base,
                "ca_file": os.path.join(ldap_dir(), "ca.pem"), "connect_timeout": "500ms"}

    def test_handshake_that_never_completes_denies_within_the_timeout(self):
        client = self.register(["mqtt:all:data/#"])
        tok = self.token(client, "mqtt:all:data/#")
        for i in range(2):
            c = self.connect_v5("ldap-silent-%d" % i, tok)
            start = time.monotonic()
            c.send(w.publish("data/a", b"x", qos=1, packet_id=1, version=5))
            p = c.expect(w.PUBACK)
            self.assertLess(time.monotonic() - start, 5.0)
            self.assertEqual(p.body[2], NOT_AUTHORIZED)
            self.assertIn(b"policy source unavailable", p.body)
        self.assertRegex(self.broker.log_text(), r"connect_timeout")
        # The broker still serves: a CONNECT of another client is answered at once.
        self.connect_v5("ldap-silent-2", tok).close()


if __name__ == "__main__":
    main()
