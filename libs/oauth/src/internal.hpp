#pragma once
// Helpers shared by the endpoint files of authorization_server.
#include <variant>

#include <tollgate/oauth/error.hpp>
#include <tollgate/oauth/form.hpp>
#include <tollgate/oauth/http.hpp>

namespace tollgate::oauth {

/// Parses an application/x-www-form-urlencoded body; any error is invalid_request naming the
/// problem (a repeated parameter by name, never a value).
std::variant<form, oauth_error> parse_request_form(const request& req);

}  // namespace tollgate::oauth

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace tollgate::oauth {

inline constexpr std::string_view csrf_cookie_name = "tg_csrf";
inline constexpr std::string_view session_cookie_name = "tg_sid";

/// The browser's CSRF cookie value; a new one is made (and set on out) when absent or malformed.
std::string ensure_csrf_cookie(const request& req, response& out);
/// Set-Cookie value with HttpOnly, SameSite=Lax, Path=/ and Secure over TLS.
std::string cookie_header(std::string_view name, std::string_view value, bool secure, long max_age);
/// Parameters of a GET (query) or POST (form body) request to a page.
std::variant<form, oauth_error> page_params(const request& req);
/// 303 See Other to location (RFC 9700 §4.12: never 307 after a credential POST).
response see_other(const std::string& location);
/// uri with params appended as a query ('?') or a fragment ('#').
std::string with_params(const std::string& uri, char separator_kind,
                        const std::vector<std::pair<std::string, std::string>>& params);

}  // namespace tollgate::oauth
