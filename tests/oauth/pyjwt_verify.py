#!/usr/bin/python3
"""PyJWT (Debian python3-jwt) verifies tollgate access tokens against tollgate's JWKS.

Usage: pyjwt_verify.py <oauth_test_server binary>. Starts the server, gets a client_credentials
token over HTTP, fetches /jwks and checks signature, typ, iss, aud, exp with PyJWT.
"""
import json
import os
import signal
import subprocess
import sys
import tempfile
import urllib.parse
import urllib.request

import jwt


def wait_ready(proc):
    # The server prints one line "ready" on stdout once its ready file is written.
    line = proc.stdout.readline()
    if line.strip() != b"ready":
        raise SystemExit(f"server did not become ready (exit code {proc.poll()})")


def main():
    binary = sys.argv[1]
    with tempfile.TemporaryDirectory() as tmp:
        ready_file = os.path.join(tmp, "ready.json")
        proc = subprocess.Popen([binary, os.path.join(tmp, "data"), ready_file], stdout=subprocess.PIPE)
        try:
            wait_ready(proc)
            ready = json.load(open(ready_file))
            issuer = ready["issuer"]
            body = urllib.parse.urlencode({
                "grant_type": "client_credentials",
                "client_id": "svc",
                "client_secret": ready["secrets"]["svc"],
                "scope": "mqtt:sub:sensors/#",
            }).encode()
            req = urllib.request.Request(issuer + "/token", data=body,
                                         headers={"Content-Type": "application/x-www-form-urlencoded"})
            with urllib.request.urlopen(req) as resp:
                assert resp.headers["Cache-Control"] == "no-store"
                token = json.load(resp)["access_token"]
            header = jwt.get_unverified_header(token)
            assert header["typ"] == "at+jwt", header
            jwks = jwt.PyJWKClient(issuer + "/jwks")
            key = jwks.get_signing_key_from_jwt(token)
            claims = jwt.decode(token, key.key, algorithms=["ES256"], audience="urn:tollgate:broker",
                                issuer=issuer, options={"require": ["exp", "iat", "sub", "jti", "iss", "aud"]})
            assert claims["client_id"] == "svc", claims
            assert claims["scope"] == "mqtt:sub:sensors/#", claims
            # A tampered token must fail.
            tampered = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
            try:
                jwt.decode(tampered, key.key, algorithms=["ES256"], audience="urn:tollgate:broker")
                raise SystemExit("tampered token accepted")
            except jwt.InvalidSignatureError:
                pass
            print("1 passed, 0 failed")
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)


if __name__ == "__main__":
    main()
