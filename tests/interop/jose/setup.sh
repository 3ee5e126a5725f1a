#!/usr/bin/env bash
# Installs the npm "jose" package pinned in package.json into tests/interop/jose/node_modules
# (for the jose.interop.node ctest). Idempotent; needs network access the first time.
set -euo pipefail
cd "$(dirname "$0")"
stamp=node_modules/.tollgate-stamp
if [ ! -f "$stamp" ] || [ package.json -nt "$stamp" ] || [ package-lock.json -nt "$stamp" ]; then
  if [ -f package-lock.json ]; then
    npm ci --no-audit --no-fund --loglevel=error
  else
    npm install --no-audit --no-fund --loglevel=error
  fi
  touch "$stamp"
fi
