#pragma once
// Server-rendered HTML for the login, consent and device pages: no scripts, no external assets
// (inline CSS only), readable on a phone (viewport meta, one column, large touch targets).
// Every response carries Content-Security-Policy "default-src 'none'; style-src 'unsafe-inline';
// frame-ancestors 'none'; base-uri 'none'", X-Frame-Options DENY (RFC 9700 §4.16 clickjacking),
// Cache-Control no-store, Referrer-Policy no-referrer (RFC 9700 §4.2.4) and nosniff.
// Every text argument is HTML-escaped here; callers pass plain text.
// Thread-safety: pure functions.
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <tollgate/oauth/http.hpp>

namespace tollgate::oauth {

using hidden_fields = std::vector<std::pair<std::string, std::string>>;

std::string html_escape(std::string_view text);

/// Wraps body_html (already escaped) in the page shell and sets the security headers.
response html_page(int status, std::string_view title, const std::string& body_html);

/// Login form posting to action with the hidden fields; error shown above when non-empty.
response login_page(std::string_view client_name, std::string_view action, const hidden_fields& hidden,
                    std::string_view error);
/// Consent: who asks, what (each scope in words), approve / deny buttons (field "decision");
/// with offer_remember, a "remember" checkbox (field "remember", value "1", unchecked).
response consent_page(std::string_view client_name, std::string_view subject,
                      const std::vector<std::string>& scope_words, std::string_view action,
                      const hidden_fields& hidden, bool offer_remember = false);
/// Logout confirmation for subject: a "Sign out" button posting to action.
response logout_page(std::string_view subject, std::string_view action, const hidden_fields& hidden);
/// Device code entry form (field "user_code").
response device_entry_page(std::string_view action, const hidden_fields& hidden, std::string_view prefill,
                           std::string_view error);
/// Device approval: states plainly that a device is being connected (RFC 8628 §5.4).
response device_approval_page(std::string_view client_name, std::string_view user_code,
                              std::string_view subject, const std::vector<std::string>& scope_words,
                              std::string_view action, const hidden_fields& hidden);
/// A page with a heading and a sentence (results and errors that must not redirect).
response message_page(int status, std::string_view title, std::string_view text);

}  // namespace tollgate::oauth
