// authorization_server: construction, routing, metadata, JWKS and token issuance.
#include <algorithm>
#include <stdexcept>
#include <sys/stat.h>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <tollgate/common/log.hpp>
#include <tollgate/common/secret.hpp>
#include <tollgate/jose/base64url.hpp>
#include <tollgate/jose/jws.hpp>
#include <tollgate/oauth/scope.hpp>
#include <tollgate/oauth/server.hpp>

namespace tollgate::oauth {

std::string server_config::effective_database_url() const {
    return database_url.empty() ? "sqlite:" + data_dir + "/oauth.db" : database_url;
}

std::string server_config::effective_key_file() const {
    return key_file.empty() ? data_dir + "/oauth.key" : key_file;
}

namespace {

std::unique_ptr<server_keys> open_server_keys(const server_config& config) {
    if (!config.data_dir.empty()) {
        ::mkdir(config.data_dir.c_str(), 0700);
    }
    const auto master = load_or_create_key_file(config.effective_key_file());
    return std::make_unique<server_keys>(master);
}

rate_limiter::policy limiter_policy(int max_failures, std::chrono::seconds lockout) {
    rate_limiter::policy p;
    p.max_failures = max_failures;
    p.window = lockout;
    p.lockout = lockout;
    return p;
}

void check_issuer(const std::string& issuer) {
    const bool https = issuer.rfind("https://", 0) == 0;
    const bool http = issuer.rfind("http://", 0) == 0;
    if ((!https && !http) || issuer.find_first_of("?#") != std::string::npos || issuer.back() == '/') {
        throw std::invalid_argument(
            "oauth issuer must be an http(s) URL without query, fragment or trailing '/'");
    }
}

}  // namespace

authorization_server::authorization_server(server_config config, const common::clock& clock)
    : config_(std::move(config))
    , clock_(&clock)
    , server_keys_(open_server_keys(config_))
    , db_(std::make_unique<storage>(config_.effective_database_url(),
                                    std::max<std::size_t>(1, config_.database_pool_size)))
    , signing_(std::make_unique<key_manager>(*db_, *server_keys_, clock, config_.signing_alg,
                                             config_.max_access_token_ttl))
    , login_by_user_(limiter_policy(config_.login_max_failures, config_.login_lockout), clock)
    , login_by_address_(limiter_policy(config_.login_address_max_failures, config_.login_lockout), clock)
    , user_code_by_address_(limiter_policy(config_.user_code_max_failures, config_.user_code_lockout),
                            clock) {
    check_issuer(config_.issuer);
    signing_->refresh_period = config_.signing_key_refresh;
    (void)signing_->active();  // makes the first key on an empty database
    origin_ = common::to_hex(common::random_bytes(16));
    journal_seen_ = db_->latest_revocation_seq();
}

void authorization_server::publish_revocation(const revocation_event& e) {
    hub_.publish(e);
    try {
        db_->append_revocation(e, origin_);
    } catch (const std::exception& ex) {
        // The database already holds the revocation itself; only other processes miss the event.
        common::logger("oauth")->error("revocation journal: cannot record a {} revocation: {}",
                                       to_string(e.kind), ex.what());
    }
}

std::size_t authorization_server::follow_revocation_journal() {
    constexpr std::size_t batch = 512;
    std::lock_guard lock(journal_mutex_);
    std::size_t published = 0;
    for (;;) {
        const auto rows = db_->revocations_after(journal_seen_, batch);
        for (const auto& row : rows) {
            journal_seen_ = row.seq;
            if (row.origin != origin_) {
                hub_.publish(row.event);
                ++published;
            }
        }
        if (rows.size() < batch) {
            return published;
        }
    }
}

std::size_t authorization_server::replay_revocations() {
    constexpr std::size_t batch = 512;
    std::int64_t after = 0;
    std::size_t published = 0;
    const std::int64_t now = clock_->unix_seconds();
    for (;;) {
        const auto rows = db_->revocations_after(after, batch);
        for (const auto& row : rows) {
            after = row.seq;
            const auto& e = row.event;
            if (e.kind == revocation_kind::access_token && e.expires_at != 0 && e.expires_at <= now) {
                continue;  // the token expired anyway
            }
            hub_.publish(e);
            ++published;
        }
        if (rows.size() < batch) {
            return published;
        }
    }
}

authorization_server::~authorization_server() = default;

response authorization_server::handle(const request& req) {
    try {
        return dispatch(req);
    } catch (const std::exception& e) {
        common::logger("oauth")->error("{} {} failed: {}", req.method, req.path(), e.what());
    } catch (...) {
        common::logger("oauth")->error("{} {} failed", req.method, req.path());
    }
    return to_response(oauth_error{error_code::server_error, ""});
}

response authorization_server::dispatch(const request& req) {
    const auto path = req.path();
    const bool get = req.method == "GET" || req.method == "HEAD";
    const bool post = req.method == "POST";
    auto method_not_allowed = [](std::string_view allow) {
        response r = json_response(
            405, R"({"error":"invalid_request","error_description":"method not allowed"})", true);
        r.set_header("allow", std::string(allow));
        return r;
    };
    if (path == "/.well-known/oauth-authorization-server" || path == "/.well-known/openid-configuration") {
        return get ? metadata() : method_not_allowed("GET");
    }
    if (path == "/jwks") {
        return get ? jwks() : method_not_allowed("GET");
    }
    if (path == "/token") {
        return post ? token(req) : method_not_allowed("POST");
    }
    if (path == "/revoke") {
        return post ? revoke(req) : method_not_allowed("POST");
    }
    if (path == "/introspect") {
        return post ? introspect(req) : method_not_allowed("POST");
    }
    if (path == "/authorize") {
        return (get || post) ? authorize(req) : method_not_allowed("GET, POST");
    }
    if (path == "/login") {
        return post ? login(req) : method_not_allowed("POST");
    }
    if (path == "/consent") {
        if (get) {
            return consent_page(req);
        }
        return post ? consent_decision(req) : method_not_allowed("GET, POST");
    }
    if (path == "/logout") {
        return (get || post) ? logout(req) : method_not_allowed("GET, POST");
    }
    if (path == "/device_authorization") {
        return post ? device_authorization(req) : method_not_allowed("POST");
    }
    if (path == "/device") {
        return (get || post) ? device_page(req) : method_not_allowed("GET, POST");
    }
    if (path == "/device/decision") {
        return post ? device_decision(req) : method_not_allowed("POST");
    }
    return json_response(404, R"({"error":"not_found"})", false);
}

response authorization_server::metadata() {
    const auto& iss = config_.issuer;
    boost::json::object m;
    m["issuer"] = iss;
    m["token_endpoint"] = iss + "/token";
    m["jwks_uri"] = iss + "/jwks";
    m["revocation_endpoint"] = iss + "/revoke";
    m["introspection_endpoint"] = iss + "/introspect";
    m["device_authorization_endpoint"] = iss + "/device_authorization";
    m["authorization_endpoint"] = iss + "/authorize";
    m["end_session_endpoint"] = iss + "/logout";  // OpenID RP-Initiated Logout 1.0 §2.1
    auto grants = db_->enabled_grant_types();
    // Grants and response types are listed only when some client has them (RFC 9700 §2.4).
    boost::json::array grant_array;
    boost::json::array response_types;
    for (const auto& g : grants) {
        if (g == "implicit") {
            continue;
        }
        grant_array.emplace_back(g == "device_code" ? "urn:ietf:params:oauth:grant-type:device_code" : g);
    }
    if (std::find(grants.begin(), grants.end(), "authorization_code") != grants.end()) {
        response_types.emplace_back("code");
    }
    if (std::find(grants.begin(), grants.end(), "implicit") != grants.end()) {
        response_types.emplace_back("token");
        grant_array.emplace_back("implicit");
    }
    m["grant_types_supported"] = std::move(grant_array);
    m["response_types_supported"] = std::move(response_types);
    m["response_modes_supported"] = boost::json::array{"query", "fragment"};
    m["code_challenge_methods_supported"] = boost::json::array{"S256"};
    const boost::json::array auth_methods{"client_secret_basic", "client_secret_post", "private_key_jwt",
                                          "tls_client_auth", "none"};
    m["token_endpoint_auth_methods_supported"] = auth_methods;
    m["token_endpoint_auth_signing_alg_values_supported"] =
        boost::json::array{"ES256", "EdDSA", "RS256", "PS256"};
    m["revocation_endpoint_auth_methods_supported"] = auth_methods;
    m["introspection_endpoint_auth_methods_supported"] = auth_methods;
    m["tls_client_certificate_bound_access_tokens"] = true;
    m["authorization_response_iss_parameter_supported"] = true;
    auto r = json_response(200, boost::json::serialize(m), false);
    r.set_header("cache-control", "max-age=60");
    r.set_header("access-control-allow-origin", "*");
    return r;
}

response authorization_server::jwks() {
    response r;
    r.body = signing_->jwks_json();
    r.set_header("content-type", "application/jwk-set+json");
    r.set_header("cache-control", "max-age=60");
    r.set_header("access-control-allow-origin", "*");
    return r;
}

std::pair<std::string, std::string> authorization_server::issue_access_token(const grant_context& g) {
    const auto now = clock_->unix_seconds();
    auto jti = jose::base64url_encode(common::random_bytes(16));
    boost::json::object claims;
    claims["iss"] = config_.issuer;
    claims["sub"] = g.subject.empty() ? g.client_id : g.subject;
    claims["aud"] = g.audience;
    claims["exp"] = now + g.ttl;
    claims["iat"] = now;
    claims["jti"] = jti;
    claims["client_id"] = g.client_id;
    if (!g.scope.empty()) {
        claims["scope"] = g.scope;
    }
    if (!g.cnf_x5t.empty()) {
        claims["cnf"] = boost::json::object{{"x5t#S256", g.cnf_x5t}};
    }
    auto signer = signing_->active();
    jose::sign_options opts;
    opts.typ = "at+jwt";  // RFC 9068 §2.1
    auto token = jose::sign(signer.key, signer.alg, claims, opts);
    if (!token) {
        throw std::runtime_error("signing an access token failed: " + token.error().message());
    }
    db_->insert_access_token(access_token_record{jti, g.client_id,
                                                 g.subject.empty() ? g.client_id : g.subject, g.family_id,
                                                 g.scope, g.audience, now, now + g.ttl, false});
    return {std::move(token.value()), std::move(jti)};
}

refresh_record authorization_server::make_refresh(const grant_context& g, const client_record& c,
                                                  std::string& token) {
    token = random_token("tg_rt_");
    const auto now = clock_->unix_seconds();
    refresh_record r;
    r.digest = server_keys_->digest(token);
    r.family_id = g.family_id;
    r.client_id = g.client_id;
    r.subject = g.subject;
    r.scope = g.scope;
    r.audience = g.audience;
    r.cnf_x5t = g.cnf_x5t;
    r.issued_at = now;
    r.expires_at = now + c.refresh_token_ttl;
    return r;
}

response authorization_server::issue_with_refresh(const grant_context& g, const client_record& c) {
    std::string refresh;
    if (c.has_grant("refresh_token") && !g.family_id.empty()) {
        db_->insert_refresh(make_refresh(g, c, refresh));
    }
    return token_response(g, refresh);
}

response authorization_server::token_response(const grant_context& g, const std::string& refresh_token) {
    auto [access, jti] = issue_access_token(g);
    boost::json::object body;
    body["access_token"] = access;
    body["token_type"] = "Bearer";
    body["expires_in"] = g.ttl;
    if (!g.scope.empty()) {
        body["scope"] = g.scope;
    }
    if (!refresh_token.empty()) {
        body["refresh_token"] = refresh_token;
    }
    common::logger("oauth")->info("issued access token jti={} client={} sub={}", jti, g.client_id, g.subject);
    return json_response(200, boost::json::serialize(body), true);
}

std::string authorization_server::audience_for(const client_record& c) const {
    return c.audience.empty() ? config_.default_audience : c.audience;
}

std::int64_t authorization_server::ttl_for(const client_record& c) const {
    const auto ttl = c.access_token_ttl > 0 ? c.access_token_ttl : config_.default_access_token_ttl.count();
    return std::min<std::int64_t>(ttl, config_.max_access_token_ttl.count());
}

std::string authorization_server::resolve_scope(const client_record& c,
                                                std::optional<std::string_view> requested, bool& ok) {
    ok = true;
    if (!requested) {
        return join_scope(c.scopes);  // RFC 6749 §3.3: a documented default
    }
    auto parsed = parse_scope(*requested);
    if (!parsed || !scope_subset(*parsed, c.scopes)) {
        ok = false;
        return {};
    }
    return join_scope(*parsed);
}

void authorization_server::revoke_family(const std::string& family_id, const std::string& client_id,
                                         const std::string& subject) {
    const auto now = clock_->unix_seconds();
    db_->revoke_refresh_family(family_id);
    for (const auto& jti : db_->revoke_family_access_tokens(family_id, now)) {
        publish_revocation(
            revocation_event{revocation_kind::access_token, jti, family_id, client_id, subject, now, 0});
    }
    publish_revocation(
        revocation_event{revocation_kind::refresh_family, "", family_id, client_id, subject, now, 0});
}

}  // namespace tollgate::oauth
