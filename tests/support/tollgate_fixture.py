"""The tollgate process fixture for integration tests (docs/testing.md).

A Broker owns one real `tollgate serve` process: it writes a TOML configuration whose listeners
use port 0, starts the binary with --ready-file, waits for the "tollgate ready" line on stdout (an
event, not a sleep), reads the real ports from the ready file, captures stderr (the log) to a file
and, at stop(), sends SIGTERM and checks that the process exits with code 0.

Environment (set by tests/integration/CMakeLists.txt):
  TOLLGATE_BINARY      path of the tollgate executable ($<TARGET_FILE:tollgate>)
  TOLLGATE_SOURCE_DIR  the source tree (for scripts/gen-test-certs and tests/js)

Only the Python standard library is used here; clients (paho, mosquitto_*, MQTT.js) live in
mqtt_clients.py and the test scripts.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest

READY_TIMEOUT = 20.0  # seconds allowed from exec to "tollgate ready"
STOP_TIMEOUT = 15.0  # seconds allowed from SIGTERM to exit


def binary_path():
    path = os.environ.get("TOLLGATE_BINARY")
    if not path or not os.access(path, os.X_OK):
        raise RuntimeError("TOLLGATE_BINARY must name the tollgate executable (got %r)" % path)
    return path


def source_dir():
    path = os.environ.get("TOLLGATE_SOURCE_DIR")
    if not path:
        path = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
    return path


def toml_value(value):
    """A Python value as TOML text (enough for our configurations)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value)  # a JSON string is a valid TOML basic string for our inputs
    raise TypeError("cannot write %r as TOML" % (value,))


def make_config(listeners, limits=None, features=None, mqtt=None, server=None, log=None, oauth=None):
    """TOML text for tollgate: `listeners` is a list of dicts ([[mqtt.listeners]]), the rest dicts
    of the matching tables. The built-in authorization server is off unless `oauth` says otherwise
    (its default port 8080 would collide between tests running in parallel); pass
    oauth={"enabled": True, "port": 0} to run it on an ephemeral port."""
    lines = []

    def table(name, values):
        if values:
            lines.append("[%s]" % name)
            for k, v in values.items():
                lines.append("%s = %s" % (k, toml_value(v)))
            lines.append("")

    table("server", server)
    table("log", log)
    table("mqtt", mqtt)
    for listener in listeners:
        lines.append("[[mqtt.listeners]]")
        for k, v in listener.items():
            lines.append("%s = %s" % (k, toml_value(v)))
        lines.append("")
    table("mqtt.limits", limits)
    table("mqtt.features", features)
    table("oauth", oauth if oauth is not None else {"enabled": False})
    return "\n".join(lines)


_certs_lock = threading.Lock()
_certs_dir = None


def test_certs():
    """A directory of test certificates made once per process by scripts/gen-test-certs
    (ca.crt, server.crt/key, client.crt/key, and a rogue client signed by another CA)."""
    global _certs_dir
    with _certs_lock:
        if _certs_dir is None:
            d = tempfile.mkdtemp(prefix="tollgate-certs-")
            script = os.path.join(source_dir(), "scripts", "gen-test-certs")
            result = subprocess.run([script, d], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
            if result.returncode != 0:
                raise RuntimeError("gen-test-certs failed:\n" + result.stdout.decode(errors="replace"))
            _certs_dir = d
        return _certs_dir


def cert(name):
    path = os.path.join(test_certs(), name)
    if not os.path.exists(path):
        raise RuntimeError("gen-test-certs made no %s (it made: %s)" % (name, sorted(os.listdir(test_certs()))))
    return path


def tls_listener(name, type_="tls", client_certificates="none"):
    listener = {
        "name": name,
        "type": type_,
        "address": "127.0.0.1",
        "port": 0,
        "cert_file": cert("server.crt"),
        "key_file": cert("server.key"),
    }
    if client_certificates != "none":
        listener["client_certificates"] = client_certificates
        listener["ca_file"] = cert("ca.crt")
    return listener


def tcp_listener(name="mqtt"):
    return {"name": name, "type": "tcp", "address": "127.0.0.1", "port": 0}


def ws_listener(name="ws", path="/mqtt"):
    return {"name": name, "type": "ws", "address": "127.0.0.1", "port": 0, "path": path}


class BrokerError(AssertionError):
    pass


class Broker:
    """One tollgate process. Use as a context manager or call start()/stop()."""

    def __init__(self, listeners=None, limits=None, features=None, mqtt=None, server=None, log_level="debug",
                 config_text=None, extra_args=(), oauth=None):
        self.workdir = tempfile.mkdtemp(prefix="tollgate-it-")
        self.config_path = os.path.join(self.workdir, "tollgate.toml")
        self.ready_path = os.path.join(self.workdir, "ready.json")
        self.log_path = os.path.join(self.workdir, "tollgate.log")
        self.data_dir = os.path.join(self.workdir, "data")
        if config_text is None:
            mqtt_table = {"allow_anonymous": True}
            mqtt_table.update(mqtt or {})
            server_table = {"threads": 2}
            server_table.update(server or {})
            config_text = make_config(listeners or [tcp_listener()], limits=limits, features=features,
                                      mqtt=mqtt_table, server=server_table, log={"level": log_level},
                                      oauth=oauth)
        self.config_text = config_text
        self.extra_args = list(extra_args)
        self.process = None
        self.ready = None
        self.listeners = {}
        self._ready_event = threading.Event()
        self._stdout_lines = []
        self._reader = None

    # ---- lifecycle -------------------------------------------------------------------------

    def start(self):
        with open(self.config_path, "w") as f:
            f.write(self.config_text)
        args = [binary_path(), "serve", "--config", self.config_path, "--ready-file", self.ready_path,
                "--data-dir", self.data_dir] + self.extra_args
        self._log_file = open(self.log_path, "wb")
        self.process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=self._log_file, stdin=subprocess.DEVNULL)
        self._reader = threading.Thread(target=self._read_stdout, daemon=True)
        self._reader.start()
        # The reader sets the event on "tollgate ready" or at EOF (the process died): no polling.
        if not self._ready_event.wait(READY_TIMEOUT):
            self.kill()
            raise BrokerError("tollgate not ready after %.0f s\n%s" % (READY_TIMEOUT, self.log_tail()))
        if "tollgate ready" not in self._stdout_lines:
            code = self.process.wait(timeout=STOP_TIMEOUT)
            raise BrokerError("tollgate exited with %s before ready\n%s" % (code, self.log_tail()))
        with open(self.ready_path) as f:
            self.ready = json.load(f)
        if self.ready.get("pid") != self.process.pid:
            raise BrokerError("ready file pid %r is not the process %d" % (self.ready.get("pid"), self.process.pid))
        self.listeners = {entry["name"]: entry for entry in self.ready["listeners"]}
        return self

    def _read_stdout(self):
        for raw in self.process.stdout:
            line = raw.decode(errors="replace").rstrip("\n")
            self._stdout_lines.append(line)
            if line == "tollgate ready":
                self._ready_event.set()
        self._ready_event.set()

    def stop(self, expect_code=0):
        """SIGTERM, wait for the exit, check the exit code. Returns the code."""
        if self.process is None or self.process.poll() is not None and self._stopped:
            return self.process.returncode if self.process else None
        self._stopped = True
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            code = self.process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.kill()
            raise BrokerError("tollgate did not exit within %.0f s of SIGTERM\n%s" % (STOP_TIMEOUT, self.log_tail()))
        finally:
            self._close_files()
        if expect_code is not None and code != expect_code:
            raise BrokerError("tollgate exited with %d after SIGTERM (expected %d)\n%s" %
                              (code, expect_code, self.log_tail()))
        return code

    _stopped = False

    def kill(self):
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self._stopped = True
        self._close_files()

    def _close_files(self):
        if self._reader is not None:
            self._reader.join(timeout=5)
            self._reader = None
            if self.process is not None and self.process.stdout is not None:
                self.process.stdout.close()
        if getattr(self, "_log_file", None) is not None:
            self._log_file.close()
            self._log_file = None

    def cleanup(self):
        self.kill()
        if os.environ.get("TOLLGATE_KEEP_WORKDIR"):
            sys.stderr.write("tollgate workdir kept: %s\n" % self.workdir)
        else:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, exc_type, exc, tb):
        try:
            if exc_type is None:
                self.stop()
            elif self.process is not None:
                sys.stderr.write("---- tollgate log (tail) ----\n%s\n" % self.log_tail())
        finally:
            self.cleanup()
        return False

    # ---- what tests ask -------------------------------------------------------------------------

    def port(self, name="mqtt"):
        return self.listeners[name]["port"]

    @property
    def pid(self):
        return self.process.pid

    def alive(self):
        return self.process is not None and self.process.poll() is None

    def rss_kib(self):
        """VmRSS of the broker process in KiB."""
        with open("/proc/%d/status" % self.process.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        raise BrokerError("no VmRSS in /proc/%d/status" % self.process.pid)

    def log_text(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode(errors="replace")
        except OSError:
            return ""

    def log_tail(self, lines=60):
        return "\n".join(self.log_text().splitlines()[-lines:])


class BrokerTestCase(unittest.TestCase):
    """A test case with one broker per test. Override broker_options() for other listeners,
    limits or features; self.broker is running inside every test method."""

    def broker_options(self):
        return {}

    def setUp(self):
        self.broker = Broker(**self.broker_options())
        try:
            self.broker.start()
        except BaseException:
            self.broker.cleanup()
            raise
        self._cleanups_before_stop = []

    def on_teardown(self, fn):
        """Runs fn (closing clients) before the broker is stopped."""
        self._cleanups_before_stop.append(fn)

    def tearDown(self):
        failed = self._outcome_failed()
        try:
            for fn in reversed(self._cleanups_before_stop):
                try:
                    fn()
                except Exception as e:  # a client that is already gone
                    sys.stderr.write("cleanup: %r\n" % (e,))
            if failed:
                sys.stderr.write("---- tollgate log (tail) ----\n%s\n" % self.broker.log_tail())
                self.broker.kill()
            else:
                # Every test also checks that the broker survived it and shuts down cleanly.
                self.assertTrue(self.broker.alive(), "tollgate died during the test\n" + self.broker.log_tail())
                self.broker.stop()
        finally:
            self.broker.cleanup()

    def _outcome_failed(self):
        # unittest adds a failure of the test method to the result before tearDown runs.
        outcome = getattr(self, "_outcome", None)
        result = getattr(outcome, "result", None)
        if result is None:
            return False
        return any(t is self for t, _ in list(result.errors) + list(result.failures))


def main():
    """unittest main, plus `--list` (prints one test id per line, for CMake's registration)."""
    if len(sys.argv) > 1 and sys.argv[1] == "--list":
        loader = unittest.TestLoader()
        suite = loader.loadTestsFromModule(sys.modules["__main__"])

        def walk(s):
            for t in s:
                if isinstance(t, unittest.TestSuite):
                    yield from walk(t)
                else:
                    yield t

        for t in walk(suite):
            tid = t.id()
            print(tid[len("__main__."):] if tid.startswith("__main__.") else tid)
        return
    unittest.main(verbosity=2)


def wait_until(predicate, timeout, what):
    """For conditions that have no event to wait on (a process exit is checked with wait());
    polls `predicate` every 20 ms. Used only where nothing signals the change."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.02)
    raise AssertionError("timed out after %.1f s waiting for %s" % (timeout, what))
