#pragma once
// `tollgate admin explain`: why may (or may not) this token publish or subscribe to this topic?
//
//   tollgate admin [--data-dir DIR] explain [--config FILE] (--token-file FILE | --token -)
//       [--client-id ID] [--username U] [--method CUSTOM-JWT|OAUTH2-JWT]
//       [--publish TOPIC [--qos N] [--retain] | --subscribe FILTER [--qos N]]
//
// Loads the configuration (the file, or the embedded default as `serve` does), builds the same
// authentication and authorization stack as `serve` (build_auth; the built-in issuer's keys read
// from the data directory's database, so it works while serve runs), and then:
//  1. authenticates the token exactly as a CONNECT with that client id and username would (every
//     check; on failure the reason code and the failed check, broker::auth_result::detail),
//  2. prints the token's claims (iss, sub, client_id, jti, exp, scopes; marked unverified when
//     authentication failed), the compiled grants and the dropped scopes or entries with why,
//  3. asks the authorizer about the topic and prints the decision and the rule that decided.
// The token is read from a file or stdin (never from the command line, where `ps` would show it)
// and never printed. Exit codes: 0 allowed (or authenticated, without a topic), 1 denied (or
// authentication failed), 2 bad command line or configuration.
#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>

namespace tollgate::app {

struct explain_options {
    std::optional<std::string> config_file;  ///< none: the embedded default
    std::optional<std::string> data_dir;     ///< overrides server.data_dir
    std::string token_file;                  ///< "-": stdin
    std::string client_id;                   ///< empty: the token's client_id claim
    std::optional<std::string> username;
    std::optional<std::string> method;  ///< enhanced authentication instead of the password
    std::optional<std::string> publish;
    std::optional<std::string> subscribe;
    int qos = 0;  ///< 0..2
    bool retain = false;
};

/// Runs the explanation, writing the report to `out` and problems to `err`. Returns the exit code.
int run_explain(const explain_options& options, std::ostream& out, std::ostream& err);

/// Adds "explain" under the "admin" subcommand (its --data-dir option is honoured). The callback
/// ends the process with run_explain's exit code, like the other admin commands.
void register_explain_command(CLI::App& admin);

}  // namespace tollgate::app
