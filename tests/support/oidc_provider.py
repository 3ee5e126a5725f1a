"""A real node oidc-provider authorization server for integration tests (tests/support/oidc/).

OidcProvider starts `node tests/support/oidc/provider.mjs` on a free loopback port, waits for its
"oidc-provider ready" line on stdout (an event, not a sleep) and offers small client calls:

    with OidcProvider(clients=[{"client_id": "sensor-1", "client_secret": "s1",
                                "scope": "mqtt:pub:sensors/#"}], alg="ES256", https=True) as idp:
        token = idp.access_token("sensor-1", "s1", scope="mqtt:pub:sensors/#")
        idp.issuer, idp.jwks_uri, idp.ca_file            # for tollgate's [[auth.issuers]]
        idp.introspect(opaque, "tollgate", "secret")      # RFC 7662 (opaque tokens only)
        idp.revoke(opaque, "sensor-1", "s1")              # RFC 7009 (opaque tokens only)
        new_kid = idp.rotate_keys()                       # new signing key, first in the JWKS

Access tokens are JWTs (typ at+jwt, aud = `resource`, default urn:tollgate:broker) unless
token_format="opaque" or a client has "token_format": "opaque". Clients default to the
client_credentials grant with client_secret_basic. HTTPS uses the certificates of
tollgate_fixture.test_certs() (server.crt for localhost/127.0.0.1, trust ca.crt), so tollgate and
the provider share one test CA. Node modules come from scripts/install-deps (npm ci in
tests/support/oidc). Only the Python standard library is used.
"""

import base64
import json
import os
import queue
import shutil
import signal
import ssl
import subprocess
import tempfile
import threading
import urllib.error
import urllib.parse
import urllib.request

from tollgate_fixture import cert, source_dir

READY_TIMEOUT = 90.0  # seconds from exec to "oidc-provider ready" (node start-up on a loaded machine)
STOP_TIMEOUT = 10.0
HTTP_TIMEOUT = 10.0


class OidcProviderError(AssertionError):
    pass


def provider_dir():
    return os.path.join(source_dir(), "tests", "support", "oidc")


class OidcProvider:
    """One oidc-provider process. Use as a context manager or call start()/stop()."""

    def __init__(self, clients, alg="ES256", https=False, token_format="jwt", token_ttl=600,
                 resource="urn:tollgate:broker", issuer=None, workers=1):
        self.clients = clients
        self.alg = alg
        self.https = https
        self.token_format = token_format
        self.token_ttl = token_ttl
        self.resource = resource
        self.issuer = issuer
        self.workers = workers
        self.workdir = tempfile.mkdtemp(prefix="tollgate-oidc-")
        self.log_path = os.path.join(self.workdir, "provider.log")
        self.ca_file = cert("ca.crt") if https else None
        self.port = None
        self.proc = None
        self._log = None
        self._reader = None

    # ---- process ------------------------------------------------------------------------------

    def start(self):
        script = os.path.join(provider_dir(), "provider.mjs")
        if not os.path.isdir(os.path.join(provider_dir(), "node_modules", "oidc-provider")):
            raise OidcProviderError("oidc-provider is not installed: run scripts/install-deps")
        node = shutil.which("node")
        if node is None:
            raise OidcProviderError("node is not installed: run scripts/install-deps")
        clients_path = os.path.join(self.workdir, "clients.json")
        with open(clients_path, "w") as f:
            json.dump(self.clients, f)
        args = [node, script, "--clients", clients_path, "--alg", self.alg, "--token-format", self.token_format,
                "--token-ttl", str(self.token_ttl), "--resource", self.resource, "--port", "0",
                "--workers", str(self.workers)]
        if self.https:
            args += ["--cert", cert("server.crt"), "--key", cert("server.key")]
        if self.issuer:
            args += ["--issuer", self.issuer]
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(args, cwd=provider_dir(), stdout=subprocess.PIPE, stderr=self._log)
        lines = queue.Queue()
        self._reader = threading.Thread(target=self._read_stdout, args=(lines,), daemon=True)
        self._reader.start()
        try:
            line = lines.get(timeout=READY_TIMEOUT)
        except queue.Empty:
            line = None
        if not line or not line.startswith("oidc-provider ready "):
            self.stop(check=False)
            raise OidcProviderError("oidc-provider did not start (%r); log:\n%s" % (line, self.log()))
        fields = dict(kv.split("=", 1) for kv in line.split()[2:])
        self.port = int(fields["port"])
        self.issuer = fields["issuer"]
        return self

    def _read_stdout(self, lines):
        for raw in self.proc.stdout:
            lines.put(raw.decode(errors="replace").strip())
        lines.put(None)

    def stop(self, check=True):
        """SIGTERM, then wait; with check, a non-zero exit raises OidcProviderError."""
        if self.proc is None:
            return
        proc, self.proc = self.proc, None
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        try:
            code = proc.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            code = None
        self._reader.join(timeout=STOP_TIMEOUT)  # ends at EOF of the exited process's stdout
        proc.stdout.close()
        if self._log:
            self._log.close()
        if check and code != 0:
            raise OidcProviderError("oidc-provider exited with %r; log:\n%s" % (code, self.log()))

    def log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode(errors="replace")
        except OSError:
            return ""

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop(check=exc[0] is None)
        shutil.rmtree(self.workdir, ignore_errors=True)

    # ---- endpoints ----------------------------------------------------------------------------

    def url(self, path):
        return self.issuer.rstrip("/") + path

    @property
    def discovery_url(self):
        return self.url("/.well-known/openid-configuration")

    @property
    def jwks_uri(self):
        return self.url("/jwks")

    @property
    def token_endpoint(self):
        return self.url("/token")

    @property
    def introspection_endpoint(self):
        return self.url("/token/introspection")

    @property
    def revocation_endpoint(self):
        return self.url("/token/revocation")

    # ---- calls --------------------------------------------------------------------------------

    def request(self, method, url, form=None, basic=None):
        """(status, parsed JSON body or None, raw body) for one HTTP call to the provider."""
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        req = urllib.request.Request(url, data=data, method=method)
        if basic:
            # RFC 6749 §2.3.1: form-urlencode id and secret before the Basic encoding.
            user, password = (urllib.parse.quote(v, safe="") for v in basic)
            req.add_header("Authorization", "Basic " + base64.b64encode(("%s:%s" % (user, password)).encode()).decode())
        if data is not None:
            req.add_header("Content-Type", "application/x-www-form-urlencoded")
        ctx = ssl.create_default_context(cafile=self.ca_file) if url.startswith("https:") else None
        try:
            with urllib.request.urlopen(req, timeout=HTTP_TIMEOUT, context=ctx) as resp:
                status, body = resp.status, resp.read()
        except urllib.error.HTTPError as e:
            status, body = e.code, e.read()
        try:
            parsed = json.loads(body) if body else None
        except ValueError:
            parsed = None
        return status, parsed, body

    def token(self, client_id, client_secret, scope=None, resource=None):
        """The token endpoint's JSON for a client_credentials request (RFC 6749 §4.4); raises on
        a non-200 answer."""
        form = {"grant_type": "client_credentials"}
        if scope is not None:
            form["scope"] = scope
        if resource is not None:
            form["resource"] = resource
        status, body, raw = self.request("POST", self.token_endpoint, form, (client_id, client_secret))
        if status != 200 or not body or "access_token" not in body:
            raise OidcProviderError("token request failed: %d %r" % (status, raw))
        return body

    def access_token(self, client_id, client_secret, scope=None, resource=None):
        return self.token(client_id, client_secret, scope, resource)["access_token"]

    def introspect(self, token, client_id, client_secret):
        """RFC 7662 answer (dict). oidc-provider introspects opaque tokens only (JWTs: 400)."""
        status, body, raw = self.request("POST", self.introspection_endpoint, {"token": token},
                                         (client_id, client_secret))
        if status != 200:
            raise OidcProviderError("introspection failed: %d %r" % (status, raw))
        return body

    def revoke(self, token, client_id, client_secret):
        """RFC 7009 revocation of an opaque token by the client it was issued to."""
        status, _, raw = self.request("POST", self.revocation_endpoint, {"token": token}, (client_id, client_secret))
        if status != 200:
            raise OidcProviderError("revocation failed: %d %r" % (status, raw))

    def jwks(self):
        status, body, raw = self.request("GET", self.jwks_uri)
        if status != 200:
            raise OidcProviderError("jwks failed: %d %r" % (status, raw))
        return body

    def rotate_keys(self):
        """Adds a new signing key, first in the JWKS (the old ones stay published); returns its kid.
        New tokens are signed with it at once."""
        status, body, raw = self.request("POST", self.url("/test/rotate"), {})
        if status != 200:
            raise OidcProviderError("rotate failed: %d %r" % (status, raw))
        return body["kid"]

    def retire_keys(self):
        """Drops every signing key but the newest from the JWKS; returns the remaining kid."""
        status, body, raw = self.request("POST", self.url("/test/retire"), {})
        if status != 200:
            raise OidcProviderError("retire failed: %d %r" % (status, raw))
        return body["kid"]
