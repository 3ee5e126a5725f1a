// [auth] parsing and the wiring of libs/auth (see auth_wiring.hpp).
#include "auth_wiring.hpp"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>

#include <tollgate/auth/discovery.hpp>
#include <tollgate/common/log.hpp>
#include <tollgate/jose/key.hpp>
#include <tollgate/jose/key_set.hpp>

#include "config_reader.hpp"

namespace tollgate::app {
namespace {

using detail::fail;
using detail::table_reader;

/// An array of non-empty strings at `key` (absent: `out` unchanged).
void string_array(table_reader& r, const toml::table& table, std::string_view key,
                  std::vector<std::string>& out) {
    if (!r.has(key)) {
        return;
    }
    const auto* arr = table.get(key)->as_array();
    if (arr == nullptr) {
        fail(r.path_of(key),
             "must be an array of strings (got " + std::string(detail::describe(*table.get(key))) + ")");
    }
    std::vector<std::string> values;
    for (std::size_t i = 0; i < arr->size(); ++i) {
        const auto* s = (*arr)[i].as_string();
        const std::string where = r.path_of(key) + "[" + std::to_string(i) + "]";
        if (s == nullptr) {
            fail(where, "must be a string (got " + std::string(detail::describe((*arr)[i])) + ")");
        }
        if (s->get().empty()) {
            fail(where, "must not be empty");
        }
        values.push_back(s->get());
    }
    out = std::move(values);
}

/// keys = [ "file", { file = "...", kid = "...", alg = "..." }, ... ]
void key_files(table_reader& r, const toml::table& table, std::vector<key_file_settings>& out) {
    if (!r.has("keys")) {
        return;
    }
    const auto* arr = table.get("keys")->as_array();
    if (arr == nullptr) {
        fail(r.path_of("keys"), "must be an array of file names or {file, kid, alg} tables");
    }
    for (std::size_t i = 0; i < arr->size(); ++i) {
        const std::string where = r.path_of("keys") + "[" + std::to_string(i) + "]";
        key_file_settings k;
        if (const auto* s = (*arr)[i].as_string()) {
            k.file = s->get();
        } else if (const auto* t = (*arr)[i].as_table()) {
            table_reader kr(*t, where);
            kr.string("file", k.file);
            kr.string("kid", k.kid);
            std::string alg;
            kr.string("alg", alg);
            if (!alg.empty()) {
                if (!jose::algorithm_from_name(alg)) {
                    fail(kr.path_of("alg"), "unknown algorithm \"" + alg + "\"");
                }
                k.alg = alg;
            }
            kr.finish();
        } else {
            fail(where, "must be a file name or a {file, kid, alg} table (got " +
                            std::string(detail::describe((*arr)[i])) + ")");
        }
        if (k.file.empty()) {
            fail(where, "needs a file");
        }
        out.push_back(std::move(k));
    }
}

/// True for "http://" URLs whose host is a loopback name or address.
bool http_to_loopback(std::string_view url) {
    constexpr std::string_view scheme = "http://";
    if (url.substr(0, scheme.size()) != scheme) {
        return true;  // not plain http: nothing to restrict here
    }
    std::string_view rest = url.substr(scheme.size());
    rest = rest.substr(0, rest.find_first_of("/?#"));
    std::string_view host = rest;
    if (!host.empty() && host.front() == '[') {
        host = host.substr(0, host.find(']') + 1);
    } else {
        host = host.substr(0, host.find(':'));
    }
    return host == "localhost" || host == "[::1]" || host.substr(0, 4) == "127.";
}

/// Where the issuer's keys come from: exactly one of keys (files), jwks_uri, discovery = true; and
/// the HTTPS settings (ca_file, allow_http, jwks_refresh).
void key_origin(table_reader& r, const toml::table& table, const std::string& path, issuer_settings& out) {
    key_files(r, table, out.key_files);
    r.string("jwks_uri", out.jwks_uri);
    r.boolean("discovery", out.discovery);
    r.string("ca_file", out.ca_file);
    r.boolean("allow_http", out.allow_http);
    const bool refresh_given = r.has("jwks_refresh");
    r.duration("jwks_refresh", out.jwks_refresh, std::chrono::seconds{1}, std::chrono::hours{24});
    const int origins =
        (out.key_files.empty() ? 0 : 1) + (out.jwks_uri.empty() ? 0 : 1) + (out.discovery ? 1 : 0);
    if (origins == 0) {
        fail(r.path_of("keys"),
             "is required unless jwks_uri or discovery = true is given (PEM public keys, JWK or JWKS files)");
    }
    if (origins > 1) {
        fail(path, "give exactly one of keys, jwks_uri, discovery = true");
    }
    if (refresh_given && !out.key_files.empty()) {
        fail(r.path_of("jwks_refresh"), "applies only with jwks_uri or discovery = true");
    }
    if (out.discovery) {
        if (auto e = auth::check_issuer_identifier(out.issuer, out.allow_http); !e.empty()) {
            fail(r.path_of("issuer"), "with discovery = true: " + e);
        }
    }
    if (!out.jwks_uri.empty()) {
        if (auto e = auth::check_endpoint_url(out.jwks_uri, out.allow_http); !e.empty()) {
            fail(r.path_of("jwks_uri"), e);
        }
    }
    if (out.allow_http) {
        if (!http_to_loopback(out.jwks_uri)) {
            fail(r.path_of("jwks_uri"), "plain http:// is allowed for loopback hosts only (tests)");
        }
        if (out.discovery && !http_to_loopback(out.issuer)) {
            fail(r.path_of("issuer"), "plain http:// is allowed for loopback hosts only (tests)");
        }
    }
}

/// RFC 7662 keys of one issuer (docs/auth.md "Introspection"); allow_http and discovery read before.
void introspection_keys(table_reader& r, const std::string& path, issuer_settings& out) {
    r.string("introspection_endpoint", out.introspection_endpoint);
    r.string("introspection_client_id", out.introspection_client_id);
    r.string("introspection_client_secret", out.introspection_client_secret);
    r.string("introspection_client_secret_file", out.introspection_client_secret_file);
    r.boolean("opaque_tokens", out.opaque_tokens);
    r.seconds("recheck_interval", out.recheck_interval, std::chrono::seconds{0}, std::chrono::hours{24});
    r.seconds("recheck_grace", out.recheck_grace, std::chrono::seconds{0}, std::chrono::hours{24});
    const bool secret_given =
        !out.introspection_client_secret.empty() || !out.introspection_client_secret_file.empty();
    if (out.introspection_client_id.empty()) {
        if (!out.introspection_endpoint.empty() || secret_given || out.opaque_tokens) {
            fail(r.path_of("introspection_client_id"), "is required for introspection (and opaque_tokens)");
        }
        return;
    }
    if (!out.introspection_client_secret.empty() && !out.introspection_client_secret_file.empty()) {
        fail(path, "give introspection_client_secret or introspection_client_secret_file, not both");
    }
    if (!secret_given) {
        fail(r.path_of("introspection_client_secret"), "or introspection_client_secret_file is required");
    }
    if (out.introspection_endpoint.empty()) {
        if (!out.discovery) {
            fail(r.path_of("introspection_endpoint"), "is required unless discovery = true");
        }
        return;
    }
    if (auto e = auth::check_endpoint_url(out.introspection_endpoint, out.allow_http); !e.empty()) {
        fail(r.path_of("introspection_endpoint"), e);
    }
    if (out.allow_http && !http_to_loopback(out.introspection_endpoint)) {
        fail(r.path_of("introspection_endpoint"), "plain http:// is allowed for loopback hosts only (tests)");
    }
}

/// The limits of the issuer's HTTP exchanges (fetch_timeout, max_document_bytes) and of the
/// unknown-kid refetch (max_unknown_kid_waiters, remote keys only).
void fetch_limits(table_reader& r, issuer_settings& out) {
    r.duration("fetch_timeout", out.fetch_timeout, std::chrono::milliseconds{100}, std::chrono::minutes{2});
    r.integer("max_document_bytes", out.max_document_bytes, 1024, 16 * 1024 * 1024);
    const bool waiters_given = r.has("max_unknown_kid_waiters");
    r.integer("max_unknown_kid_waiters", out.max_unknown_kid_waiters, 0, 1'000'000);
    if (waiters_given && !out.key_files.empty()) {
        fail(r.path_of("max_unknown_kid_waiters"), "applies only with jwks_uri or discovery = true");
    }
}

issuer_settings parse_issuer(const toml::table& table, const std::string& path) {
    table_reader r(table, path);
    issuer_settings out;
    r.string("issuer", out.issuer);
    if (out.issuer.empty()) {
        fail(r.path_of("issuer"), "is required");
    }
    key_origin(r, table, path, out);
    fetch_limits(r, out);
    string_array(r, table, "algorithms", out.algorithms);
    for (std::size_t i = 0; i < out.algorithms.size(); ++i) {
        if (!jose::algorithm_from_name(out.algorithms[i])) {
            fail(r.path_of("algorithms") + "[" + std::to_string(i) + "]",
                 "unknown algorithm \"" + out.algorithms[i] + "\" (\"none\" is never accepted)");
        }
    }
    if (out.algorithms.empty()) {
        fail(r.path_of("algorithms"), "must name at least one algorithm");
    }
    string_array(r, table, "audiences", out.audiences);
    r.boolean("require_typ", out.require_typ);
    r.seconds("max_token_lifetime", out.max_token_lifetime, std::chrono::seconds{0},
              std::chrono::hours{24 * 366});
    r.string("scope_claim", out.scope_claim);
    if (out.scope_claim.size() > 256 ||
        std::any_of(out.scope_claim.begin(), out.scope_claim.end(),
                    [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; })) {
        fail(r.path_of("scope_claim"), "must be a claim name or dotted path (at most 256 printable bytes)");
    }
    introspection_keys(r, path, out);
    r.finish();
    return out;
}

constexpr std::pair<std::string_view, auth::client_id_binding> binding_names[] = {
    {"none", auth::client_id_binding::none},
    {"client_id", auth::client_id_binding::client_id_claim},
    {"sub", auth::client_id_binding::subject},
    {"claim", auth::client_id_binding::claim},
};

std::string read_file(const std::string& file, const std::string& where) {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
        fail(where, "cannot read key file " + file);
    }
    std::ostringstream s;
    s << in.rdbuf();
    if (s.str().size() > 1024 * 1024) {
        fail(where, "key file " + file + " is larger than 1 MiB");
    }
    return s.str();
}

/// Keys of one file: a JWKS ({"keys":[...]}), one JWK, or PEM public keys / certificates.
void load_key_file(const key_file_settings& spec, const std::string& where, jose::key_set& into) {
    const std::string& file = spec.file;
    const std::string text = read_file(file, where);
    if (text.find("-----BEGIN") != std::string::npos) {
        const bool cert = text.find("-----BEGIN CERTIFICATE") != std::string::npos;
        jose::key_options options;
        options.kid = spec.kid;
        if (spec.alg) {
            options.alg = jose::algorithm_from_name(*spec.alg);
        }
        auto k =
            cert ? jose::key::from_certificate(
                       std::span(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()), options)
                 : jose::key::from_pem(text, options);
        if (!k) {
            fail(where, file + ": " + k.error().message());
        }
        if (k->is_private()) {
            fail(where, file + ": holds a private key; give the public key only");
        }
        into.add(std::move(*k));
        return;
    }
    if (text.find("\"keys\"") != std::string::npos) {
        auto set = jose::key_set::from_json(text);
        if (!set) {
            fail(where, file + ": " + set.error().message());
        }
        for (const auto& k : set->keys()) {
            into.add(k);
        }
        return;
    }
    auto k = jose::key::from_jwk(text);
    if (!k) {
        fail(where, file + ": " + k.error().message());
    }
    into.add(std::move(*k));
}

}  // namespace

auth_settings parse_auth_settings(const toml::table& table, const std::string& path) {
    table_reader r(table, path);
    auth_settings out;
    r.boolean("enabled", out.enabled);
    r.string("audience", out.audience);
    if (r.has("required_username")) {
        std::string marker;
        r.string("required_username", marker);
        out.required_username = std::move(marker);
    }
    r.choice<auth::client_id_binding>("client_id_binding", out.binding, binding_names);
    r.string("client_id_claim", out.binding_claim);
    if (out.binding == auth::client_id_binding::claim && out.binding_claim.empty()) {
        fail(r.path_of("client_id_claim"), "is required with client_id_binding = \"claim\"");
    }
    r.integer("cache_size", out.cache_size, 0, 10'000'000);
    r.seconds("leeway", out.leeway, std::chrono::seconds{0}, std::chrono::seconds{300});
    r.integer("max_token_bytes", out.max_token_bytes, 256, 65535);
    r.integer("verify_threads", out.verify_threads, 0, 64);
    r.boolean("builtin_issuer", out.builtin_issuer);
    r.duration("startup_key_wait", out.startup_key_wait, std::chrono::milliseconds{0},
               std::chrono::minutes{5});
    r.string("permissions_claim", out.permissions_claim, false);
    if (const auto* audit = r.table("audit")) {
        out.audit = parse_audit_settings(*audit, r.path_of("audit"));
    }
    if (const auto* issuers = r.table_array("issuers")) {
        for (std::size_t i = 0; i < issuers->size(); ++i) {
            const std::string where = r.path_of("issuers") + "[" + std::to_string(i) + "]";
            const auto* t = (*issuers)[i].as_table();
            if (t == nullptr) {
                fail(where, "must be a table");
            }
            out.issuers.push_back(parse_issuer(*t, where));
        }
    }
    if (const auto* policy = r.table("policy")) {
        if (!out.enabled) {
            fail(r.path_of("policy"), "needs token authentication on ([auth] enabled = true)");
        }
        out.policy = parse_policy_settings(*policy, r.path_of("policy"));
    }
    r.finish();
    return out;
}

std::optional<auth::revocation> to_auth_revocation(const oauth::revocation_event& e,
                                                   const std::string& issuer) {
    auth::revocation r;
    r.issuer = issuer;
    r.revoked_at = e.time;
    switch (e.kind) {
        case oauth::revocation_kind::access_token:
            r.what = auth::revocation::kind::access_token;
            r.value = e.jti;
            r.until = e.expires_at;
            return r;
        case oauth::revocation_kind::client:
            r.what = auth::revocation::kind::client;
            r.value = e.client_id;
            return r;
        case oauth::revocation_kind::subject:
            r.what = auth::revocation::kind::subject;
            r.value = e.subject;
            return r;
        case oauth::revocation_kind::refresh_family:
            break;  // its access tokens arrive as access_token events
    }
    return std::nullopt;
}

void auth_stack::link_revocations(broker::broker& b, oauth::revocation_hub& hub, const std::string& issuer) {
    revoker = std::make_unique<auth::session_revoker>(b, authn.get());
    auto* target = revoker.get();
    revocations = hub.subscribe([target, issuer](const oauth::revocation_event& e) {
        if (auto r = to_auth_revocation(e, issuer)) {
            target->revoke(*r);
        }
    });
}

std::size_t auth_stack::remember_revocations(oauth::authorization_server& server) {
    auto* target = authn.get();
    const std::string issuer = server.config().issuer;
    auto sub = server.revocations().subscribe([target, &issuer](const oauth::revocation_event& e) {
        if (auto r = to_auth_revocation(e, issuer)) {
            target->revoke(*r);
        }
    });
    return server.replay_revocations();
}

bool auth_stack::reload() {
    if (!policy) {
        return true;
    }
    auto log = common::logger("auth");
    bool ok = true;
    for (const auto& file : policy->file_sources()) {
        const auto r = file->reload();
        if (!r.ok) {
            ok = false;
            log->error("reload: policy file {} not reloaded, its {} old rule(s) stay: {}", file->path(),
                       r.rules_before, r.error);
        } else if (r.changed) {
            log->info("reload: policy file {} reloaded: {} rule(s), {} before", file->path(), r.rules_after,
                      r.rules_before);
        } else {
            log->info("reload: policy file {} unchanged ({} rule(s))", file->path(), r.rules_after);
        }
    }
    policy->authorizer().invalidate();  // each session's next check loads the rules now in force
    return ok;
}

auth::http_fetch make_issuer_http(const issuer_settings& issuer, const std::string& where) {
    auth::http_fetch_options o;
    o.ca_file = issuer.ca_file;
    o.allow_http = issuer.allow_http;
    o.timeout = issuer.fetch_timeout;
    o.max_body_bytes = issuer.max_document_bytes;  // JWKS, metadata and introspection answers alike
    try {
        return auth::make_http_fetch(o);
    } catch (const std::exception& e) {
        fail(where + ".ca_file", e.what());
    }
}

namespace {

auth_stack::remote_issuer make_remote_issuer(const issuer_settings& is, const std::string& where) {
    auth_stack::remote_issuer out;
    out.issuer = is.issuer;
    out.http = make_issuer_http(is, where);
    auth::remote_key_options o;
    o.issuer = is.issuer;
    o.discovery = is.discovery;
    o.jwks_uri = is.jwks_uri;
    o.allow_http = is.allow_http;
    o.refresh_interval = is.jwks_refresh;
    o.max_jwks_bytes = is.max_document_bytes;
    o.max_metadata_bytes = is.max_document_bytes;
    o.max_refresh_waiters = is.max_unknown_kid_waiters;
    try {
        out.keys = std::make_shared<auth::remote_key_source>(std::move(o), out.http);
    } catch (const std::invalid_argument& e) {
        fail(where, e.what());
    }
    return out;
}

/// Waits (bounded) for the first fetch cycle of every remote issuer, so the broker does not start
/// refusing every token of an issuer whose keys are a few milliseconds away.
void wait_for_first_keys(const std::vector<auth_stack::remote_issuer>& remote,
                         std::chrono::milliseconds wait) {
    const auto deadline = std::chrono::steady_clock::now() + wait;
    auto log = common::logger("auth");
    for (const auto& r : remote) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        r.keys->wait_for([](const auth::remote_key_status& st) { return st.successes > 0 || st.cycles > 0; },
                         std::max(left, std::chrono::milliseconds{0}));
        const auto st = r.keys->status();
        if (st.keys == 0) {
            log->error(
                "issuer {}: no keys at startup ({}); its tokens are refused until a fetch succeeds "
                "(retrying in the background)",
                r.issuer, st.last_error.empty() ? "no answer yet" : st.last_error);
        } else {
            log->info("issuer {}: {} key(s) from {}", r.issuer, st.keys, st.jwks_uri);
        }
    }
}

/// The introspection client secret: inline, or the file's content without trailing blanks.
std::string introspection_secret(const issuer_settings& is, const std::string& where) {
    if (is.introspection_client_secret_file.empty()) {
        return is.introspection_client_secret;
    }
    std::ifstream in(is.introspection_client_secret_file, std::ios::binary);
    std::string secret;
    if (!in || !std::getline(in, secret, '\0') || secret.size() > 4096) {
        fail(where + ".introspection_client_secret_file",
             "cannot read " + is.introspection_client_secret_file + " (or larger than 4 KiB)");
    }
    while (!secret.empty() && std::isspace(static_cast<unsigned char>(secret.back())) != 0) {
        secret.pop_back();
    }
    if (secret.empty()) {
        fail(where + ".introspection_client_secret_file", is.introspection_client_secret_file + " is empty");
    }
    return secret;
}

/// RFC 7662 for one issuer: the client (over the remote issuer's HTTP client, else a new one with
/// its ca_file / allow_http; the endpoint configured or from discovery), opaque tokens, re-checks.
void add_introspection(const issuer_settings& is, const std::string& where,
                       const auth_stack::remote_issuer* remote, auth::issuer_config& ic) {
    if (is.introspection_client_id.empty()) {
        return;
    }
    auth::introspection_client_config c;
    c.endpoint = is.introspection_endpoint;
    if (c.endpoint.empty() && remote != nullptr) {
        c.discovered_endpoint = [keys = remote->keys] {
            auto m = keys->metadata();
            return m ? m->introspection_endpoint : std::string();
        };
    }
    c.client_id = is.introspection_client_id;
    c.client_secret = introspection_secret(is, where);
    c.limits.max_body_bytes = is.max_document_bytes;
    auto http = remote != nullptr ? remote->http : make_issuer_http(is, where);
    ic.introspection = std::make_shared<const auth::introspection_client>(std::move(c), std::move(http));
    ic.opaque_tokens = is.opaque_tokens;
    ic.recheck.interval = is.recheck_interval;
    ic.recheck.grace = is.recheck_grace;
}

/// At most one issuer may accept opaque tokens (they name no issuer); does any re-check sessions?
bool check_introspection(const auth_settings& settings) {
    int opaque = 0;
    bool rechecks = false;
    for (std::size_t i = 0; i < settings.issuers.size(); ++i) {
        const auto& is = settings.issuers[i];
        if (is.opaque_tokens && ++opaque > 1) {
            fail("auth.issuers[" + std::to_string(i) + "].opaque_tokens",
                 "only one issuer may accept opaque tokens");
        }
        rechecks = rechecks || (!is.introspection_client_id.empty() && is.recheck_interval.count() > 0);
    }
    return rechecks;
}

/// The authorizer chain (policy sources, the re-check monitor), the verify threads, then the
/// authenticator behind its gate: its cold checks offloaded to the verify threads, and an inactive
/// introspection verdict it learns during a CONNECT ending the token's other sessions through the
/// monitor at once.
void assemble(auth_stack& stack, const auth_settings& settings, auth::token_auth_config cfg, bool rechecks,
              const common::clock& clock) {
    if (settings.policy) {
        stack.policy = build_policy(*settings.policy, stack.authz, clock);
    }
    if (rechecks) {
        stack.monitor = std::make_unique<auth::introspection_monitor>(stack.authorizer(), clock);
        cfg.on_inactive = stack.monitor->inactive_handler();
    }
    if (settings.verify_threads > 0) {
        stack.verify = std::make_unique<auth::verify_pool>(settings.verify_threads);
        cfg.offload = stack.verify->executor();
        common::logger("auth")->info("cold token signature checks on {} verify thread(s)",
                                     settings.verify_threads);
    } else {
        common::logger("auth")->info(
            "cold token signature checks inline on the broker workers (verify_threads = 0)");
    }
    stack.authn = std::make_unique<auth::token_authenticator>(std::move(cfg), clock);
    stack.gate = std::make_unique<auth::authentication_gate>(*stack.authn);
}

}  // namespace

std::unique_ptr<auth_stack> build_auth(const auth_settings& settings, const common::clock& clock,
                                       oauth::authorization_server* builtin) {
    auth::token_auth_config cfg;
    cfg.audience = settings.audience;
    cfg.required_username = settings.required_username;
    cfg.binding = settings.binding;
    cfg.binding_claim = settings.binding_claim;
    cfg.cache_size = settings.cache_size;
    cfg.leeway = settings.leeway;
    cfg.max_token_bytes = settings.max_token_bytes;
    cfg.scopes.permissions_claim = settings.permissions_claim;
    if (settings.builtin_issuer && builtin != nullptr) {
        auth::issuer_config ic;
        ic.issuer = builtin->config().issuer;
        auto* keys = &builtin->keys();
        ic.keys = std::make_shared<auth::function_key_source>([keys] { return keys->public_keys(); },
                                                              [keys] { keys->invalidate(); });
        ic.allowed_algs = {jose::algorithm::rs256, jose::algorithm::ps256, jose::algorithm::es256,
                           jose::algorithm::eddsa};
        ic.audiences = {settings.audience};
        cfg.issuers.push_back(std::move(ic));
    }
    std::vector<auth_stack::remote_issuer> remote;
    for (std::size_t i = 0; i < settings.issuers.size(); ++i) {
        const auto& is = settings.issuers[i];
        const std::string where = "auth.issuers[" + std::to_string(i) + "]";
        auth::issuer_config ic;
        ic.issuer = is.issuer;
        if (is.key_files.empty()) {
            remote.push_back(make_remote_issuer(is, where));
            ic.keys = remote.back().keys;
        } else {
            jose::key_set keys;
            for (std::size_t j = 0; j < is.key_files.size(); ++j) {
                load_key_file(is.key_files[j], where + ".keys[" + std::to_string(j) + "]", keys);
            }
            ic.keys = std::make_shared<auth::static_key_source>(std::move(keys));
        }
        ic.allowed_algs.clear();
        for (const auto& name : is.algorithms) {
            ic.allowed_algs.push_back(*jose::algorithm_from_name(name));
        }
        ic.audiences = is.audiences;
        ic.require_at_jwt = is.require_typ;
        ic.scope_claim = is.scope_claim;
        ic.max_token_lifetime = is.max_token_lifetime;
        add_introspection(is, where, is.key_files.empty() ? &remote.back() : nullptr, ic);
        cfg.issuers.push_back(std::move(ic));
    }
    if (cfg.issuers.empty()) {
        fail("auth",
             "enabled, but no issuer: set builtin_issuer with the authorization server on, or add "
             "[[auth.issuers]]");
    }
    const bool rechecks = check_introspection(settings);
    wait_for_first_keys(remote, settings.startup_key_wait);
    auto stack = std::make_unique<auth_stack>();
    stack->remote_issuers = std::move(remote);
    assemble(*stack, settings, std::move(cfg), rechecks, clock);
    return stack;
}

}  // namespace tollgate::app
