#!/usr/bin/python3
"""Cross-implementation test of libs/jose against PyJWT (python3-jwt) and jwcrypto
(python3-jwcrypto), for every algorithm we implement, in both directions:

  ours -> theirs: jose_tool keygen + sign; PyJWT and jwcrypto verify with the public JWK.
  theirs -> ours: jwcrypto makes the key; PyJWT and jwcrypto sign; jose_tool verify with a JWKS.

Usage: interop_python.py JOSE_TOOL WORKDIR. Exit status 0 only if every case passes.
"""
import json
import os
import subprocess
import sys
import time

import jwt  # PyJWT
from jwcrypto import jwk as cjwk
from jwcrypto import jwt as cjwt

ALGS = ["HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512",
        "ES256", "ES384", "ES512", "EdDSA"]
ISS = "https://as.example"
AUD = "broker"


def claims():
    now = int(time.time())
    return {"iss": ISS, "aud": AUD, "sub": "device-1", "iat": now, "exp": now + 300,
            "scope": "mqtt:pub:a/b mqtt:sub:c/#", "jti": "j-%d" % now}


def tool(*args, stdin=""):
    return subprocess.run([TOOL, *args], input=stdin, capture_output=True, text=True, check=False)


def jwcrypto_key(alg, kid):
    if alg.startswith("HS"):
        size = {"HS256": 256, "HS384": 384, "HS512": 512}[alg]
        key = cjwk.JWK.generate(kty="oct", size=size * 2, kid=kid)
    elif alg[:2] in ("RS", "PS"):
        key = cjwk.JWK.generate(kty="RSA", size=2048, kid=kid)
    elif alg == "EdDSA":
        key = cjwk.JWK.generate(kty="OKP", crv="Ed25519", kid=kid)
    else:
        key = cjwk.JWK.generate(kty="EC", crv={"ES256": "P-256", "ES384": "P-384", "ES512": "P-521"}[alg], kid=kid)
    return key


def pyjwt_key(key, private):
    """The key in the form PyJWT takes: raw bytes for HMAC, PEM otherwise."""
    if key["kty"] == "oct":
        return jwt.utils.base64url_decode(key["k"])
    return key.export_to_pem(private_key=private, password=None)


def write(path, text):
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return path


def ours_to_theirs(alg, failures):
    priv = tool("keygen", alg, "ours-" + alg)
    if priv.returncode != 0:
        failures.append("%s keygen: %s" % (alg, priv.stderr))
        return
    priv_path = write(os.path.join(WORK, "ours-%s.jwk" % alg), priv.stdout)
    expected = claims()
    signed = tool("sign", priv_path, alg, "at+jwt", stdin=json.dumps(expected))
    if signed.returncode != 0:
        failures.append("%s sign: %s" % (alg, signed.stderr))
        return
    token = signed.stdout.strip()
    if alg.startswith("HS"):
        public = cjwk.JWK.from_json(priv.stdout)
    else:
        public = cjwk.JWK.from_json(tool("public", priv_path).stdout)
    # jwcrypto
    try:
        t = cjwt.JWT(jwt=token, key=public, algs=[alg])
        got = json.loads(t.claims)
        if got != expected:
            failures.append("%s ours->jwcrypto: claims differ" % alg)
        if json.loads(t.header).get("kid") != "ours-" + alg:
            failures.append("%s ours->jwcrypto: kid missing" % alg)
    except Exception as e:  # noqa: BLE001 - any failure is a test failure
        failures.append("%s ours->jwcrypto: %r" % (alg, e))
    # PyJWT
    try:
        got = jwt.decode(token, pyjwt_key(public, private=False), algorithms=[alg], audience=AUD, issuer=ISS)
        if got != expected:
            failures.append("%s ours->PyJWT: claims differ" % alg)
        if jwt.get_unverified_header(token).get("typ") != "at+jwt":
            failures.append("%s ours->PyJWT: typ missing" % alg)
    except Exception as e:  # noqa: BLE001
        failures.append("%s ours->PyJWT: %r" % (alg, e))


def theirs_to_ours(alg, failures):
    for who in ("jwcrypto", "PyJWT"):
        kid = "%s-%s" % (who, alg)
        key = jwcrypto_key(alg, kid)
        expected = claims()
        if who == "jwcrypto":
            t = cjwt.JWT(header={"alg": alg, "kid": kid, "typ": "at+jwt"}, claims=expected)
            t.make_signed_token(key)
            token = t.serialize()
        else:
            token = jwt.encode(expected, pyjwt_key(key, private=True), algorithm=alg,
                               headers={"kid": kid, "typ": "at+jwt"})
        if key["kty"] == "oct":
            published = json.loads(key.export(private_key=True))
        else:
            published = json.loads(key.export_public())
        jwks_path = write(os.path.join(WORK, "%s.jwks" % kid), json.dumps({"keys": [published]}))
        result = tool("verify", jwks_path, alg, ISS, AUD, "at+jwt", stdin=token)
        if result.returncode != 0:
            failures.append("%s %s->ours: %s" % (alg, who, result.stderr.strip()))
            continue
        if json.loads(result.stdout) != expected:
            failures.append("%s %s->ours: claims differ" % (alg, who))
        # A tampered token from them is refused by us.
        head, body, sig = token.split(".")
        forged = head + "." + jwt.utils.base64url_encode(
            json.dumps(dict(expected, sub="root")).encode()).decode() + "." + sig
        if tool("verify", jwks_path, alg, ISS, AUD, "at+jwt", stdin=forged).returncode != 1:
            failures.append("%s %s->ours: tampered token accepted" % (alg, who))


def main():
    failures = []
    for alg in ALGS:
        ours_to_theirs(alg, failures)
        theirs_to_ours(alg, failures)
    for f in failures:
        print("FAIL", f)
    print("python interop: %d algorithms, %d failures" % (len(ALGS), len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    TOOL, WORK = sys.argv[1], sys.argv[2]
    os.makedirs(WORK, exist_ok=True)
    sys.exit(main())
