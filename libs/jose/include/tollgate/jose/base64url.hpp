#pragma once
// Base64url (RFC 4648 §5) as JOSE uses it (RFC 7515 §2): no padding, ever.
// Decoding is strict so that one byte string has exactly one spelling: '=' padding, '+', '/',
// whitespace, any character outside [A-Za-z0-9-_], a length of 4n+1, and non-zero unused bits in
// the last character are all rejected (errc::bad_base64).
// Thread-safety: pure functions.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <tollgate/jose/error.hpp>

namespace tollgate::jose {

std::string base64url_encode(std::span<const std::uint8_t> data);
std::string base64url_encode(std::string_view data);

/// Strict decode into bytes; errc::bad_base64 on any non-canonical input.
result<std::vector<std::uint8_t>> base64url_decode(std::string_view text);
/// Strict decode into a std::string (for JSON text); same rules.
result<std::string> base64url_decode_string(std::string_view text);
/// Appends the decoded bytes to out; false (out unchanged in size) when text is not canonical.
bool base64url_decode_append(std::string_view text, std::string& out);

}  // namespace tollgate::jose
