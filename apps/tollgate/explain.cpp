// `tollgate admin explain` (see explain.hpp).
#include "explain.hpp"

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>
#include <iostream>
#include <sstream>

#include <spdlog/spdlog.h>

#include <tollgate/auth/audit.hpp>
#include <tollgate/auth/scope.hpp>
#include <tollgate/auth/token_authenticator.hpp>
#include <tollgate/common/log.hpp>
#include <tollgate/jose/jws.hpp>
#include <tollgate/mqtt/reason_code.hpp>
#include <tollgate/oauth/server.hpp>

#include "auth_wiring.hpp"
#include "config.hpp"

namespace tollgate::app {
namespace {

namespace bj = boost::json;

constexpr int exit_allowed = 0;
constexpr int exit_denied = 1;
constexpr int exit_usage = 2;
constexpr std::size_t max_token_file_bytes = 64 * 1024;  // the MQTT password limit
constexpr auto answer_timeout = std::chrono::seconds{30};

class usage_error : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

/// The token from a file or stdin ("-"), surrounding whitespace removed.
std::string read_token(const std::string& file) {
    std::string text;
    if (file == "-") {
        std::ostringstream s;
        s << std::cin.rdbuf();
        text = s.str();
    } else {
        std::ifstream in(file, std::ios::binary);
        if (!in) {
            throw usage_error("cannot read token file " + file);
        }
        std::ostringstream s;
        s << in.rdbuf();
        text = s.str();
    }
    if (text.size() > max_token_file_bytes) {
        throw usage_error("the token is larger than 64 KiB");
    }
    const auto first = text.find_first_not_of(" \t\r\n");
    if (first == std::string::npos) {
        throw usage_error("no token given (empty input)");
    }
    return text.substr(first, text.find_last_not_of(" \t\r\n") - first + 1);
}

/// The claims of a compact JWS without checking anything (for display only).
std::optional<bj::object> peek_claims(std::string_view token) {
    jose::token_limits limits;
    limits.max_token_bytes = max_token_file_bytes;
    return jose::unverified_claims(token, limits);
}

std::string printable(std::string_view s) {
    std::string out;
    auth::append_json_escaped(out, s);  // no control characters reach the terminal
    return out;
}

std::optional<std::string> string_claim(const bj::object& claims, std::string_view name) {
    if (const auto* v = claims.if_contains(name); v != nullptr && v->is_string()) {
        return std::string(v->as_string());
    }
    return std::nullopt;
}

std::vector<std::string> scopes_of(const bj::object& claims) {
    std::vector<std::string> out;
    const auto* v = claims.if_contains("scope");
    if (v != nullptr && v->is_string()) {
        std::istringstream in{std::string(v->as_string())};
        for (std::string s; in >> s;) {
            out.push_back(s);
        }
    } else if (v != nullptr && v->is_array()) {
        for (const auto& e : v->as_array()) {
            if (e.is_string()) {
                out.emplace_back(e.as_string());
            }
        }
    }
    return out;
}

void print_claims(std::ostream& out, const bj::object& claims, bool verified, std::int64_t now) {
    out << "token claims" << (verified ? "" : " (NOT verified: authentication failed)") << ":\n";
    for (const char* name : {"iss", "sub", "client_id", "jti"}) {
        const auto value = string_claim(claims, name);
        out << "  " << name << std::string(11 - std::strlen(name), ' ')
            << (value ? printable(*value) : std::string("(absent)")) << "\n";
    }
    if (const auto* exp = claims.if_contains("exp"); exp != nullptr && exp->is_int64()) {
        const auto at = exp->as_int64();
        out << "  exp        " << at << " ("
            << auth::rfc3339_utc_ms(common::system_time(std::chrono::seconds(at))) << ", "
            << (at > now ? "in " + std::to_string(at - now) + " s" : std::to_string(now - at) + " s ago")
            << ")\n";
    }
    std::string scopes;
    for (const auto& s : scopes_of(claims)) {
        scopes += (scopes.empty() ? "" : " ") + printable(s);
    }
    out << "  scope      " << (scopes.empty() ? "(none)" : scopes) << "\n";
}

const char* action_label(auth::grant_action a) {
    switch (a) {
        case auth::grant_action::publish:
            return "pub";
        case auth::grant_action::subscribe:
            return "sub";
        case auth::grant_action::both:
            return "all";
    }
    return "all";
}

void print_grants(std::ostream& out, const broker::principal& who, const bj::object& claims,
                  const auth_settings& settings) {
    const auth::session_context* ctx = auth::context_of(who);
    if (ctx == nullptr) {
        out << "grants: (this authenticator keeps no compiled token permissions)\n";
        return;
    }
    out << "grants compiled for this connection:\n";
    for (const auto& g : ctx->permissions.grants()) {
        out << "  " << action_label(g.action) << "  " << printable(g.filter) << "    from "
            << printable(g.source) << "\n";
    }
    if (ctx->permissions.grants().empty()) {
        out << "  (none: every PUBLISH and SUBSCRIBE is denied unless a policy source allows it)\n";
    }
    // The same compilation again, to show what was dropped and why.
    auth::substitution_values values;
    values.client_id = who.client_id;
    values.subject = who.subject;
    values.username = who.username;
    values.claim = [&claims](std::string_view name) { return string_claim(claims, name); };
    auth::scope_limits limits;
    limits.permissions_claim = settings.permissions_claim;
    auth::dropped_list dropped;
    (void)auth::permission_set::compile(ctx->scopes, claims, values, limits, &dropped);
    for (const auto& [what, why] : dropped) {
        out << "  dropped " << printable(what) << ": " << why << "\n";
    }
}

/// Logging for the command: warnings and errors on stderr, except the authenticator's refusal line
/// (level warn), which would repeat what the report says (auth_result::detail names the check).
struct quiet_auth_log {
    quiet_auth_log() {
        common::log_options quiet;
        quiet.level = "warn";
        common::configure_logging(quiet);
        common::logger("auth")->set_level(spdlog::level::err);
    }
};

struct loaded_stack {
    config cfg;
    std::unique_ptr<oauth::authorization_server> builtin;
    std::unique_ptr<auth_stack> stack;
};

loaded_stack load_stack(const explain_options& o, const common::clock& clock) {
    loaded_stack s;
    s.cfg = o.config_file ? load_config_file(*o.config_file)
                          : parse_config(default_config_text(), "<embedded default>");
    if (o.data_dir) {
        s.cfg.server.data_dir = *o.data_dir;
    }
    if (!s.cfg.auth.enabled) {
        throw usage_error(
            "auth.enabled is false: the broker does not authenticate tokens with this configuration");
    }
    if (s.cfg.oauth.enabled && s.cfg.auth.builtin_issuer) {
        if (!std::filesystem::is_directory(s.cfg.server.data_dir)) {
            throw usage_error("no data directory " + s.cfg.server.data_dir +
                              " (the built-in issuer's keys live there; give --data-dir or server.data_dir)");
        }
        oauth::server_config oc = s.cfg.oauth.server;
        oc.data_dir = s.cfg.server.data_dir;
        oc.database_pool_size = 1;
        s.builtin = std::make_unique<oauth::authorization_server>(oc, clock);
    }
    s.stack = build_auth(s.cfg.auth, clock, s.builtin.get());
    if (s.builtin) {
        // Revoked tokens, clients and users are refused here as by the running broker.
        (void)s.stack->remember_revocations(*s.builtin);
    }
    return s;
}

/// Authenticates as a CONNECT would. Returns the result (waits for an asynchronous answer).
broker::auth_result authenticate(broker::authenticator& authn, const explain_options& o,
                                 const std::string& token, const std::string& client_id) {
    broker::auth_request req;
    req.kind = broker::auth_request::step::connect;
    req.version = mqtt::protocol_version::v5;
    req.client_id = client_id;
    req.username = o.username;
    if (o.method) {
        req.method = o.method;
        req.data = common::shared_bytes::copy_of(token);
    } else {
        req.password = common::shared_bytes::copy_of(token);
    }
    broker::connection_info conn;
    conn.listener = "explain";
    conn.transport = "tcp";
    req.connection = &conn;
    auto answer = std::make_shared<std::promise<broker::auth_result>>();
    auto result = answer->get_future();
    authn.authenticate(std::move(req), [answer](broker::auth_result r) { answer->set_value(std::move(r)); });
    if (result.wait_for(answer_timeout) != std::future_status::ready) {
        throw std::runtime_error("the authenticator did not answer within 30 s");
    }
    return result.get();
}

std::optional<broker::verdict> authorize(broker::authorizer& authz, const broker::principal& who,
                                         const explain_options& o) {
    const bool publish = o.publish.has_value();
    auto answer = std::make_shared<std::promise<broker::verdict>>();
    auto later = answer->get_future();
    auto now =
        authz.check(who, publish ? broker::action::publish : broker::action::subscribe,
                    publish ? *o.publish : *o.subscribe, static_cast<std::uint8_t>(o.qos),
                    publish && o.retain, [answer](broker::verdict v) { answer->set_value(std::move(v)); });
    if (now) {
        return now;
    }
    if (later.wait_for(answer_timeout) != std::future_status::ready) {
        throw std::runtime_error("the authorizer did not answer within 30 s");
    }
    return later.get();
}

int explain(const explain_options& o, std::ostream& out) {
    common::real_clock clock;
    const std::string token = read_token(o.token_file);
    auto loaded = load_stack(o, clock);
    const auto claims = peek_claims(token);
    std::string client_id = o.client_id;
    if (client_id.empty()) {
        client_id =
            claims ? string_claim(*claims, "client_id").value_or("tollgate-explain") : "tollgate-explain";
    }
    out << "connection: client id '" << printable(client_id) << "', username "
        << (o.username ? "'" + printable(*o.username) + "'" : std::string("(none)")) << ", token in "
        << (o.method ? "Authentication Data (" + printable(*o.method) + ")" : std::string("the password"))
        << "\n";
    const auto result = authenticate(*loaded.stack->authn, o, token, client_id);
    if (claims) {
        print_claims(out, *claims, result.result == broker::auth_result::outcome::success,
                     clock.unix_seconds());
    } else {
        out << "token: not a JWS compact serialization (cannot show claims)\n";
    }
    if (result.result != broker::auth_result::outcome::success || !result.who) {
        out << "authentication: FAILED, CONNACK 0x" << std::hex << static_cast<int>(result.reason) << std::dec
            << " (" << mqtt::to_string(result.reason) << "), reason string '" << result.reason_string
            << "'\n";
        out << "  failed check: "
            << printable(result.detail.empty() ? std::string("(not named)") : result.detail) << "\n";
        return exit_denied;
    }
    out << "authentication: OK (issuer " << printable(result.who->issuer) << ", subject "
        << printable(result.who->subject) << ")\n";
    print_grants(out, *result.who, claims ? *claims : bj::object{}, loaded.cfg.auth);
    if (!o.publish && !o.subscribe) {
        return exit_allowed;
    }
    broker::authorizer& authz = loaded.stack->authorizer();  // policy sources included, as in serve
    const auto v = authorize(authz, *result.who, o);
    out << "decision: "
        << (o.publish ? "PUBLISH to '" + printable(*o.publish) + "'"
                      : "SUBSCRIBE to '" + printable(*o.subscribe) + "'")
        << " qos " << o.qos << (o.publish && o.retain ? " retain" : "") << ": "
        << (v->allow ? "ALLOWED" : "DENIED") << "\n"
        << "  rule:   " << printable(v->rule) << "\n"
        << "  reason: " << printable(v->reason.empty() ? std::string("granted by the rule above") : v->reason)
        << "\n";
    return v->allow ? exit_allowed : exit_denied;
}

}  // namespace

int run_explain(const explain_options& o, std::ostream& out, std::ostream& err) {
    if (o.publish.has_value() == o.subscribe.has_value() && o.publish.has_value()) {
        err << "tollgate admin explain: give --publish or --subscribe, not both\n";
        return exit_usage;
    }
    if (o.qos < 0 || o.qos > 2) {
        err << "tollgate admin explain: --qos must be 0, 1 or 2\n";
        return exit_usage;
    }
    try {
        quiet_auth_log quiet;
        return explain(o, out);
    } catch (const std::exception& e) {
        err << "tollgate admin explain: " << e.what() << "\n";
        return exit_usage;
    }
}

void register_explain_command(CLI::App& admin) {
    auto o = std::make_shared<explain_options>();
    auto token_arg = std::make_shared<std::string>();
    auto* cmd =
        admin.add_subcommand("explain", "Explain why a token may or may not publish or subscribe to a topic");
    cmd->footer(
        "The token is read from --token-file FILE or from stdin with --token - (never from the\n"
        "command line) and never printed. Exit codes: 0 allowed, 1 denied or authentication failed,\n"
        "2 bad command line or configuration.");
    cmd->add_option("-c,--config", o->config_file, "TOML configuration file (default: the embedded default)");
    auto* file = cmd->add_option("--token-file", o->token_file, "File holding the token ('-': stdin)");
    auto* stdin_token = cmd->add_option("--token", *token_arg, "'-': read the token from stdin");
    file->excludes(stdin_token);
    cmd->add_option("--client-id", o->client_id, "MQTT client identifier (default: the token's client_id)");
    cmd->add_option("--username", o->username, "CONNECT user name");
    cmd->add_option("--method", o->method, "Enhanced authentication method (CUSTOM-JWT or OAUTH2-JWT)");
    auto* pub = cmd->add_option("--publish", o->publish, "Topic name to publish to");
    auto* sub = cmd->add_option("--subscribe", o->subscribe, "Topic filter to subscribe to");
    pub->excludes(sub);
    cmd->add_option("--qos", o->qos, "QoS of the PUBLISH or SUBSCRIBE (default 0)");
    cmd->add_flag("--retain", o->retain, "The PUBLISH has the retain flag");
    cmd->callback([o, token_arg, &admin] {
        if (auto* dir = admin.get_option_no_throw("--data-dir"); dir != nullptr && dir->count() > 0) {
            o->data_dir = dir->as<std::string>();
        }
        if (!token_arg->empty()) {
            if (*token_arg != "-") {
                std::cerr
                    << "tollgate admin explain: --token takes only '-' (stdin); a token on the command line "
                       "is visible to every user of the machine\n";
                std::exit(exit_usage);
            }
            o->token_file = "-";
        }
        if (o->token_file.empty()) {
            std::cerr << "tollgate admin explain: give --token-file FILE or --token -\n";
            std::exit(exit_usage);
        }
        const int rc = run_explain(*o, std::cout, std::cerr);
        std::cout.flush();
        std::exit(rc);
    });
}

}  // namespace tollgate::app
