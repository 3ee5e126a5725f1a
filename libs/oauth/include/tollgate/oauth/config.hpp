#pragma once
// Configuration of the authorization server. Every field has a safe default; apps/tollgate maps
// its TOML section onto this struct.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

#include <tollgate/jose/algorithm.hpp>

namespace tollgate::oauth {

struct server_config {
    /// Issuer identifier (RFC 8414 §2): https URL (http on loopback for development), no query or
    /// fragment. Endpoint URLs in the metadata are built from it.
    std::string issuer = "http://127.0.0.1:8080";
    /// Data directory: holds oauth.db (SQLite) and oauth.key (the 32-byte server key, mode 0600).
    std::string data_dir = "./tollgate-data";
    /// Empty: "sqlite:<data_dir>/oauth.db". Or "postgresql://...".
    std::string database_url;
    /// Empty: "<data_dir>/oauth.key".
    std::string key_file;
    /// "aud" of access tokens when the client names none: the broker's resource identifier.
    std::string default_audience = "urn:tollgate:broker";
    /// Algorithm of newly made signing keys: ES256 (default), EdDSA or RS256.
    jose::algorithm signing_alg = jose::algorithm::es256;

    std::chrono::seconds default_access_token_ttl{3600};
    /// Upper bound of every client's access-token lifetime; a retired signing key stays in the
    /// JWKS this long after rotation.
    std::chrono::seconds max_access_token_ttl{24 * 3600};
    std::chrono::seconds code_ttl{60};                   ///< RFC 9700 §4.5: short-lived codes
    std::chrono::seconds device_code_ttl{600};           ///< RFC 8628 §3.2 expires_in
    std::chrono::seconds device_poll_interval{5};        ///< RFC 8628 §3.2 interval
    std::chrono::seconds refresh_grace{10};              ///< reuse of the immediately preceding token only
    std::chrono::seconds session_ttl{8 * 3600};          ///< browser login session
    std::chrono::seconds pending_ttl{600};               ///< authorization request waiting for the user
    std::chrono::seconds client_assertion_max_age{300};  ///< RFC 7523 assertions: exp - now at most
    /// Remembered consent lives this long after the user approved (0: consent is never remembered).
    std::chrono::seconds consent_ttl{30 * 24 * 3600};
    /// How often a running server re-reads the signing-key table (rotation by another process).
    std::chrono::seconds signing_key_refresh{30};
    /// How often a running server (apps/tollgate/oauth_serve) reads the revocation journal for
    /// revocations made by other processes (`tollgate admin`, another server on the database).
    std::chrono::milliseconds revocation_poll{250};

    /// Password grant and login page: failures per user name before lockout, failures per client
    /// address before lockout, and lockout length.
    int login_max_failures = 5;
    int login_address_max_failures = 20;
    std::chrono::seconds login_lockout{15 * 60};
    /// Device user-code entry: wrong codes per address before lockout (RFC 8628 §5.1).
    int user_code_max_failures = 10;
    std::chrono::seconds user_code_lockout{15 * 60};

    // --- HTTP listener (used by apps/tollgate/oauth_serve)
    std::string listen_address = "127.0.0.1";
    std::uint16_t port = 8080;
    std::string tls_certificate_file;  ///< PEM; set with tls_private_key_file for HTTPS
    std::string tls_private_key_file;
    std::string tls_client_ca_file;  ///< CA for client certificates (tls_client_auth, RFC 8705)
    bool request_client_certificates = false;
    std::size_t max_body_bytes = 64 * 1024;
    std::size_t database_pool_size = 4;
    unsigned work_threads = 2;  ///< threads for SQL and argon2 (never on the I/O threads)

    [[nodiscard]] std::string effective_database_url() const;
    [[nodiscard]] std::string effective_key_file() const;
};

}  // namespace tollgate::oauth
