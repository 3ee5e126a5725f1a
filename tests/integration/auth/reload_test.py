"""SIGHUP end to end (docs/auth.md "Reloading on SIGHUP").

The real tollgate runs with its built-in authorization server, [auth] on, [auth.policy] with a
static rule file, [auth.audit] writing to a file, and (one test) a TLS listener. The test edits the
files, sends SIGHUP and waits for the broker's "reload (SIGHUP) done" log line (the reload's
completion event), then checks:
  - a changed rule applies to a live session's very next PUBLISH (and to mosquitto_pub);
  - a broken rule file is refused with its reason in the log and the old rules stay in force;
  - logrotate's rename + SIGHUP: lines written before the reopen stay whole in the renamed file,
    lines after it go to a new file at the configured path, none lost, none twice;
  - a TLS listener's new certificate is used by new connections, an open one keeps working;
  - the process never exits on SIGHUP.
"""

import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile

import mqtt_wire as w
from auth_test import TokenClientMixin, auth_config_text
from mqtt_clients import mosquitto_pub
from tollgate_fixture import (BrokerTestCase, cert, main, source_dir, tcp_listener, tls_listener, toml_value,
                              wait_until)

NOT_AUTHORIZED = 0x87
ALLOWED = (0x00, 0x10)  # success, or no matching subscribers
RELOAD_DONE = "reload (SIGHUP) done"
EVENT_TIMEOUT = 20.0

RULES_V1 = """
[[rule]]
effect = "allow"
action = "pub"
filter = "extra/{client_id}"
"""

# v2: extra/<client id> is now denied; new/<client id> allowed.
RULES_V2 = """
[[rule]]
effect = "deny"
action = "pub"
filter = "extra/#"

[[rule]]
effect = "allow"
action = "pub"
filter = "new/{client_id}"
"""

BROKEN = """
[[rule]]
effect = "permit"
action = "pub"
filter = "extra/#"
"""


def replace_file(path, text):
    """As an operator (or a config manager) should: write aside, then rename over (atomic)."""
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


class ReloadTestCase(TokenClientMixin, BrokerTestCase):
    LISTENERS = None

    def broker_options(self):
        self.files = tempfile.mkdtemp(prefix="tollgate-reload-it-")
        self.addCleanup(shutil.rmtree, self.files, True)
        self.acl_path = os.path.join(self.files, "acl.toml")
        replace_file(self.acl_path, RULES_V1)
        self.audit_path = os.path.join(self.files, "audit.jsonl")
        self.prepare_files()
        text = auth_config_text(listeners=self.listeners())
        text += "\n[auth.audit]\npath = %s\nmax_queue = 100000\n" % toml_value(self.audit_path)
        # An hour of rule caching: only the reload can make a cached session see new rules.
        text += "\n[auth.policy]\ncache_ttl = \"1h\"\n"
        text += "\n[[auth.policy.sources]]\ntype = \"file\"\npath = %s\n" % toml_value(self.acl_path)
        return {"config_text": text}

    def prepare_files(self):
        pass

    def listeners(self):
        return None

    def sighup(self):
        """Sends SIGHUP and waits for the reload's completion line; returns the log text after it."""
        before = self.broker.log_text().count(RELOAD_DONE)
        os.kill(self.broker.pid, signal.SIGHUP)
        wait_until(lambda: self.broker.log_text().count(RELOAD_DONE) > before or not self.broker.alive(),
                   EVENT_TIMEOUT, "the %r log line" % RELOAD_DONE)
        self.assertTrue(self.broker.alive(), "tollgate exited on SIGHUP\n" + self.broker.log_tail())
        return self.broker.log_text()

    def live_session(self, client_id, tok):
        c, ack = self.raw_connect_v5(client_id, username="dev", password=tok.encode())
        self.assertEqual(w.connack_reason(ack), 0)
        return c


class PolicyReload(ReloadTestCase):
    def test_changed_rule_applies_to_the_live_sessions_next_publish(self):
        client = self.register(["mqtt:pub:data/#"])
        tok = self.token(client, "mqtt:pub:data/#")
        c = self.live_session("rl-1", tok)
        # v1: the file grants extra/<client id>, which the token's scope lacks.
        self.assertIn(self.puback_reason(c, "extra/rl-1", 1), ALLOWED)
        self.assertEqual(self.puback_reason(c, "new/rl-1", 2), NOT_AUTHORIZED)
        self.assertIn(self.puback_reason(c, "data/x", 3), ALLOWED)

        replace_file(self.acl_path, RULES_V2)
        # Without a reload nothing changes (the rules are cached for an hour and the file not re-read).
        self.assertIn(self.puback_reason(c, "extra/rl-1", 4), ALLOWED)
        log = self.sighup()
        self.assertIn("policy file %s reloaded: 2 rule(s), 1 before" % self.acl_path, log)
        # The same connection, its very next PUBLISH: [MQTT-3.4.2-1] PUBACK 0x87 (not authorized).
        self.assertEqual(self.puback_reason(c, "extra/rl-1", 5), NOT_AUTHORIZED)
        self.assertIn(self.puback_reason(c, "new/rl-1", 6), ALLOWED)
        self.assertIn(self.puback_reason(c, "data/x", 7), ALLOWED)  # the token's scope is untouched
        # A new connection (mosquitto_pub, MQTT 5) gets the new rules too.
        r = subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(self.broker.port()), "-V", "mqttv5",
                            "-t", "extra/rl-cli", "-q", "1", "-m", "x", "-u", "dev", "-P", tok, "-i", "rl-cli"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30)
        out = r.stdout.decode(errors="replace")
        self.assertTrue(r.returncode != 0 or "not authorized" in out.lower(), out)
        mosquitto_pub(self.broker.port(), "new/rl-cli2", "ok", qos=1, version="mqttv5",
                      extra=["-u", "dev", "-P", tok, "-i", "rl-cli2"])
        # The reload's log lines hold no token.
        self.assertNotIn(tok, log)

    def test_broken_file_keeps_the_old_rules(self):
        client = self.register(["mqtt:pub:data/#"])
        tok = self.token(client, "mqtt:pub:data/#")
        c = self.live_session("rl-2", tok)
        self.assertIn(self.puback_reason(c, "extra/rl-2", 1), ALLOWED)
        for n, text in enumerate([BROKEN, "[[rule]\nnot toml", None]):
            if text is None:
                os.unlink(self.acl_path)  # a missing file is refused the same way
            else:
                replace_file(self.acl_path, text)
            log = self.sighup()
            self.assertEqual(log.count("policy file %s not reloaded, its 1 old rule(s) stay" % self.acl_path), n + 1,
                             log[-3000:])
            self.assertIn("policy files kept after an error", log)
            # The rules in force are still v1, for the live session and a new one.
            self.assertIn(self.puback_reason(c, "extra/rl-2", 2 + n), ALLOWED)
            self.assertEqual(self.puback_reason(c, "new/rl-2", 10 + n), NOT_AUTHORIZED)
        log = self.broker.log_text()
        self.assertIn('rule[0].effect: must be "allow" or "deny" (got "permit")', log)
        self.assertIn("cannot read the policy file", log)
        # A good file afterwards is taken.
        replace_file(self.acl_path, RULES_V2)
        self.sighup()
        self.assertEqual(self.puback_reason(c, "extra/rl-2", 20), NOT_AUTHORIZED)


class AuditRotation(ReloadTestCase):
    def audit_entries(self, path):
        """Every complete line of the file, parsed: a line split by the rotation fails json.loads
        here. A last line without its newline is being written right now: left for the next read."""
        if not os.path.exists(path):
            return []
        with open(path, encoding="utf-8") as f:
            text = f.read()
        return [json.loads(line) for line in text[:text.rfind("\n") + 1].splitlines()]

    def published(self, path):
        return [e["topic"] for e in self.audit_entries(path) if e.get("event") == "authz" and
                e.get("topic", "").startswith("rot/")]

    def test_rename_and_sighup_moves_new_lines_to_a_new_file_losing_none(self):
        client = self.register(["mqtt:pub:rot/#"])
        tok = self.token(client, "mqtt:pub:rot/#")
        c = self.live_session("rot-1", tok)
        rotated = self.audit_path + ".1"
        packet_id = 0

        def publish_range(first, last):
            nonlocal packet_id
            for i in range(first, last):
                packet_id = packet_id % 65535 + 1
                self.assertIn(self.puback_reason(c, "rot/%d" % i, packet_id), ALLOWED)

        publish_range(0, 200)
        wait_until(lambda: len(self.published(self.audit_path)) >= 200, EVENT_TIMEOUT, "200 audit lines")
        os.rename(self.audit_path, rotated)  # logrotate's first step
        publish_range(200, 300)  # still written through the old descriptor: to the renamed file
        log = self.sighup()
        self.assertIn("audit log reopened", log)
        publish_range(300, 500)
        wait_until(lambda: len(self.published(rotated)) + len(self.published(self.audit_path)) >= 500,
                   EVENT_TIMEOUT, "500 audit lines over both files")
        old, new = self.published(rotated), self.published(self.audit_path)
        for path in (rotated, self.audit_path):
            with open(path, "rb") as f:
                self.assertTrue(f.read().endswith(b"\n"), "%s ends inside a line" % path)
        every = old + new
        self.assertEqual(len(every), 500)
        self.assertEqual(sorted(every), sorted("rot/%d" % i for i in range(500)), "a line lost or doubled")
        self.assertEqual(old, ["rot/%d" % i for i in range(300)])  # in order, whole
        self.assertEqual(new, ["rot/%d" % i for i in range(300, 500)])
        self.assertEqual(os.stat(self.audit_path).st_mode & 0o777, 0o600)
        # A second rotation works the same way.
        os.rename(self.audit_path, self.audit_path + ".2")
        self.sighup()
        publish_range(500, 510)
        wait_until(lambda: len(self.published(self.audit_path)) >= 10, EVENT_TIMEOUT, "lines in the third file")
        self.assertEqual(self.published(self.audit_path), ["rot/%d" % i for i in range(500, 510)])


def leaf_der(port, cafile):
    """The certificate the listener presents to a new connection, verified against `cafile`."""
    ctx = ssl.create_default_context(cafile=cafile)
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        with ctx.wrap_socket(raw, server_hostname="localhost") as s:
            return s.getpeercert(binary_form=True)


class TlsRawClient(w.RawClient):
    """mqtt_wire's RawClient over TLS (verified against `cafile`)."""

    def __init__(self, port, cafile):  # pylint: disable=super-init-not-called
        ctx = ssl.create_default_context(cafile=cafile)
        raw = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.sock = ctx.wrap_socket(raw, server_hostname="localhost")
        self.buffer = b""

    def _fill(self, deadline):
        if self.sock.pending() == 0:
            return super()._fill(deadline)
        self.buffer += self.sock.recv(65536)
        return None


class TlsCertificateReload(ReloadTestCase):
    def prepare_files(self):
        # Two unrelated test PKIs: the listener starts with A's server certificate, then gets B's.
        self.pki_a = os.path.dirname(cert("server.crt"))
        self.pki_b = os.path.join(self.files, "pki-b")
        r = subprocess.run([os.path.join(source_dir(), "scripts", "gen-test-certs"), self.pki_b],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
        self.assertEqual(r.returncode, 0, r.stdout)
        self.cert_path = os.path.join(self.files, "server.crt")
        self.key_path = os.path.join(self.files, "server.key")
        shutil.copy(os.path.join(self.pki_a, "server.crt"), self.cert_path)
        shutil.copy(os.path.join(self.pki_a, "server.key"), self.key_path)

    def listeners(self):
        tls = tls_listener("mqtts")
        tls["cert_file"] = self.cert_path
        tls["key_file"] = self.key_path
        return [tcp_listener(), tls]

    def test_new_connections_get_the_new_certificate_open_ones_keep_working(self):
        client = self.register(["mqtt:pub:data/#"])
        tok = self.token(client, "mqtt:pub:data/#")
        port = self.broker.port("mqtts")
        ca_a = os.path.join(self.pki_a, "ca.crt")
        ca_b = os.path.join(self.pki_b, "ca.crt")
        before = leaf_der(port, ca_a)
        old = TlsRawClient(port, ca_a)
        self.on_teardown(old.close)
        old.send(w.connect("tls-old", version=5, username="dev", password=tok.encode()))
        self.assertEqual(w.connack_reason(old.expect(w.CONNACK)), 0)

        # A key that does not match the certificate: refused, the old context stays.
        shutil.copy(os.path.join(self.pki_b, "server.crt"), self.cert_path)
        log = self.sighup()
        self.assertIn("listener 'mqtts' keeps its TLS certificate", log)
        self.assertIn("TLS listeners 0 reloaded (0 changed, 1 failed)", log)
        self.assertEqual(leaf_der(port, ca_a), before)

        shutil.copy(os.path.join(self.pki_b, "server.key"), self.key_path)
        log = self.sighup()
        self.assertIn("listener 'mqtts' certificate replaced", log)
        after = leaf_der(port, ca_b)  # verifies against B's CA only
        self.assertNotEqual(after, before)
        with self.assertRaises(ssl.SSLError):
            leaf_der(port, ca_a)
        # The connection opened before the reload is unaffected.
        self.assertIn(self.puback_reason(old, "data/still-here", 1), ALLOWED)
        # And a new MQTT session over the new certificate works: mosquitto_pub verifies the chain
        # against B's CA (--insecure only skips its host name check, which leaf_der did above).
        mosquitto_pub(port, "data/new-cert", "x", qos=1, version="mqttv5",
                      extra=["-u", "dev", "-P", tok, "-i", "tls-new", "--cafile", ca_b, "--insecure"])


if __name__ == "__main__":
    main()
