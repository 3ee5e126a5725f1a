#!/usr/bin/python3
"""The tollgate command line: --help, --version, configuration errors (exit code 2, message
naming the key), the ready file, and exit codes on SIGTERM / SIGINT."""

import json
import os
import signal
import socket
import subprocess
import tempfile
import unittest

from mqtt_clients import mosquitto_pub
from tollgate_fixture import Broker, binary_path, main, make_config, tcp_listener

TIMEOUT = 15


def run(*args):
    return subprocess.run([binary_path()] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          timeout=TIMEOUT, stdin=subprocess.DEVNULL)


def serve_with_config(text, *extra):
    """Runs `tollgate serve --config <file with text> --check`-like start; returns the result.
    Uses --check so a valid configuration returns at once instead of serving."""
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "tollgate.toml")
        with open(path, "w") as f:
            f.write(text)
        return run("serve", "--config", path, "--data-dir", os.path.join(d, "data"), *extra)


class HelpTest(unittest.TestCase):
    def test_top_level_help_lists_serve(self):
        r = run("--help")
        self.assertEqual(r.returncode, 0, r.stderr)
        out = r.stdout.decode()
        self.assertIn("serve", out)
        self.assertIn("--version", out)
        self.assertIn("--help", out)

    def test_serve_help_lists_every_option(self):
        r = run("serve", "--help")
        self.assertEqual(r.returncode, 0, r.stderr)
        out = r.stdout.decode()
        for option in ("--config", "--data-dir", "--ready-file", "--log-level", "--log-format", "--log-file",
                       "--threads", "--check", "--print-default-config", "--help"):
            self.assertIn(option, out, "serve --help does not document " + option)

    def test_version(self):
        r = run("--version")
        self.assertEqual(r.returncode, 0)
        self.assertRegex(r.stdout.decode(), r"^tollgate \d+\.\d+\.\d+")

    def test_no_subcommand_is_a_usage_error(self):
        r = run()
        self.assertEqual(r.returncode, 2)

    def test_unknown_option_is_a_usage_error(self):
        r = run("serve", "--no-such-option")
        self.assertEqual(r.returncode, 2)
        self.assertIn("no-such-option", (r.stdout + r.stderr).decode())

    def test_print_default_config_is_valid_and_uses_1883(self):
        r = run("serve", "--print-default-config")
        self.assertEqual(r.returncode, 0)
        text = r.stdout.decode()
        self.assertIn("port = 1883", text)
        self.assertIn('address = "127.0.0.1"', text)
        check = serve_with_config(text, "--check")
        self.assertEqual(check.returncode, 0, check.stderr)
        self.assertIn("configuration OK", check.stdout.decode())


class ConfigErrorTest(unittest.TestCase):
    def assert_config_error(self, text, message):
        r = serve_with_config(text)
        err = r.stderr.decode()
        self.assertEqual(r.returncode, 2, "stdout: %s\nstderr: %s" % (r.stdout.decode(), err))
        self.assertIn("config error: " + message, err)

    def test_unknown_key_in_nested_table_names_the_key(self):
        self.assert_config_error("[mqtt.limits]\nmax_pakcet_size = 1000\n",
                                 "mqtt.limits.max_pakcet_size: unknown key (did you mean max_packet_size?)")

    def test_unknown_table(self):
        self.assert_config_error("[mqtt.limts]\nmax_packet_size = 1000\n", "mqtt.limts: unknown key")

    def test_out_of_range_value_names_the_key_and_range(self):
        self.assert_config_error("[mqtt.limits]\nmax_packet_size = 0\n",
                                 "mqtt.limits.max_packet_size: must be between 16 and 268435455 (got 0)")

    def test_wrong_type(self):
        self.assert_config_error("[server]\nthreads = \"two\"\n", "server.threads: must be an integer (got a string)")

    def test_bad_enum_in_listener(self):
        self.assert_config_error("[[mqtt.listeners]]\ntype = \"quic\"\n",
                                 "mqtt.listeners[0].type: must be one of tcp, tls, ws, wss (got \"quic\")")

    def test_toml_syntax_error_gives_the_line(self):
        r = serve_with_config("[server\n")
        self.assertEqual(r.returncode, 2)
        self.assertRegex(r.stderr.decode(), r"config error: .*tollgate\.toml:1:\d+: invalid TOML")

    def test_bad_command_line_value(self):
        r = run("serve", "--log-level", "shouty", "--check")
        self.assertEqual(r.returncode, 2)
        self.assertIn("log.level", r.stderr.decode())

    def test_missing_config_file(self):
        r = run("serve", "--config", "/nonexistent/tollgate.toml")
        self.assertEqual(r.returncode, 2)
        self.assertIn("/nonexistent/tollgate.toml", (r.stdout + r.stderr).decode())

    def test_tls_listener_without_certificate(self):
        self.assert_config_error("[[mqtt.listeners]]\ntype = \"tls\"\nport = 0\n",
                                 "mqtt.listeners[0].cert_file: is required for a tls listener")


class RunTest(unittest.TestCase):
    def test_ready_file_lists_every_listener_with_its_bound_port(self):
        b = Broker(listeners=[tcp_listener("first"), tcp_listener("second")])
        with b:
            self.assertEqual(b.ready["pid"], b.pid)
            names = [l["name"] for l in b.ready["listeners"]]
            self.assertEqual(sorted(names), ["first", "second"])
            for l in b.ready["listeners"]:
                self.assertEqual(l["type"], "tcp")
                self.assertEqual(l["address"], "127.0.0.1")
                self.assertGreater(l["port"], 0)
                socket.create_connection(("127.0.0.1", l["port"]), timeout=5).close()
            self.assertNotEqual(b.port("first"), b.port("second"))

    def test_sigterm_exits_zero(self):
        b = Broker()
        b.start()
        try:
            self.assertEqual(b.stop(), 0)
        finally:
            b.cleanup()

    def test_sigint_exits_zero(self):
        b = Broker()
        b.start()
        try:
            b.process.send_signal(signal.SIGINT)
            self.assertEqual(b.process.wait(timeout=TIMEOUT), 0, b.log_tail())
            b.kill()
        finally:
            b.cleanup()

    def test_port_in_use_fails_with_exit_1_naming_the_listener(self):
        holder = socket.socket()
        holder.bind(("127.0.0.1", 0))
        holder.listen(1)
        port = holder.getsockname()[1]
        try:
            listener = tcp_listener("busy")
            listener["port"] = port
            with tempfile.TemporaryDirectory() as d:
                path = os.path.join(d, "t.toml")
                with open(path, "w") as f:
                    f.write(make_config([listener]))
                r = subprocess.run([binary_path(), "serve", "--config", path, "--data-dir", os.path.join(d, "data")],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=TIMEOUT)
            self.assertEqual(r.returncode, 1, r.stderr.decode())
            err = r.stderr.decode()
            self.assertIn("busy", err)
            self.assertIn(str(port), err)
            self.assertNotIn("tollgate ready", r.stdout.decode())
        finally:
            holder.close()

    def test_passwords_are_never_logged(self):
        """DESIGN.md principle 4: a CONNECT password never reaches the log, even at trace level."""
        secret = "pw-" + os.urandom(8).hex()
        b = Broker(log_level="trace")
        try:
            b.start()
            for version in ("mqttv311", "mqttv5"):
                mosquitto_pub(b.port(), "log/t", "x", qos=1, version=version, extra=["-u", "user", "-P", secret])
            b.stop()
            text = b.log_text()
        finally:
            b.cleanup()
        self.assertTrue(text, "no log output at trace level")
        self.assertNotIn(secret, text)
        self.assertNotIn(secret.encode().hex(), text)

    def test_json_log_format_writes_json_lines(self):
        b = Broker(extra_args=["--log-format", "json"])
        try:
            b.start()
            b.stop()
            text = b.log_text()
        finally:
            b.cleanup()
        lines = [l for l in text.splitlines() if l.strip()]
        self.assertTrue(lines, "no log output")
        for line in lines:
            json.loads(line)


if __name__ == "__main__":
    main()
