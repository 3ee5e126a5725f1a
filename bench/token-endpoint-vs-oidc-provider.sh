#!/usr/bin/env bash
# token-endpoint-vs-oidc-provider.sh [--build DIR] [--tollgate PATH] [--connections N] [--duration S]
#                                    [--warmup S] [--workers 1,2]
# Issue 4: client_credentials tokens/s of tollgate's built-in authorization server vs node
# oidc-provider (tests/support/oidc, `scripts/install-deps` installs it) configured equivalently,
# same machine, same load generator (bench/http_load), same concurrency; prints a Markdown table
# with the ratio. Build first: cmake --build --preset release --target tollgate http_load
exec "$(dirname "$0")/../scripts/run-bench-auth" token-endpoint "$@"
