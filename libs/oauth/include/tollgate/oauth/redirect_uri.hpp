#pragma once
// Redirect URIs (RFC 6749 §3.1.2, RFC 9700 §2.1 and §4.1.3, RFC 8252 §7).
// Registration accepts an absolute URI without fragment that is https, http on a loopback IP
// literal (127.0.0.1 or [::1]; "localhost" is refused, RFC 8252 §8.3) or a private-use scheme
// containing a '.' (RFC 8252 §7.1, e.g. com.example.app:/cb). Matching is exact string equality;
// the single exception is the port of a loopback IP literal redirect URI (RFC 8252 §7.3).
// Thread-safety: pure functions.
#include <string>
#include <string_view>
#include <vector>

namespace tollgate::oauth {

/// Empty string when uri may be registered, otherwise the reason.
std::string check_redirect_uri_registration(std::string_view uri);

/// True when requested equals one of registered under the rules above.
bool redirect_uri_matches(std::string_view requested, const std::vector<std::string>& registered);

}  // namespace tollgate::oauth
