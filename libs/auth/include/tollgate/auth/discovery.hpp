#pragma once
// Authorization server metadata: where to find it (RFC 8414 §3.1, OpenID Connect Discovery 1.0 §4)
// and how to accept it (RFC 8414 §3.2, §3.3). Pure functions, no I/O; remote_key_source fetches.
//
// Thread-safety: pure functions on values.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tollgate::auth {

/// What tollgate uses of an authorization server's metadata. Immutable once published.
struct issuer_metadata {
    std::string issuer;                  ///< equals the configured issuer exactly (RFC 8414 §3.3)
    std::string jwks_uri;                ///< may be empty (then the issuer needs jwks_uri configured)
    std::string token_endpoint;          ///< informational
    std::string introspection_endpoint;  ///< RFC 7662 / RFC 8414 §2, may be empty
    std::string revocation_endpoint;     ///< RFC 7009 / RFC 8414 §2, may be empty
    /// "introspection_endpoint_auth_methods_supported" (RFC 8414 §2), empty when not given.
    std::vector<std::string> introspection_auth_methods;
    std::string source_url;  ///< the well-known URL it was read from
};

/// Checks an issuer identifier (RFC 8414 §2): an absolute https URL (http only when allow_http)
/// with a host, no query and no fragment. Returns an error text, empty when acceptable.
[[nodiscard]] std::string check_issuer_identifier(std::string_view issuer, bool allow_http);

/// Checks an endpoint URL from configuration or metadata: absolute https (http only when
/// allow_http), with a host, no fragment, no user information. Returns an error text or empty.
[[nodiscard]] std::string check_endpoint_url(std::string_view url, bool allow_http);

/// The metadata URLs to try, in order, for an issuer accepted by check_issuer_identifier():
///  1. RFC 8414 §3.1: "/.well-known/oauth-authorization-server" inserted between the host and the
///     issuer's path (a terminating "/" of the path removed first);
///  2. OpenID Connect Discovery §4: the issuer (without a terminating "/") +
///  "/.well-known/openid-configuration".
[[nodiscard]] std::vector<std::string> discovery_urls(std::string_view issuer);

struct metadata_limits {
    std::size_t max_bytes = 64 * 1024;
};

struct metadata_result {
    std::optional<issuer_metadata> metadata;
    std::string error;  ///< set when metadata is empty
};

/// Parses a metadata document: one JSON object (strict: duplicates, trailing data, bad UTF-8 are
/// errors) whose "issuer" is a string equal to expected_issuer (RFC 8414 §3.3: otherwise the
/// document MUST NOT be used); the endpoint members used here, when present, must be strings that
/// pass check_endpoint_url(). Never throws on bad input.
[[nodiscard]] metadata_result parse_issuer_metadata(std::string_view json, std::string_view expected_issuer,
                                                    bool allow_http, const metadata_limits& limits = {});

}  // namespace tollgate::auth
