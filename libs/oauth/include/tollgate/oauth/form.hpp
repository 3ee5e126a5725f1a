#pragma once
// Parsers for what arrives at the authorization server's endpoints: application/x-www-form-urlencoded
// bodies and query strings (WHATWG URL §5 / RFC 6749 Appendix B), and HTTP Basic client credentials
// (RFC 7617 with the RFC 6749 §2.3.1 rule that client_id and client_secret are form-urlencoded before
// being joined by ':' and base64-encoded).
//
// Rules (RFC 6749 §3.1, §3.2): a parameter sent without a value is treated as omitted; a parameter
// that appears more than once is an error (the caller answers invalid_request). Decoding is strict:
// a '%' not followed by two hex digits is an error, a decoded byte sequence that is not UTF-8 is an
// error, NUL bytes are refused. Every input is bounded by form_limits.
// Never throws on untrusted input; never reads past the end of its argument.
// Thread-safety: pure functions.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tollgate::oauth {

struct form_limits {
    std::size_t max_bytes = 64 * 1024;        ///< whole body or query string
    std::size_t max_parameters = 64;          ///< name=value pairs
    std::size_t max_name_bytes = 128;         ///< one decoded name
    std::size_t max_value_bytes = 16 * 1024;  ///< one decoded value (client assertions are the biggest)
};

enum class form_error {
    none = 0,
    too_large,  ///< input longer than max_bytes
    too_many_parameters,
    name_too_long,
    value_too_long,
    bad_encoding,        ///< bad '%' escape, NUL byte or invalid UTF-8
    repeated_parameter,  ///< a name occurs twice (RFC 6749 §3.1/§3.2)
};

/// Human-readable text for an error_description ("parameter 'scope' is repeated" is built by the caller).
std::string_view form_error_text(form_error e) noexcept;

/// Parsed parameters in arrival order; names are unique, values non-empty.
class form {
  public:
    /// The value of name, or nullopt when absent (or sent empty).
    [[nodiscard]] std::optional<std::string_view> get(std::string_view name) const noexcept;
    [[nodiscard]] bool has(std::string_view name) const noexcept { return get(name).has_value(); }
    /// The value or an empty string.
    [[nodiscard]] std::string value_or_empty(std::string_view name) const;
    [[nodiscard]] const std::vector<std::pair<std::string, std::string>>& params() const noexcept {
        return params_;
    }

    std::vector<std::pair<std::string, std::string>> params_;
};

struct form_result {
    form_error error = form_error::none;
    std::string offending_name;  ///< the repeated (or too long) parameter's name, decoded, when known
    form value;
};

/// Parses "a=1&b=two+words&c=%2F". Empty pairs ("a=1&&b=2") are skipped.
form_result parse_form(std::string_view text, const form_limits& limits = {});

/// Percent-decodes one component ('+' becomes a space). nullopt on bad encoding, NUL or bad UTF-8.
std::optional<std::string> form_decode(std::string_view text);

/// Encodes for a query string or form body: unreserved characters (ALPHA DIGIT - . _ ~) as is,
/// everything else %XX (a space becomes %20).
std::string url_encode(std::string_view text);

/// Builds "a=1&b=2" from pairs (values url_encode()d).
std::string build_query(const std::vector<std::pair<std::string, std::string>>& params);

struct basic_credentials {
    std::string user;      ///< client_id, form-decoded
    std::string password;  ///< client_secret, form-decoded
};

/// Parses an Authorization header value "Basic <base64>" (scheme case-insensitive, RFC 7617 §2).
/// nullopt when the scheme is not Basic, the base64 is invalid, there is no ':' or either part fails
/// form decoding. Bounded: values over max_basic_authorization_bytes are refused.
inline constexpr std::size_t max_basic_authorization_bytes = 4096;
std::optional<basic_credentials> parse_basic_authorization(std::string_view header_value);

/// Builds the header value for client_id/secret (form-encoding each part first), for tests and clients.
std::string make_basic_authorization(std::string_view user, std::string_view password);

/// Standard base64 (RFC 4648 §4) with '=' padding; decode accepts padded input only, strictly.
std::string base64_encode(std::string_view data);
std::optional<std::string> base64_decode(std::string_view text);

/// True when text is valid UTF-8 (no overlongs, no surrogates, <= U+10FFFF).
bool is_valid_utf8(std::string_view text) noexcept;

}  // namespace tollgate::oauth
