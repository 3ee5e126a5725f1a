// [auth] parsing and the wiring of libs/auth (see auth_wiring.hpp).
#include "auth_wiring.hpp"

#include <fstream>
#include <sstream>

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

issuer_settings parse_issuer(const toml::table& table, const std::string& path) {
    table_reader r(table, path);
    issuer_settings out;
    r.string("issuer", out.issuer);
    if (out.issuer.empty()) {
        fail(r.path_of("issuer"), "is required");
    }
    key_files(r, table, out.key_files);
    if (out.key_files.empty()) {
        fail(r.path_of("keys"), "is required (PEM public keys, JWK or JWKS files)");
    }
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
    r.boolean("builtin_issuer", out.builtin_issuer);
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

void auth_stack::link_revocations(broker::broker& b, oauth::revocation_hub& hub, const std::string& issuer) {
    revoker = std::make_unique<auth::session_revoker>(b, authn.get());
    auto* target = revoker.get();
    revocations = hub.subscribe([target, issuer](const oauth::revocation_event& e) {
        auth::revocation r;
        r.issuer = issuer;
        r.revoked_at = e.time;
        switch (e.kind) {
            case oauth::revocation_kind::access_token:
                r.what = auth::revocation::kind::access_token;
                r.value = e.jti;
                r.until = e.expires_at;
                break;
            case oauth::revocation_kind::client:
                r.what = auth::revocation::kind::client;
                r.value = e.client_id;
                break;
            case oauth::revocation_kind::subject:
                r.what = auth::revocation::kind::subject;
                r.value = e.subject;
                break;
            case oauth::revocation_kind::refresh_family:
                return;  // its access tokens arrive as access_token events
        }
        target->revoke(r);
    });
}

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
    for (std::size_t i = 0; i < settings.issuers.size(); ++i) {
        const auto& is = settings.issuers[i];
        const std::string where = "auth.issuers[" + std::to_string(i) + "]";
        jose::key_set keys;
        for (std::size_t j = 0; j < is.key_files.size(); ++j) {
            load_key_file(is.key_files[j], where + ".keys[" + std::to_string(j) + "]", keys);
        }
        auth::issuer_config ic;
        ic.issuer = is.issuer;
        ic.keys = std::make_shared<auth::static_key_source>(std::move(keys));
        ic.allowed_algs.clear();
        for (const auto& name : is.algorithms) {
            ic.allowed_algs.push_back(*jose::algorithm_from_name(name));
        }
        ic.audiences = is.audiences;
        ic.require_at_jwt = is.require_typ;
        cfg.issuers.push_back(std::move(ic));
    }
    if (cfg.issuers.empty()) {
        fail("auth",
             "enabled, but no issuer: set builtin_issuer with the authorization server on, or add "
             "[[auth.issuers]]");
    }
    auto stack = std::make_unique<auth_stack>();
    stack->authn = std::make_unique<auth::token_authenticator>(std::move(cfg), clock);
    if (settings.policy) {
        stack->policy = build_policy(*settings.policy, stack->authz, clock);
    }
    return stack;
}

}  // namespace tollgate::app
