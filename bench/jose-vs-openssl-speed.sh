#!/usr/bin/env bash
# jose-vs-openssl-speed.sh [JOSE_BENCH]
# Runs `openssl speed` for the raw verify primitives and jose_bench (full JWT verification: parse,
# key lookup, signature, claims) on this machine, and prints tokens/s next to verify/s per
# algorithm. Both figures are CPU-time rates (openssl speed counts user time unless -elapsed;
# Google Benchmark's items_per_second uses CPU time). Build jose_bench in a Release build first.
set -euo pipefail
bench=${1:-build/jose/release/jose_bench}
[ -x "$bench" ] || { echo "jose_bench not found at $bench (pass its path)" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

openssl speed -seconds 3 rsa2048 ecdsap256 ecdsap384 ed25519 >"$tmp/speed.txt" 2>/dev/null
"$bench" --benchmark_min_time=3 --benchmark_format=json >"$tmp/bench.json"

/usr/bin/python3 - "$tmp/speed.txt" "$tmp/bench.json" <<'PY'
import json, re, sys
speed = open(sys.argv[1]).read()
def verify_rate(pattern):
    m = re.search(pattern + r".*?\s([0-9.]+)\s*$", speed, re.M)
    return float(m.group(1)) if m else None
raw = {
    "RS256": verify_rate(r"^rsa 2048 bits"),
    "PS256": verify_rate(r"^rsa 2048 bits"),
    "ES256": verify_rate(r"^ 256 bits ecdsa \(nistp256\)"),
    "ES384": verify_rate(r"^ 384 bits ecdsa \(nistp384\)"),
    "EdDSA": verify_rate(r"^ 253 bits EdDSA \(Ed25519\)"),
}
bench = {b["name"]: b for b in json.load(open(sys.argv[2]))["benchmarks"]}
print("%-7s %16s %22s %8s" % ("alg", "jose tokens/s", "openssl verify/s", "ratio"))
for alg in ["RS256", "PS256", "ES256", "ES384", "EdDSA", "HS256"]:
    b = bench.get("verify_benchmark/" + alg)
    ours = b["items_per_second"] if b else None
    r = raw.get(alg)
    ratio = "%.0f%%" % (100.0 * ours / r) if ours and r else "-"
    print("%-7s %16.0f %22s %8s" % (alg, ours or 0, "%.0f" % r if r else "-", ratio))
for name in ["parse_only", "hs256_signature_only", "verify_benchmark/HS256"]:
    b = bench.get(name)
    if b:
        print("%-24s %8.2f us per token" % (name, b["cpu_time"] / 1000.0 if b["time_unit"] == "ns" else b["cpu_time"]))
PY
