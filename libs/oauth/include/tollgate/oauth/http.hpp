#pragma once
// The authorization server's view of HTTP: plain structs, no sockets. Every endpoint is a function
// request -> response, so it is unit-tested without a network; oauth_serve adapts these to
// tollgate::net's http_server. Header names are lower-case; duplicates are kept in order.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tollgate::oauth {

struct request {
    std::string method;                                        ///< "GET", "POST", ...
    std::string target;                                        ///< origin-form: path [ "?" query ]
    std::vector<std::pair<std::string, std::string>> headers;  ///< names lower-case
    std::string body;
    std::string peer_address;                          ///< client IP address, for rate limits
    std::vector<std::uint8_t> client_certificate_der;  ///< TLS client certificate (RFC 8705), if any
    bool secure = false;  ///< arrived over TLS (cookies get the Secure attribute)

    /// First header with this (lower-case) name.
    [[nodiscard]] std::optional<std::string_view> header(std::string_view name) const noexcept;
    /// Number of headers with this name (duplicates of Authorization are refused).
    [[nodiscard]] std::size_t header_count(std::string_view name) const noexcept;
    [[nodiscard]] std::string_view path() const noexcept;
    [[nodiscard]] std::string_view query() const noexcept;
    /// Value of the named cookie in the Cookie header(s), if present.
    [[nodiscard]] std::optional<std::string> cookie(std::string_view name) const;
};

struct response {
    int status = 200;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;

    void set_header(std::string name, std::string value);
    [[nodiscard]] std::optional<std::string_view> header(std::string_view name) const noexcept;
};

/// 200 with a JSON body; no_store adds Cache-Control: no-store and Pragma: no-cache (RFC 6749 §5.1).
response json_response(int status, std::string body, bool no_store);

}  // namespace tollgate::oauth
