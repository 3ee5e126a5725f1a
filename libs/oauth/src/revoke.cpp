// POST /revoke (RFC 7009), POST /introspect (RFC 7662) and the administrative operations.
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <tollgate/common/log.hpp>
#include <tollgate/common/secret.hpp>
#include <tollgate/jose/jwt.hpp>
#include <tollgate/oauth/redirect_uri.hpp>
#include <tollgate/oauth/scope.hpp>
#include <tollgate/oauth/server.hpp>

#include "internal.hpp"

namespace tollgate::oauth {
namespace {

constexpr std::string_view refresh_prefix = "tg_rt_";

bool looks_like_refresh(std::string_view token) {
    return token.rfind(refresh_prefix, 0) == 0;
}

response inactive() {
    return json_response(200, R"({"active":false})", true);
}

}  // namespace

namespace {

/// The verified claims of an access token we issued (signature, iss, typ; expiry with no leeway).
std::optional<jose::verified_token> verify_own_token(key_manager& keys, const server_config& config,
                                                     const common::clock& clock, std::string_view token) {
    jose::validation_policy policy;
    policy.allowed_algs = {jose::algorithm::es256, jose::algorithm::eddsa, jose::algorithm::rs256};
    policy.issuers = {config.issuer};
    policy.expected_typ = "at+jwt";
    policy.required_claims = {"jti", "client_id", "sub"};
    policy.leeway = std::chrono::seconds{0};
    jose::verifier verifier(keys.public_keys(), policy, clock);
    auto verified = verifier.verify(token);
    if (!verified) {
        return std::nullopt;
    }
    return std::move(verified.value());
}

}  // namespace

response authorization_server::revoke(const request& req) {
    auto parsed = parse_request_form(req);
    if (auto* e = std::get_if<oauth_error>(&parsed)) {
        return to_response(*e);
    }
    const auto& params = std::get<form>(parsed);
    auto auth = authenticate_client(req, params, true);
    if (auto* e = std::get_if<oauth_error>(&auth)) {
        return to_response(*e);
    }
    const auto& client = std::get<authenticated_client>(auth).client;
    const auto token = params.get("token");
    if (!token) {
        return to_response(oauth_error{error_code::invalid_request, "token is required"});
    }
    const auto now = clock_->unix_seconds();
    // RFC 7009 §2.2: unknown, invalid or foreign tokens still get 200 (nothing to revoke).
    if (looks_like_refresh(*token)) {
        auto rec = db_->find_refresh(server_keys_->digest(*token));
        if (rec && rec->client_id == client.client_id) {
            // RFC 7009 §2.1: revoking a refresh token revokes the access tokens of the same grant.
            revoke_family(rec->family_id, rec->client_id, rec->subject);
        }
    } else if (auto claims = verify_own_token(*signing_, config_, *clock_, *token)) {
        if (claims->client_id() == client.client_id) {
            const auto jti = claims->jti().value_or("");
            if (db_->revoke_access_token(jti)) {
                publish_revocation(revocation_event{revocation_kind::access_token, jti, "", client.client_id,
                                                    claims->sub().value_or(""), now,
                                                    claims->exp().value_or(0)});
            }
        }
    }
    response r;
    r.status = 200;
    r.set_header("cache-control", "no-store");
    return r;
}

response authorization_server::introspect(const request& req) {
    auto parsed = parse_request_form(req);
    if (auto* e = std::get_if<oauth_error>(&parsed)) {
        return to_response(*e);
    }
    const auto& params = std::get<form>(parsed);
    // RFC 7662 §2.1 / §4: the caller must authenticate (no public clients), against token scanning.
    auto auth = authenticate_client(req, params, false);
    if (auto* e = std::get_if<oauth_error>(&auth)) {
        return to_response(*e);
    }
    const auto& caller = std::get<authenticated_client>(auth).client;
    const auto token = params.get("token");
    if (!token) {
        return to_response(oauth_error{error_code::invalid_request, "token is required"});
    }
    const auto now = clock_->unix_seconds();
    boost::json::object out;
    if (looks_like_refresh(*token)) {
        auto rec = db_->find_refresh(server_keys_->digest(*token));
        if (!rec || rec->state != refresh_state::active || now >= rec->expires_at ||
            rec->client_id != caller.client_id) {
            return inactive();
        }
        out["active"] = true;
        out["token_type"] = "refresh_token";
        out["client_id"] = rec->client_id;
        out["sub"] = rec->subject;
        out["scope"] = rec->scope;
        out["exp"] = rec->expires_at;
        out["iat"] = rec->issued_at;
        out["iss"] = config_.issuer;
        return json_response(200, boost::json::serialize(out), true);
    }
    auto claims = verify_own_token(*signing_, config_, *clock_, *token);
    if (!claims) {
        return inactive();
    }
    auto rec = db_->find_access_token(claims->jti().value_or(""));
    if (!rec || rec->revoked) {
        return inactive();
    }
    out = claims->claims();
    out["active"] = true;
    out["token_type"] = "Bearer";
    return json_response(200, boost::json::serialize(out), true);
}

created_client authorization_server::create_client(const client_options& o) {
    static const std::vector<std::string> methods{"client_secret_basic", "client_secret_post",
                                                  "private_key_jwt", "tls_client_auth", "none"};
    static const std::vector<std::string> grants{"authorization_code", "client_credentials", "refresh_token",
                                                 "device_code",        "password",           "implicit"};
    if (std::find(methods.begin(), methods.end(), o.auth_method) == methods.end()) {
        throw std::invalid_argument("unknown token endpoint auth method: " + o.auth_method);
    }
    for (const auto& g : o.grant_types) {
        if (std::find(grants.begin(), grants.end(), g) == grants.end()) {
            throw std::invalid_argument("unknown grant type: " + g);
        }
    }
    for (const auto* list : {&o.redirect_uris, &o.post_logout_redirect_uris}) {
        for (const auto& uri : *list) {
            if (auto why = check_redirect_uri_registration(uri); !why.empty()) {
                throw std::invalid_argument(why + ": " + uri);
            }
        }
    }
    for (const auto& s : o.scopes) {
        if (!parse_scope(s) || s.empty() || s.find(' ') != std::string::npos) {
            throw std::invalid_argument("invalid scope: " + s);
        }
    }
    client_record c;
    const bool redirect_grant =
        std::find(o.grant_types.begin(), o.grant_types.end(), "authorization_code") != o.grant_types.end() ||
        std::find(o.grant_types.begin(), o.grant_types.end(), "implicit") != o.grant_types.end();
    if (redirect_grant && o.redirect_uris.empty()) {
        throw std::invalid_argument("authorization_code and implicit need at least one redirect URI");
    }
    if (o.auth_method == "none" &&
        (std::find(o.grant_types.begin(), o.grant_types.end(), "client_credentials") != o.grant_types.end() ||
         std::find(o.grant_types.begin(), o.grant_types.end(), "password") != o.grant_types.end())) {
        throw std::invalid_argument("public clients cannot use client_credentials or password");
    }
    if (o.auth_method == "private_key_jwt") {
        auto set = jose::key_set::from_json(o.jwks);
        if (!set || set->empty()) {
            throw std::invalid_argument(
                "private_key_jwt needs a JWKS (--jwks-file) with at least one usable public key");
        }
    }
    if (o.auth_method == "tls_client_auth" && o.tls_subject_dn.empty()) {
        throw std::invalid_argument("tls_client_auth needs the certificate subject DN");
    }
    c.client_id = o.client_id.empty() ? random_token("tg_c_").substr(0, 26) : o.client_id;
    if (c.client_id.size() > 256 || c.client_id.find_first_of(" :\n\r\t") != std::string::npos) {
        throw std::invalid_argument("client_id must be at most 256 characters without spaces or ':'");
    }
    c.name = o.name.empty() ? c.client_id : o.name;
    c.auth_method = o.auth_method;
    c.redirect_uris = o.redirect_uris;
    c.grant_types = o.grant_types;
    c.scopes = o.scopes;
    c.require_pkce = o.auth_method == "none" ? true : o.require_pkce;  // public clients: always
    c.access_token_ttl = o.access_token_ttl;
    c.refresh_token_ttl = o.refresh_token_ttl;
    c.audience = o.audience;
    c.jwks = o.jwks;
    c.tls_subject_dn = o.tls_subject_dn;
    c.post_logout_redirect_uris = o.post_logout_redirect_uris;
    c.certificate_bound = o.certificate_bound || o.auth_method == "tls_client_auth";
    c.created_at = clock_->unix_seconds();
    created_client out;
    if (o.auth_method == "client_secret_basic" || o.auth_method == "client_secret_post") {
        out.secret = random_token("tg_cs_");  // 256 bits, generated, never chosen by a person
        c.secret_digest = server_keys_->digest(out.secret);
    }
    db_->insert_client(c);
    out.record = std::move(c);
    return out;
}

std::optional<std::string> authorization_server::rotate_client_secret(const std::string& client_id) {
    auto c = db_->find_client(client_id);
    if (!c || c->secret_digest.empty()) {
        return std::nullopt;
    }
    auto secret = random_token("tg_cs_");
    db_->update_client_secret(client_id, server_keys_->digest(secret));
    return secret;
}

bool authorization_server::remove_client(const std::string& client_id) {
    const auto now = clock_->unix_seconds();
    if (!db_->delete_client(client_id)) {
        return false;
    }
    db_->revoke_client_refresh_tokens(client_id);
    db_->delete_consents_of_client(client_id);
    for (const auto& jti : db_->revoke_client_access_tokens(client_id, now)) {
        publish_revocation(revocation_event{revocation_kind::access_token, jti, "", client_id, "", now, 0});
    }
    publish_revocation(revocation_event{revocation_kind::client, "", "", client_id, "", now, 0});
    return true;
}

void authorization_server::add_user(const std::string& username, const std::string& password) {
    if (username.empty() || username.size() > 128 || !is_valid_utf8(username)) {
        throw std::invalid_argument("user name must be 1-128 characters of UTF-8");
    }
    if (password.size() < 8) {
        throw std::invalid_argument("password must have at least 8 characters");
    }
    db_->insert_user(user_record{username, hash_password(password), clock_->unix_seconds()});
}

bool authorization_server::set_user_password(const std::string& username, const std::string& password) {
    if (password.size() < 8) {
        throw std::invalid_argument("password must have at least 8 characters");
    }
    if (!db_->update_user_password(username, hash_password(password))) {
        return false;
    }
    end_user_grants(username);
    return true;
}

bool authorization_server::remove_user(const std::string& username) {
    if (!db_->delete_user(username)) {
        return false;
    }
    db_->delete_consents_of_subject(username);
    end_user_grants(username);
    return true;
}

void authorization_server::end_user_grants(const std::string& username) {
    const auto now = clock_->unix_seconds();
    db_->delete_sessions_of_subject(username);
    db_->revoke_subject_refresh_tokens(username);
    for (const auto& jti : db_->revoke_subject_access_tokens(username, now)) {
        publish_revocation(revocation_event{revocation_kind::access_token, jti, "", "", username, now, 0});
    }
    publish_revocation(revocation_event{revocation_kind::subject, "", "", "", username, now, 0});
}

bool authorization_server::revoke_token(const std::string& token_or_jti) {
    const auto now = clock_->unix_seconds();
    if (looks_like_refresh(token_or_jti)) {
        auto rec = db_->find_refresh(server_keys_->digest(token_or_jti));
        if (!rec) {
            return false;
        }
        revoke_family(rec->family_id, rec->client_id, rec->subject);
        return true;
    }
    std::string jti = token_or_jti;
    if (std::count(token_or_jti.begin(), token_or_jti.end(), '.') == 2) {
        auto claims = verify_own_token(*signing_, config_, *clock_, token_or_jti);
        if (!claims) {
            return false;
        }
        jti = claims->jti().value_or("");
    }
    auto rec = db_->find_access_token(jti);
    if (!rec || !db_->revoke_access_token(jti)) {
        return false;
    }
    publish_revocation(revocation_event{revocation_kind::access_token, jti, rec->family_id, rec->client_id,
                                        rec->subject, now, rec->expires_at});
    return true;
}

std::optional<created_client> authorization_server::bootstrap_admin_client() {
    if (!db_->list_clients().empty()) {
        return std::nullopt;
    }
    client_options o;
    o.client_id = "admin";
    o.name = "tollgate administrator";
    o.grant_types = {"client_credentials"};
    o.scopes = {"admin"};
    return create_client(o);
}

janitor_report authorization_server::run_janitor() {
    auto report = db_->purge_expired(clock_->unix_seconds());
    if (report.keys > 0) {
        signing_->invalidate();
    }
    return report;
}

}  // namespace tollgate::oauth
