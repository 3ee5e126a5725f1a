#!/usr/bin/env bash
# `tollgate admin` on a fresh data directory: every command, its output and its exit code.
# Usage: admin_cli_test.sh <admin executable>
set -euo pipefail
bin="$1"
dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT
a=("$bin" admin --data-dir "$dir/data")
fail() { echo "FAIL: $*"; echo "0 passed, 1 failed"; exit 1; }

out="$("${a[@]}" client add --id cli-test --grant client_credentials --scope mqtt:pub:x/#)"
grep -q '^client_secret: tg_cs_' <<<"$out" || fail "client add prints the secret once: $out"
secret="$(sed -n 's/^client_secret: //p' <<<"$out")"
"${a[@]}" client list | grep -q '^cli-test' || fail "client list"
"${a[@]}" client show cli-test | grep -q 'grant_types:   client_credentials' || fail "client show"
"${a[@]}" client show nobody >/dev/null 2>&1 && fail "show of an unknown client must fail"
rotated="$("${a[@]}" client rotate-secret cli-test | sed -n 's/^client_secret: //p')"
[ -n "$rotated" ] && [ "$rotated" != "$secret" ] || fail "rotate-secret gives a new secret"
set +e
"${a[@]}" client add --id bad --grant authorization_code >/dev/null 2>&1
rc=$?
set -e
[ "$rc" = 2 ] || fail "authorization_code without redirect URI is a usage error (rc $rc)"
set +e
"${a[@]}" client add --id pk --auth-method private_key_jwt --jwks-file "$dir/missing.json" \
    --grant client_credentials >/dev/null 2>&1
rc=$?
set -e
[ "$rc" = 2 ] || fail "an unreadable --jwks-file is a usage error (rc $rc)"
"${a[@]}" client add --id portal --grant authorization_code --redirect-uri https://app.example/cb \
    --post-logout-redirect-uri https://app.example/bye >/dev/null
"${a[@]}" client show portal | grep -q '^post-logout: *https://app.example/bye$' || fail "post-logout URI shown"
echo 'a long password' | "${a[@]}" user add alice | grep -q 'added user alice' || fail "user add"
echo 'another long one' | "${a[@]}" user passwd alice | grep -q 'password changed' || fail "user passwd"
"${a[@]}" user remove alice | grep -q 'removed user alice' || fail "user remove"
first_kid="$("${a[@]}" key list | cut -f1)"
[ -n "$first_kid" ] || fail "a signing key exists"
"${a[@]}" key rotate --alg EdDSA | grep -q 'new signing key' || fail "key rotate"
"${a[@]}" key list | grep -q "^$first_kid.*retired" || fail "old key retired but still listed"
"${a[@]}" key list | grep -q 'EdDSA.*active' || fail "new EdDSA key active"
"${a[@]}" token revoke no-such-jti >/dev/null 2>&1 && fail "revoking nothing must fail"
"${a[@]}" client remove cli-test | grep -q 'removed cli-test' || fail "client remove"
"${a[@]}" janitor | grep -q 'expired rows' || fail "janitor"
[ "$(stat -c %a "$dir/data/oauth.key")" = 600 ] || fail "key file mode 0600"
echo "1 passed, 0 failed"
