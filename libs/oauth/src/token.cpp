// POST /token (RFC 6749 §3.2, §4.1.3, §4.3.2, §4.4.2, §6; RFC 7636 §4.5; RFC 8628 §3.4).
#include <boost/json/object.hpp>

#include <tollgate/common/log.hpp>
#include <tollgate/common/secret.hpp>
#include <tollgate/jose/base64url.hpp>
#include <tollgate/oauth/scope.hpp>
#include <tollgate/oauth/server.hpp>

#include "internal.hpp"

namespace tollgate::oauth {
namespace {

constexpr std::string_view device_grant = "urn:ietf:params:oauth:grant-type:device_code";

oauth_error invalid_request(std::string text) {
    return oauth_error{error_code::invalid_request, std::move(text)};
}
oauth_error invalid_grant(std::string text) {
    return oauth_error{error_code::invalid_grant, std::move(text)};
}

std::string new_family_id() {
    return jose::base64url_encode(common::random_bytes(16));
}

/// A PHC string for a password nobody has: verifying against it costs what a real check costs,
/// so an unknown user name takes as long as a wrong password.
const std::string& dummy_password_hash() {
    static const std::string hash = hash_password(random_token(""));
    return hash;
}

}  // namespace

/// Parses a form body; any error is an invalid_request naming the problem (never the value).
std::variant<form, oauth_error> parse_request_form(const request& req) {
    const auto ct = req.header("content-type").value_or("");
    if (ct.substr(0, ct.find(';')) != "application/x-www-form-urlencoded") {
        return invalid_request("content type must be application/x-www-form-urlencoded");
    }
    auto parsed = parse_form(req.body);
    if (parsed.error == form_error::repeated_parameter) {
        // RFC 6749 §3.1/§3.2: request and response parameters MUST NOT be included more than once.
        return invalid_request("parameter '" + parsed.offending_name + "' is repeated");
    }
    if (parsed.error != form_error::none) {
        return invalid_request(std::string(form_error_text(parsed.error)));
    }
    return std::move(parsed.value);
}

response authorization_server::token(const request& req) {
    auto parsed = parse_request_form(req);
    if (auto* e = std::get_if<oauth_error>(&parsed)) {
        return to_response(*e);
    }
    const auto& params = std::get<form>(parsed);
    const auto grant = params.get("grant_type");
    if (!grant) {
        return to_response(invalid_request("grant_type is required"));
    }
    std::string internal;
    if (*grant == "client_credentials" || *grant == "authorization_code" || *grant == "refresh_token" ||
        *grant == "password") {
        internal = std::string(*grant);
    } else if (*grant == device_grant) {
        internal = "device_code";
    } else {
        return to_response(oauth_error{error_code::unsupported_grant_type, "grant type not supported"});
    }
    const bool public_ok =
        internal == "authorization_code" || internal == "refresh_token" || internal == "device_code";
    auto auth = authenticate_client(req, params, public_ok);
    if (auto* e = std::get_if<oauth_error>(&auth)) {
        return to_response(*e);
    }
    const auto& client = std::get<authenticated_client>(auth);
    if (!client.client.has_grant(internal)) {
        return to_response(
            oauth_error{error_code::unauthorized_client, "grant type not enabled for this client"});
    }
    if (internal == "client_credentials") {
        return grant_client_credentials(client, params);
    }
    if (internal == "authorization_code") {
        return grant_authorization_code(client, params);
    }
    if (internal == "refresh_token") {
        return grant_refresh_token(client, params);
    }
    if (internal == "device_code") {
        return grant_device_code(client, params);
    }
    return grant_password(client, params, req);
}

response authorization_server::grant_client_credentials(const authenticated_client& c, const form& params) {
    if (c.client.is_public()) {
        return to_response(
            oauth_error{error_code::unauthorized_client, "public clients cannot use this grant"});
    }
    bool ok = false;
    auto scope = resolve_scope(c.client, params.get("scope"), ok);
    if (!ok) {
        return to_response(oauth_error{error_code::invalid_scope, "scope not allowed for this client"});
    }
    grant_context g{c.client.client_id,
                    c.client.client_id,
                    scope,
                    audience_for(c.client),
                    "",
                    c.client.certificate_bound ? c.cert_x5t : "",
                    ttl_for(c.client)};
    // RFC 6749 §4.4.3: a refresh token SHOULD NOT be included.
    return token_response(g, "");
}

response authorization_server::grant_authorization_code(const authenticated_client& c, const form& params) {
    const auto code = params.get("code");
    if (!code) {
        return to_response(invalid_request("code is required"));
    }
    auto consumed = db_->consume_code(server_keys_->digest(*code));
    if (!consumed.code) {
        return to_response(invalid_grant("authorization code is invalid"));
    }
    const auto& rec = *consumed.code;
    if (!consumed.first_use) {
        // RFC 6749 §4.1.2 / RFC 9700 §4.5: a second use revokes what the code issued.
        common::logger("oauth")->warn("authorization code reused; revoking grant {} of client {}",
                                      rec.family_id, rec.client_id);
        revoke_family(rec.family_id, rec.client_id, rec.subject);
        return to_response(invalid_grant("authorization code was already used"));
    }
    if (rec.client_id != c.client.client_id) {
        return to_response(invalid_grant("authorization code was issued to another client"));
    }
    if (clock_->unix_seconds() >= rec.expires_at) {
        return to_response(invalid_grant("authorization code expired"));
    }
    const auto redirect_uri = params.get("redirect_uri");
    if (!rec.redirect_uri.empty() ? redirect_uri != std::string_view(rec.redirect_uri)
                                  : redirect_uri.has_value()) {
        return to_response(invalid_grant("redirect_uri does not match the authorization request"));
    }
    const auto verifier = params.get("code_verifier");
    if (!rec.code_challenge.empty()) {
        if (!verifier || !pkce_s256_matches(*verifier, rec.code_challenge)) {
            return to_response(invalid_grant("PKCE verification failed"));  // RFC 7636 §4.6
        }
    } else if (verifier) {
        // RFC 9700 §4.8.2: a verifier without a challenge is a downgrade attempt.
        return to_response(invalid_grant("code_verifier sent but no code_challenge was"));
    }
    grant_context g{c.client.client_id,     rec.subject,   rec.scope,
                    audience_for(c.client), rec.family_id, c.client.certificate_bound ? c.cert_x5t : "",
                    ttl_for(c.client)};
    return issue_with_refresh(g, c.client);
}

response authorization_server::grant_refresh_token(const authenticated_client& c, const form& params) {
    const auto token = params.get("refresh_token");
    if (!token) {
        return to_response(invalid_request("refresh_token is required"));
    }
    auto rec = db_->find_refresh(server_keys_->digest(*token));
    const auto now = clock_->unix_seconds();
    if (!rec || rec->client_id != c.client.client_id) {
        return to_response(invalid_grant("refresh token is invalid"));
    }
    if (rec->state == refresh_state::revoked || now >= rec->expires_at) {
        return to_response(invalid_grant("refresh token is revoked or expired"));
    }
    refresh_record current = *rec;
    if (rec->state == refresh_state::rotated) {
        // Grace: only the token immediately preceding the live one, only shortly after rotation.
        std::optional<refresh_record> successor =
            rec->replaced_by.empty() ? std::nullopt : db_->find_refresh(rec->replaced_by);
        const bool in_grace = config_.refresh_grace.count() > 0 &&
                              now - rec->rotated_at <= config_.refresh_grace.count() && successor &&
                              successor->state == refresh_state::active;
        if (!in_grace) {
            common::logger("oauth")->warn("refresh token reused; revoking family {} of client {}",
                                          rec->family_id, rec->client_id);
            revoke_family(rec->family_id, rec->client_id, rec->subject);
            return to_response(invalid_grant("refresh token was already used"));
        }
        current = *successor;
    }
    std::string scope = current.scope;
    if (auto requested = params.get("scope")) {
        auto parsed = parse_scope(*requested);
        auto granted = parse_scope(current.scope);
        if (!parsed || !granted || !scope_subset(*parsed, *granted)) {
            return to_response(oauth_error{error_code::invalid_scope, "scope exceeds the original grant"});
        }
        scope = join_scope(*parsed);
    }
    grant_context g{c.client.client_id, current.subject, current.scope,    current.audience,
                    current.family_id,  current.cnf_x5t, ttl_for(c.client)};
    std::string new_token;
    auto successor = make_refresh(g, c.client, new_token);
    successor.expires_at = std::min(successor.expires_at, now + c.client.refresh_token_ttl);
    if (!db_->rotate_refresh(current.digest, successor, now)) {
        return to_response(invalid_grant("refresh token was already used"));
    }
    g.scope = scope;  // the access token may be narrower; the family keeps the original grant
    return token_response(g, new_token);
}

response authorization_server::grant_device_code(const authenticated_client& c, const form& params) {
    const auto code = params.get("device_code");
    if (!code) {
        return to_response(invalid_request("device_code is required"));
    }
    auto rec = db_->find_device(server_keys_->digest(*code));
    if (!rec || rec->client_id != c.client.client_id) {
        return to_response(invalid_grant("device code is invalid"));
    }
    const auto now = clock_->unix_seconds();
    if (now >= rec->expires_at) {
        return to_response(oauth_error{error_code::expired_token, "device code expired"});
    }
    switch (rec->status) {
        case device_status::denied:
            return to_response(oauth_error{error_code::access_denied, "the user denied the request"});
        case device_status::used:
            return to_response(invalid_grant("device code was already used"));
        case device_status::pending:
            if (rec->last_poll != 0 && now - rec->last_poll < rec->interval) {
                // RFC 8628 §3.5: slow_down, and the interval grows by 5 seconds.
                db_->update_device_poll(rec->digest, now, rec->interval + 5);
                return to_response(oauth_error{error_code::slow_down, "polling too fast"});
            }
            db_->update_device_poll(rec->digest, now, rec->interval);
            return to_response(oauth_error{error_code::authorization_pending, ""});
        case device_status::approved:
            break;
    }
    if (!db_->claim_device(rec->digest)) {
        return to_response(invalid_grant("device code was already used"));
    }
    grant_context g{c.client.client_id,     rec->subject,    rec->scope,
                    audience_for(c.client), new_family_id(), c.client.certificate_bound ? c.cert_x5t : "",
                    ttl_for(c.client)};
    return issue_with_refresh(g, c.client);
}

response authorization_server::grant_password(const authenticated_client& c, const form& params,
                                              const request& req) {
    if (c.client.is_public()) {
        return to_response(
            oauth_error{error_code::unauthorized_client, "public clients cannot use this grant"});
    }
    const auto username = params.get("username");
    const auto password = params.get("password");
    if (!username || !password) {
        return to_response(invalid_request("username and password are required"));
    }
    const std::string user_key(*username);
    const std::string address_key = req.peer_address;
    if (login_by_user_.locked(user_key) || login_by_address_.locked(address_key)) {
        return to_response(invalid_grant("too many failed attempts; try again later"));
    }
    bool ok = false;
    auto scope = resolve_scope(c.client, params.get("scope"), ok);
    if (!ok) {
        return to_response(oauth_error{error_code::invalid_scope, "scope not allowed for this client"});
    }
    auto user = db_->find_user(user_key);
    const bool valid = verify_password(*password, user ? user->password_hash : dummy_password_hash()) && user;
    if (!valid) {
        login_by_user_.record_failure(user_key);
        login_by_address_.record_failure(address_key);
        common::logger("oauth")->info("password grant failed for client {}", c.client.client_id);
        return to_response(invalid_grant("invalid user name or password"));
    }
    login_by_user_.record_success(user_key);
    common::logger("oauth")->warn("legacy password grant used by client {}", c.client.client_id);
    grant_context g{c.client.client_id,     user->username,  scope,
                    audience_for(c.client), new_family_id(), c.client.certificate_bound ? c.cert_x5t : "",
                    ttl_for(c.client)};
    return issue_with_refresh(g, c.client);
}

}  // namespace tollgate::oauth
