// The browser session's end (GET|POST /logout) and remembered consent.
//
// Logout follows OpenID Connect RP-Initiated Logout 1.0 where it applies without ID tokens:
// GET /logout?client_id=..&post_logout_redirect_uri=..&state=.. shows a confirmation page (a GET
// never signs anyone out, so a link or an image on another site cannot); its form POSTs back with
// a CSRF token bound to the browser's CSRF cookie. The POST deletes the session row and the
// cookie, then sends the browser to post_logout_redirect_uri (with state) only when that URI is
// registered for client_id, compared as exact strings (RP-Initiated Logout §3); an unregistered
// URI is an error page, never a redirect (no open redirector, RFC 9700 §4.11).
#include <algorithm>

#include <tollgate/oauth/pages.hpp>
#include <tollgate/oauth/scope.hpp>
#include <tollgate/oauth/server.hpp>

#include "internal.hpp"

namespace tollgate::oauth {
namespace {

constexpr std::string_view logout_purpose = "logout";

}  // namespace

bool authorization_server::may_remember_consent(const client_record& c, const pending_request& p) const {
    return config_.consent_ttl.count() > 0 && !c.is_public() && p.response_type == "code";
}

bool authorization_server::consent_remembered(const std::string& subject, const client_record& c,
                                              const pending_request& p) {
    if (!may_remember_consent(c, p)) {
        return false;
    }
    auto consent = db_->find_consent(subject, c.client_id);
    if (!consent || clock_->unix_seconds() >= consent->expires_at) {
        return false;
    }
    auto requested = parse_scope(p.scope);
    auto approved = parse_scope(consent->scope);
    return requested && approved && scope_subset(*requested, *approved);
}

response authorization_server::logout(const request& req) {
    auto parsed = page_params(req);
    if (auto* e = std::get_if<oauth_error>(&parsed)) {
        return message_page(400, "Invalid request", e->description);
    }
    const auto& p = std::get<form>(parsed);
    const auto client_id = p.value_or_empty("client_id");
    const auto target = p.value_or_empty("post_logout_redirect_uri");
    const auto state = p.value_or_empty("state");
    std::string after;  // where to go once signed out; empty: our own page
    if (!target.empty()) {
        auto client =
            client_id.empty() || client_id.size() > 256 ? std::nullopt : db_->find_client(client_id);
        const auto& allowed = client ? client->post_logout_redirect_uris : std::vector<std::string>{};
        if (std::find(allowed.begin(), allowed.end(), target) == allowed.end()) {
            return message_page(400, "Invalid redirect",
                                "The address to return to after signing out is not registered for this "
                                "application.");
        }
        after = state.empty() ? target : with_params(target, '?', {{"state", state}});
    }
    auto signed_out = [&] {
        return after.empty() ? message_page(200, "Signed out", "You are signed out.") : see_other(after);
    };
    const auto subject = session_subject(req);
    if (req.method != "POST") {
        if (!subject) {
            return signed_out();
        }
        response extra;
        const auto cookie = ensure_csrf_cookie(req, extra);
        hidden_fields hidden;
        auto keep = [&hidden](const char* name, const std::string& value) {
            if (!value.empty()) {
                hidden.emplace_back(name, value);
            }
        };
        keep("client_id", client_id);
        keep("post_logout_redirect_uri", target);
        keep("state", state);
        hidden.emplace_back("csrf", server_keys_->csrf_token(cookie, logout_purpose));
        auto r = logout_page(*subject, "/logout", hidden);
        for (auto& h : extra.headers) {
            r.headers.push_back(std::move(h));
        }
        return r;
    }
    const auto cookie = req.cookie(csrf_cookie_name).value_or("");
    if (!server_keys_->csrf_ok(p.value_or_empty("csrf"), cookie, logout_purpose)) {
        // Logout CSRF: a form on another page cannot end this session.
        return message_page(403, "Request refused",
                            "This form has expired or was not sent from this site. Start again.");
    }
    if (auto sid = req.cookie(session_cookie_name); sid && sid->size() <= 128) {
        db_->delete_session(server_keys_->digest(*sid));
    }
    auto r = signed_out();
    r.headers.emplace_back("set-cookie", cookie_header(session_cookie_name, "", req.secure, 0));
    return r;
}

}  // namespace tollgate::oauth
