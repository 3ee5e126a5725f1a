// GET /authorize (RFC 6749 §4.1.1, §4.2.1; RFC 7636 §4.3), the login page and the consent page.
// Errors about the client or the redirect URI are shown as a page and never redirected
// (RFC 6749 §4.1.2.1, RFC 9700 §4.11: no open redirector); the others go back to the client's
// registered redirect URI with state and iss (RFC 9207).
#include <tollgate/common/log.hpp>
#include <tollgate/oauth/pages.hpp>
#include <tollgate/oauth/redirect_uri.hpp>
#include <tollgate/oauth/scope.hpp>
#include <tollgate/oauth/server.hpp>

#include "internal.hpp"

namespace tollgate::oauth {

std::string cookie_header(std::string_view name, std::string_view value, bool secure, long max_age) {
    std::string out(name);
    out += "=";
    out += value;
    out += "; Path=/; HttpOnly; SameSite=Lax; Max-Age=" + std::to_string(max_age);
    if (secure) {
        out += "; Secure";
    }
    return out;
}

std::string ensure_csrf_cookie(const request& req, response& out) {
    auto existing = req.cookie(csrf_cookie_name);
    if (existing && existing->size() >= 40 && existing->size() <= 64 && is_valid_utf8(*existing)) {
        return *existing;
    }
    auto fresh = random_token("");
    out.headers.emplace_back("set-cookie", cookie_header(csrf_cookie_name, fresh, req.secure, 24 * 3600));
    return fresh;
}

std::variant<form, oauth_error> page_params(const request& req) {
    if (req.method == "POST") {
        return parse_request_form(req);
    }
    auto parsed = parse_form(req.query());
    if (parsed.error == form_error::repeated_parameter) {
        return oauth_error{error_code::invalid_request,
                           "parameter '" + parsed.offending_name + "' is repeated"};
    }
    if (parsed.error != form_error::none) {
        return oauth_error{error_code::invalid_request, std::string(form_error_text(parsed.error))};
    }
    return std::move(parsed.value);
}

response see_other(const std::string& location) {
    response r;
    r.status = 303;
    r.set_header("location", location);
    r.set_header("cache-control", "no-store");
    r.set_header("referrer-policy", "no-referrer");
    return r;
}

std::string with_params(const std::string& uri, char separator_kind,
                        const std::vector<std::pair<std::string, std::string>>& params) {
    std::string out = uri;
    if (separator_kind == '#') {
        out += '#';
    } else {
        out += uri.find('?') == std::string::npos ? '?' : '&';
    }
    return out + build_query(params);
}

std::optional<std::string> authorization_server::session_subject(const request& req) {
    auto sid = req.cookie(session_cookie_name);
    if (!sid || sid->size() > 128) {
        return std::nullopt;
    }
    auto s = db_->find_session(server_keys_->digest(*sid));
    if (!s || clock_->unix_seconds() >= s->expires_at) {
        return std::nullopt;
    }
    return s->subject;
}

response authorization_server::authorize(const request& req) {
    auto parsed = page_params(req);
    if (auto* e = std::get_if<oauth_error>(&parsed)) {
        return message_page(400, "Invalid request", e->description);
    }
    const auto& p = std::get<form>(parsed);
    const auto client_id = p.get("client_id");
    auto client =
        client_id && client_id->size() <= 256 ? db_->find_client(std::string(*client_id)) : std::nullopt;
    if (!client) {
        return message_page(400, "Unknown application",
                            "The application that sent you here is not registered.");
    }
    std::string redirect_uri;
    const auto sent_uri = p.get("redirect_uri");
    if (sent_uri) {
        if (!redirect_uri_matches(*sent_uri, client->redirect_uris)) {
            // RFC 9700 §4.1.3: exact matching; never redirect to an unregistered URI.
            return message_page(400, "Invalid redirect",
                                "The redirect URI is not registered for this application.");
        }
        redirect_uri = std::string(*sent_uri);
    } else if (client->redirect_uris.size() == 1) {
        redirect_uri = client->redirect_uris.front();
    } else {
        return message_page(400, "Invalid request", "redirect_uri is required for this application.");
    }
    const auto response_type = p.value_or_empty("response_type");
    const std::string state = p.value_or_empty("state");
    const char sep = response_type == "token" ? '#' : '?';
    auto fail = [&](error_code code, std::string text) {
        std::vector<std::pair<std::string, std::string>> q{{"error", std::string(error_code_name(code))},
                                                           {"error_description", std::move(text)}};
        if (!state.empty()) {
            q.emplace_back("state", state);
        }
        q.emplace_back("iss", config_.issuer);
        return see_other(with_params(redirect_uri, sep, q));
    };
    if (response_type != "code" && response_type != "token") {
        return fail(error_code::unsupported_response_type, "response_type must be code");
    }
    if ((response_type == "code" && !client->has_grant("authorization_code")) ||
        (response_type == "token" && !client->has_grant("implicit"))) {
        return fail(error_code::unauthorized_client, "response type not enabled for this client");
    }
    bool scope_ok = false;
    auto scope = resolve_scope(*client, p.get("scope"), scope_ok);
    if (!scope_ok) {
        return fail(error_code::invalid_scope, "scope not allowed for this client");
    }
    std::string challenge;
    if (response_type == "code") {
        const auto method = p.get("code_challenge_method");
        const auto ch = p.get("code_challenge");
        if (method && *method != "S256") {
            return fail(error_code::invalid_request, "code_challenge_method must be S256");
        }
        if (ch && !is_valid_code_challenge(*ch)) {
            return fail(error_code::invalid_request, "code_challenge is malformed");
        }
        if (ch && !method) {
            return fail(error_code::invalid_request,
                        "code_challenge_method S256 is required");  // plain refused
        }
        if (!ch && (client->require_pkce || client->is_public())) {
            return fail(error_code::invalid_request, "code_challenge (PKCE S256) is required");
        }
        challenge = ch ? std::string(*ch) : std::string();
    }
    const auto id = random_token("tg_ar_");
    db_->insert_pending(pending_request{server_keys_->digest(id), client->client_id, redirect_uri,
                                        sent_uri.has_value(), response_type, scope, state, challenge,
                                        clock_->unix_seconds() + config_.pending_ttl.count()});
    if (session_subject(req)) {
        return see_other(config_.issuer + "/consent?request=" + url_encode(id));
    }
    response page;
    const auto cookie = ensure_csrf_cookie(req, page);
    const std::string next = "consent:" + id;
    auto r = login_page(client->name, "/login",
                        {{"next", next}, {"csrf", server_keys_->csrf_token(cookie, "login|" + next)}}, "");
    for (auto& h : page.headers) {
        r.headers.push_back(std::move(h));
    }
    return r;
}

response authorization_server::login(const request& req) {
    auto parsed = parse_request_form(req);
    if (auto* e = std::get_if<oauth_error>(&parsed)) {
        return message_page(400, "Invalid request", e->description);
    }
    const auto& p = std::get<form>(parsed);
    const auto next = p.value_or_empty("next");
    const auto cookie = req.cookie(csrf_cookie_name).value_or("");
    if (!server_keys_->csrf_ok(p.value_or_empty("csrf"), cookie, "login|" + next)) {
        // Login CSRF (RFC 6749 §10.12): the form must come from our page in this browser.
        return message_page(403, "Request refused",
                            "This form has expired or was not sent from this site. Start again.");
    }
    std::string location;
    std::string client_name;
    if (next.rfind("consent:", 0) == 0) {
        auto pending = db_->find_pending(server_keys_->digest(next.substr(8)));
        if (!pending || clock_->unix_seconds() >= pending->expires_at) {
            return message_page(400, "Request expired",
                                "The sign-in request has expired. Go back to the application.");
        }
        auto c = db_->find_client(pending->client_id);
        client_name = c ? c->name : pending->client_id;
        location = config_.issuer + "/consent?request=" + url_encode(next.substr(8));
    } else if (next.rfind("device:", 0) == 0) {
        location = config_.issuer + "/device";
        if (next.size() > 7) {
            location += "?user_code=" + url_encode(next.substr(7));
        }
    } else {
        return message_page(400, "Invalid request", "Unknown sign-in target.");
    }
    const auto username = p.value_or_empty("username");
    const auto password = p.value_or_empty("password");
    const hidden_fields hidden{{"next", next}, {"csrf", p.value_or_empty("csrf")}};
    if (login_by_user_.locked(username) || login_by_address_.locked(req.peer_address)) {
        return login_page(client_name, "/login", hidden, "Too many failed attempts. Try again later.");
    }
    auto user = username.empty() ? std::nullopt : db_->find_user(username);
    if (!user || !verify_password(password, user->password_hash)) {
        login_by_user_.record_failure(username);
        login_by_address_.record_failure(req.peer_address);
        return login_page(client_name, "/login", hidden, "Wrong user name or password.");
    }
    login_by_user_.record_success(username);
    const auto sid = random_token("tg_s_");
    db_->insert_session(session_record{server_keys_->digest(sid), user->username,
                                       clock_->unix_seconds() + config_.session_ttl.count()});
    auto r = see_other(location);
    r.headers.emplace_back("set-cookie",
                           cookie_header(session_cookie_name, sid, req.secure, config_.session_ttl.count()));
    return r;
}

response authorization_server::consent_page(const request& req) {
    auto parsed = page_params(req);
    if (auto* e = std::get_if<oauth_error>(&parsed)) {
        return message_page(400, "Invalid request", e->description);
    }
    const auto id = std::get<form>(parsed).value_or_empty("request");
    auto pending = id.empty() ? std::nullopt : db_->find_pending(server_keys_->digest(id));
    if (!pending || clock_->unix_seconds() >= pending->expires_at) {
        return message_page(400, "Request expired",
                            "The authorization request has expired. Go back to the application.");
    }
    auto client = db_->find_client(pending->client_id);
    response extra;
    const auto cookie = ensure_csrf_cookie(req, extra);
    auto subject = session_subject(req);
    response r;
    if (!subject) {
        const std::string next = "consent:" + id;
        r = login_page(client ? client->name : pending->client_id, "/login",
                       {{"next", next}, {"csrf", server_keys_->csrf_token(cookie, "login|" + next)}}, "");
    } else if (client && consent_remembered(*subject, *client, *pending)) {
        // Approved before with "remember": no page; the request is used up like an approval.
        if (!db_->delete_pending(server_keys_->digest(id))) {
            return message_page(400, "Request expired",
                                "The authorization request has expired. Go back to the application.");
        }
        return finish_authorization(*pending, *client, *subject);
    } else {
        std::vector<std::string> words;
        for (const auto& s : parse_scope(pending->scope).value_or(scope_list{})) {
            words.push_back(describe_scope(s));
        }
        r = oauth::consent_page(
            client ? client->name : pending->client_id, *subject, words, "/consent",
            {{"request", id}, {"csrf", server_keys_->csrf_token(cookie, "consent|" + id)}},
            client && may_remember_consent(*client, *pending));
    }
    for (auto& h : extra.headers) {
        r.headers.push_back(std::move(h));
    }
    return r;
}

response authorization_server::consent_decision(const request& req) {
    auto parsed = parse_request_form(req);
    if (auto* e = std::get_if<oauth_error>(&parsed)) {
        return message_page(400, "Invalid request", e->description);
    }
    const auto& p = std::get<form>(parsed);
    const auto id = p.value_or_empty("request");
    const auto cookie = req.cookie(csrf_cookie_name).value_or("");
    if (!server_keys_->csrf_ok(p.value_or_empty("csrf"), cookie, "consent|" + id)) {
        return message_page(403, "Request refused",
                            "This form has expired or was not sent from this site. Start again.");
    }
    auto subject = session_subject(req);
    if (!subject) {
        return message_page(401, "Signed out",
                            "Your session ended. Go back to the application and start again.");
    }
    const auto digest = server_keys_->digest(id);
    auto pending = db_->find_pending(digest);
    if (!pending || !db_->delete_pending(digest) || clock_->unix_seconds() >= pending->expires_at) {
        return message_page(400, "Request expired",
                            "The authorization request has expired. Go back to the application.");
    }
    if (p.value_or_empty("decision") != "approve") {
        return redirect_to_client(
            *pending, {{"error", "access_denied"}, {"error_description", "the user denied the request"}});
    }
    auto client = db_->find_client(pending->client_id);
    if (!client) {
        return message_page(400, "Unknown application", "The application is no longer registered.");
    }
    if (p.value_or_empty("remember") == "1" && may_remember_consent(*client, *pending)) {
        const auto now = clock_->unix_seconds();
        db_->save_consent(consent_record{*subject, client->client_id, pending->scope, now,
                                         now + config_.consent_ttl.count()});
    }
    return finish_authorization(*pending, *client, *subject);
}

response authorization_server::finish_authorization(const pending_request& p, const client_record& c,
                                                    const std::string& subject) {
    if (p.response_type == "code") {
        const auto code = random_token("tg_ac_");
        db_->insert_code(code_record{server_keys_->digest(code), p.client_id, subject,
                                     p.redirect_uri_sent ? p.redirect_uri : "", p.scope, p.code_challenge,
                                     random_token(""), clock_->unix_seconds() + config_.code_ttl.count(),
                                     false});
        return redirect_to_client(p, {{"code", code}});
    }
    grant_context g{c.client_id, subject, p.scope, audience_for(c), "", "", ttl_for(c)};
    auto [token, jti] = issue_access_token(g);
    common::logger("oauth")->warn("implicit grant used by client {} (jti {})", c.client_id, jti);
    std::vector<std::pair<std::string, std::string>> q{
        {"access_token", token}, {"token_type", "Bearer"}, {"expires_in", std::to_string(g.ttl)}};
    if (!g.scope.empty()) {
        q.emplace_back("scope", g.scope);
    }
    return redirect_to_client(p, std::move(q));
}

response authorization_server::redirect_to_client(const pending_request& p,
                                                  std::vector<std::pair<std::string, std::string>> q) {
    if (!p.state.empty()) {
        q.emplace_back("state", p.state);
    }
    q.emplace_back("iss", config_.issuer);  // RFC 9207
    return see_other(with_params(p.redirect_uri, p.response_type == "token" ? '#' : '?', q));
}

}  // namespace tollgate::oauth
