"""The broker as an OAuth 2.0 resource server, end to end (docs/auth.md).

The real tollgate runs with its built-in authorization server and [auth] enabled (anonymous off).
A client registered with `tollgate admin client add` gets a token from /token (client_credentials,
RFC 6749 §4.4) and connects with it: as the CONNECT password (mosquitto_pub -P), and through MQTT 5
enhanced authentication (method CUSTOM-JWT) with re-authentication (AUTH 0x19). A token revoked
through /revoke (RFC 7009) ends its live session within one second.
"""

import base64
import json
import os
import queue
import re
import subprocess
import threading
import time
import urllib.parse
import urllib.request

import mqtt_wire as w
from tollgate_fixture import (BrokerTestCase, binary_path, main, make_config, source_dir, tcp_listener,
                              toml_value)

PROP_REASON_STRING = 0x1F
PROP_AUTH_METHOD = 0x15
PROP_AUTH_DATA = 0x16
REAUTHENTICATE = 0x19
MOSQUITTO_TIMEOUT = 20


def mosquitto_pub(port, topic, message, qos=0, version="mqttv311", extra=()):
    """Runs mosquitto_pub; returns (exit code, output)."""
    args = ["mosquitto_pub", "-h", "127.0.0.1", "-p", str(port), "-V", version, "-t", topic, "-q", str(qos),
            "-m", message] + list(extra)
    r = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=MOSQUITTO_TIMEOUT)
    return r.returncode, r.stdout.decode(errors="replace")


def auth_config_text(mqtt=None, auth=None, listeners=None):
    """tollgate's TOML with the built-in authorization server on an ephemeral port and [auth] on;
    `mqtt` adds keys to [mqtt], `auth` to [auth] (e.g. {"leeway": "0s"})."""
    mqtt_table = {"allow_anonymous": False}
    mqtt_table.update(mqtt or {})
    text = make_config(listeners or [tcp_listener()], mqtt=mqtt_table, server={"threads": 2},
                       log={"level": "debug"}, oauth={"enabled": True, "port": 0})
    text += "\n[auth]\nenabled = true\n"
    for k, v in (auth or {}).items():
        text += "%s = %s\n" % (k, toml_value(v))
    return text


# An MQTT.js (tests/js/node_modules/mqtt) client driven by a JSON plan, reporting each event as one
# JSON line on stdout: connack, suback, puback (err/rc), message, disconnect (rc, reason), close.
# Plan: {url, version, clientId, username, password, subscribe: [[filter, qos]], publish:
# [[topic, payload, qos]], stay: bool (keep the connection until the broker ends it)}.
MQTTJS_CLIENT = r"""
'use strict';
const mqtt = require('mqtt');
const plan = JSON.parse(process.argv[1]);
const out = (o) => process.stdout.write(JSON.stringify(o) + '\n');
const timer = setTimeout(() => { out({ ev: 'timeout' }); process.exit(3); }, plan.timeoutMs || 20000);
const client = mqtt.connect(plan.url, {
  protocolVersion: plan.version, clientId: plan.clientId, username: plan.username,
  password: plan.password, clean: true, reconnectPeriod: 0, connectTimeout: 10000,
});
client.on('error', (err) => out({ ev: 'error', message: err.message, code: err.code }));
client.on('disconnect', (p) => out({ ev: 'disconnect', rc: p.reasonCode,
  reason: p.properties && p.properties.reasonString }));
client.on('close', () => { out({ ev: 'close' }); clearTimeout(timer); process.exit(0); });
client.on('message', (topic, payload, p) => out({ ev: 'message', topic, payload: payload.toString(),
  retain: p.retain }));
client.on('connect', async (connack) => {
  out({ ev: 'connack', rc: connack.reasonCode || connack.returnCode || 0 });
  for (const [filter, qos] of plan.subscribe || []) {
    const granted = await new Promise((resolve) => client.subscribe(filter, { qos }, (err, g) =>
      resolve(err ? [{ qos: err.code === undefined ? -1 : err.code, error: err.message }] : g)));
    out({ ev: 'suback', filter, granted: granted.map((g) => g.qos), error: granted[0] && granted[0].error });
  }
  for (const [topic, payload, qos] of plan.publish || []) {
    const err = await new Promise((resolve) => client.publish(topic, payload, { qos }, resolve));
    out({ ev: 'puback', topic, rc: err ? (err.code === undefined ? -1 : err.code) : 0 });
  }
  out({ ev: 'ready' });
  if (!plan.stay) client.end(false);
});
"""


class MqttJsClient:
    """Runs MQTTJS_CLIENT with node; events() yields its events as they come (queue + timeout)."""

    def __init__(self, plan):
        js_dir = os.path.join(source_dir(), "tests", "js")
        if not os.path.isdir(os.path.join(js_dir, "node_modules", "mqtt")):
            raise AssertionError("tests/js/node_modules/mqtt is missing: run scripts/install-deps")
        self.process = subprocess.Popen(["node", "-e", MQTTJS_CLIENT, json.dumps(plan)], cwd=js_dir,
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.queue = queue.Queue()
        self.seen = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for raw in self.process.stdout:
            line = raw.decode(errors="replace").strip()
            try:
                self.queue.put(json.loads(line))
            except ValueError:
                self.queue.put({"ev": "output", "text": line})
        self.queue.put({"ev": "exit"})

    def next_event(self, timeout=10.0):
        try:
            e = self.queue.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError("MQTT.js: no event within %.1f s (so far %r)" % (timeout, self.seen)) from None
        self.seen.append(e)
        return e

    def expect(self, ev, timeout=10.0):
        e = self.next_event(timeout)
        while e["ev"] == "output":
            e = self.next_event(timeout)
        if e["ev"] != ev:
            raise AssertionError("MQTT.js: expected %s, got %r (so far %r)" % (ev, e, self.seen))
        return e

    def close(self):
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=10)
        self.process.stdout.close()


class TokenClientMixin:
    """Helpers for tests against a broker started with auth_config_text(): client registration
    through `tollgate admin`, tokens from /token, raw MQTT 5 connections with a token."""

    def oauth_url(self, path):
        port = self.broker.port("oauth")
        return "http://127.0.0.1:%d%s" % (port, path)

    def admin(self, *args):
        """`tollgate admin --data-dir <the broker's> ...`; returns its output (must exit 0)."""
        out = subprocess.run([binary_path(), "admin", "--data-dir", self.broker.data_dir] + list(args),
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
        text = out.stdout.decode()
        self.assertEqual(out.returncode, 0, text)
        return text

    def register(self, scopes, ttl=None):
        """`tollgate admin client add` on the broker's data directory; returns (id, secret)."""
        args = ["client", "add", "--grant", "client_credentials"]
        for s in scopes:
            args += ["--scope", s]
        if ttl is not None:
            args += ["--ttl", str(ttl)]
        text = self.admin(*args)
        client_id = re.search(r"^client_id:\s+(\S+)", text, re.M).group(1)
        secret = re.search(r"^client_secret:\s+(\S+)", text, re.M).group(1)
        return client_id, secret

    def post(self, path, form, client):
        data = urllib.parse.urlencode(form).encode()
        req = urllib.request.Request(self.oauth_url(path), data=data, method="POST")
        basic = base64.b64encode(("%s:%s" % (urllib.parse.quote(client[0], safe=""),
                                             urllib.parse.quote(client[1], safe=""))).encode()).decode()
        req.add_header("Authorization", "Basic " + basic)
        req.add_header("Content-Type", "application/x-www-form-urlencoded")
        with urllib.request.urlopen(req, timeout=10) as resp:
            body = resp.read()
            return json.loads(body) if body else {}

    def token(self, client, scope):
        return self.post("/token", {"grant_type": "client_credentials", "scope": scope}, client)["access_token"]

    def mqttjs(self, plan):
        c = MqttJsClient(plan)
        self.on_teardown(c.close)
        return c

    def token_response(self, client, scope):
        return self.post("/token", {"grant_type": "client_credentials", "scope": scope}, client)

    def jwks(self):
        with urllib.request.urlopen(self.oauth_url("/jwks"), timeout=10) as resp:
            return json.loads(resp.read())

    def raw_connect_v5(self, client_id, props=b"", password=None, username=None, **kw):
        c = w.RawClient(self.broker.port())
        self.on_teardown(c.close)
        c.send(w.connect(client_id, version=5, props=props, password=password, username=username, **kw))
        ack = c.expect(w.CONNACK)
        return c, ack

    def raw_connect_v311(self, client_id, password, username="oauth2", **kw):
        c = w.RawClient(self.broker.port())
        self.on_teardown(c.close)
        c.send(w.connect(client_id, version=4, password=password, username=username, **kw))
        ack = c.expect(w.CONNACK)
        return c, ack

    @staticmethod
    def auth_props(token):
        return (bytes([PROP_AUTH_METHOD]) + w.utf8("CUSTOM-JWT") + bytes([PROP_AUTH_DATA]) +
                w.binary(token.encode()))

    @staticmethod
    def puback_reason(c, topic, packet_id):
        c.send(w.publish(topic, b"x", qos=1, packet_id=packet_id, version=5))
        p = c.expect(w.PUBACK)
        return p.body[2] if len(p.body) > 2 else 0


class AuthEndToEnd(TokenClientMixin, BrokerTestCase):
    def broker_options(self):
        return {"config_text": auth_config_text()}

    # ---- tests ---------------------------------------------------------------------------------

    def test_mosquitto_pub_with_token_within_and_outside_scope(self):
        client = self.register(["mqtt:pub:allowed/#"])
        tok = self.token(client, "mqtt:pub:allowed/#")
        # Within scope: QoS 1 completes (mosquitto_pub exits 0 after PUBACK).
        rc, out = mosquitto_pub(self.broker.port(), "allowed/x", "hi", qos=1, version="mqttv5",
                                extra=["-u", "oauth2", "-P", tok])
        self.assertEqual(rc, 0, out)
        rc, out = mosquitto_pub(self.broker.port(), "allowed/x", "hi", qos=1, extra=["-u", "oauth2", "-P", tok])
        self.assertEqual(rc, 0, out)  # MQTT 3.1.1 too
        # Outside scope, MQTT 5: PUBACK 0x87, which mosquitto_pub 2.x reports ("Publish 1 failed: Not
        # authorized"), with a non-zero exit status in some versions.
        rc, out = mosquitto_pub(self.broker.port(), "forbidden/x", "hi", qos=1, version="mqttv5",
                                extra=["-u", "oauth2", "-P", tok])
        self.assertTrue(rc != 0 or "not authorized" in out.lower(), out)
        # A wrong token: CONNACK return code 4 (bad user name or password).
        rc, out = mosquitto_pub(self.broker.port(), "allowed/x", "hi", qos=1, extra=["-u", "oauth2", "-P", tok + "x"])
        self.assertNotEqual(rc, 0, out)

    def test_no_token_refused_anonymous_off(self):
        c = w.RawClient(self.broker.port())
        self.on_teardown(c.close)
        c.send(w.connect("anon", version=5))
        ack = c.expect(w.CONNACK)
        self.assertNotEqual(w.connack_reason(ack), 0)

    def test_custom_jwt_and_reauthentication_narrowing(self):
        client = self.register(["mqtt:pub:a/#", "mqtt:pub:a/b"])
        wide = self.token(client, "mqtt:pub:a/#")
        narrow = self.token(client, "mqtt:pub:a/b")
        c, ack = self.raw_connect_v5("reauth-1", props=self.auth_props(wide))
        self.assertEqual(w.connack_reason(ack), 0)
        self.assertIn(self.puback_reason(c, "a/x", 1), (0x00, 0x10))
        # AUTH 0x19 with the narrower token, then at once a PUBLISH the new scopes refuse.
        auth = w.packet(0xF0, bytes([REAUTHENTICATE]) + w.properties(self.auth_props(narrow)))
        c.send(auth + w.publish("a/x", b"y", qos=1, packet_id=2, version=5))
        reply = c.expect(w.AUTH)
        self.assertEqual(reply.body[0], 0x00)
        p = c.expect(w.PUBACK)
        self.assertEqual(p.body[2], 0x87)
        self.assertIn(self.puback_reason(c, "a/b", 3), (0x00, 0x10))
        # An unknown method is refused with 0x8C.
        c2, ack2 = self.raw_connect_v5("m", props=bytes([PROP_AUTH_METHOD]) + w.utf8("SCRAM-SHA-1"))
        self.assertEqual(w.connack_reason(ack2), 0x8C)

    def test_revoked_token_ends_session_within_one_second(self):
        client = self.register(["mqtt:all:t/#"])
        tok = self.token(client, "mqtt:all:t/#")
        c, ack = self.raw_connect_v5("revoked-1", username="oauth2", password=tok.encode())
        self.assertEqual(w.connack_reason(ack), 0)
        start = time.monotonic()
        self.post("/revoke", {"token": tok, "token_type_hint": "access_token"}, client)
        p = c.expect(w.DISCONNECT, timeout=1.0)
        self.assertLess(time.monotonic() - start, 1.0)
        self.assertEqual(p.body[0], 0x98)  # administrative action, reason string "token revoked"
        c.expect_closed(timeout=1.0)
        # The revoked token no longer connects.
        c2, ack2 = self.raw_connect_v5("revoked-2", username="oauth2", password=tok.encode())
        self.assertEqual(w.connack_reason(ack2), 0x86)


class VerifyThreadsMixin(TokenClientMixin):
    """[auth] verify_threads (docs/auth.md "Signature checks off the event loop"): CONNECT with cold
    tokens, many at once, with the checks on the verify pool or inline."""

    VERIFY_THREADS = None

    def broker_options(self):
        return {"config_text": auth_config_text(auth={"verify_threads": self.VERIFY_THREADS})}

    def verify_threads_running(self):
        """Threads of the broker process named tg-verify-<i> (auth::verify_pool)."""
        names = []
        task_dir = "/proc/%d/task" % self.broker.pid
        for tid in os.listdir(task_dir):
            try:
                with open(os.path.join(task_dir, tid, "comm")) as f:
                    names.append(f.read().strip())
            except FileNotFoundError:
                continue  # the thread ended meanwhile
        return sorted(n for n in names if n.startswith("tg-verify-"))

    def test_cold_tokens_connect_at_once_and_a_forged_one_is_refused(self):
        self.assertEqual(self.verify_threads_running(),
                         ["tg-verify-%d" % i for i in range(self.VERIFY_THREADS)])
        client = self.register(["mqtt:pub:v/#"])
        tokens = [self.token(client, "mqtt:pub:v/#") for _ in range(12)]  # distinct: each is cold
        head, payload, sig = tokens[0].split(".")
        forged = "%s.%s.%s" % (head, payload, sig[:-4] + ("AAAA" if not sig.endswith("AAAA") else "BBBB"))
        conns = []
        for i, tok in enumerate(tokens + [forged]):  # every CONNECT sent before any answer is read
            c = w.RawClient(self.broker.port())
            self.on_teardown(c.close)
            c.send(w.connect("vt-%d" % i, version=5 if i % 2 == 0 else 4, username="oauth2",
                             password=tok.encode()))
            conns.append(c)
        codes = [w.connack_reason(c.expect(w.CONNACK)) for c in conns]
        self.assertEqual(codes[:-1], [0] * len(tokens))
        self.assertIn(codes[-1], (0x86, 4))  # v5 0x86 / v3.1.1 return code 4 (13 CONNECTs: the last is v5)
        self.assertIn(self.puback_reason(conns[0], "v/x", 1), (0x00, 0x10))
        self.assertEqual(self.puback_reason(conns[2], "w/x", 1), 0x87)  # scopes from the verified token
        # A reconnect with an already verified token (the cache) and mosquitto_pub work too.
        c, ack = self.raw_connect_v5("vt-again", username="oauth2", password=tokens[0].encode())
        self.assertEqual(w.connack_reason(ack), 0)
        rc, out = mosquitto_pub(self.broker.port(), "v/y", "hi", qos=1, extra=["-u", "oauth2", "-P", tokens[1]])
        self.assertEqual(rc, 0, out)
        want = ("on %d verify thread(s)" % self.VERIFY_THREADS if self.VERIFY_THREADS
                else "inline on the broker workers")
        self.assertIn("cold token signature checks " + want, self.broker.log_text())


class VerifyThreadsTwo(VerifyThreadsMixin, BrokerTestCase):
    VERIFY_THREADS = 2


class VerifyThreadsInline(VerifyThreadsMixin, BrokerTestCase):
    VERIFY_THREADS = 0


if __name__ == "__main__":
    main()
