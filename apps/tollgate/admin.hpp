#pragma once
// `tollgate admin ...`: administration of the authorization server on the data directory
// (works while `tollgate serve` runs: both open the same database).
//
//   tollgate admin [--data-dir DIR] [--database URL] [--issuer URL] <command>
//     client add [--id ID] [--name N] [--auth-method M] [--grant G]... [--scope S]...
//                [--redirect-uri U]... [--no-pkce] [--ttl SECONDS] [--audience A]
//                [--jwks-file F] [--tls-subject-dn DN] [--certificate-bound]
//     client list | show ID | remove ID | rotate-secret ID
//     user add NAME | passwd NAME | remove NAME     (password read from stdin, not echoed on a tty)
//     key list | rotate [--alg ES256|EdDSA|RS256]
//     token revoke TOKEN_OR_JTI
//     janitor
// Each command runs inside its CLI11 callback and ends the process with its exit code
// (0 success, 1 failure such as "no such client", 2 bad arguments), so main() needs no other change.
#include <CLI/CLI.hpp>

namespace tollgate::app {

/// Adds the "admin" subcommand tree to root.
void register_admin_commands(CLI::App& root);

}  // namespace tollgate::app
