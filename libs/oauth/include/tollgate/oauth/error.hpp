#pragma once
// RFC 6749 §5.2 error responses (and the RFC 8628 §3.5 / RFC 7009 additions). An oauth_error is a
// value, not an exception: grant handlers return it, and to_response() renders it once:
// JSON {"error", "error_description"?}, status 400 (401 + WWW-Authenticate for invalid_client),
// Cache-Control: no-store. error_description never contains a secret (callers pass fixed texts and
// parameter names only).
#include <string>
#include <string_view>

#include <tollgate/oauth/http.hpp>

namespace tollgate::oauth {

enum class error_code {
    invalid_request,
    invalid_client,
    invalid_grant,
    unauthorized_client,
    unsupported_grant_type,
    invalid_scope,
    access_denied,
    unsupported_response_type,
    server_error,
    temporarily_unavailable,
    authorization_pending,   ///< RFC 8628 §3.5
    slow_down,               ///< RFC 8628 §3.5
    expired_token,           ///< RFC 8628 §3.5
    unsupported_token_type,  ///< RFC 7009 §2.2.1
};

std::string_view error_code_name(error_code c) noexcept;

struct oauth_error {
    error_code code;
    std::string description;
};

/// The RFC 6749 §5.2 JSON response for e. realm names the server in WWW-Authenticate.
response to_response(const oauth_error& e, std::string_view realm = "tollgate");

}  // namespace tollgate::oauth
