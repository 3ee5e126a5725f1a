#pragma once
// The authorization server's own cryptography, on OpenSSL 3 and libargon2:
//  - opaque values (refresh tokens, codes, device codes, client secrets, browser sessions): 256 bits
//    from the CSRNG, base64url, with a short type prefix so a leaked value is recognisable in a
//    secret scan; stored only as HMAC-SHA-256 under the server key (Hydra's "signature only" model);
//  - user passwords: argon2id, m = 19 MiB, t = 2, p = 1 (OWASP), PHC string form;
//  - signing keys at rest: AES-256-GCM under a key-encryption key;
//  - PKCE S256 (RFC 7636 §4.6) and device user codes (RFC 8628 §6.1).
// Every comparison of secret material is constant-time.
// Thread-safety: server_keys is immutable after construction; all functions are reentrant.
#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace tollgate::oauth {

/// Keys derived from the 32-byte server key file: one for HMAC of stored values, one for
/// encrypting signing keys, one for CSRF tokens. Derivation is HMAC-SHA-256(master, label).
class server_keys {
  public:
    /// master must be exactly 32 bytes; throws std::invalid_argument otherwise.
    explicit server_keys(std::span<const std::uint8_t> master);

    /// Lower-case hex HMAC-SHA-256 of value under the storage key: what the database holds.
    [[nodiscard]] std::string digest(std::string_view value) const;
    /// Constant-time check of value against a stored digest.
    [[nodiscard]] bool matches(std::string_view value, std::string_view stored_digest) const;
    /// CSRF token binding a browser cookie to a purpose (e.g. a pending request id).
    [[nodiscard]] std::string csrf_token(std::string_view cookie, std::string_view purpose) const;
    [[nodiscard]] bool csrf_ok(std::string_view token, std::string_view cookie,
                               std::string_view purpose) const;
    /// AES-256-GCM: base64url(nonce(12) || ciphertext || tag(16)), aad authenticated.
    [[nodiscard]] std::string seal(std::string_view plaintext, std::string_view aad) const;
    /// nullopt when the box was tampered with, has the wrong aad or is not ours.
    [[nodiscard]] std::optional<std::string> open(std::string_view box, std::string_view aad) const;

  private:
    std::array<std::uint8_t, 32> storage_key_{};
    std::array<std::uint8_t, 32> kek_{};
    std::array<std::uint8_t, 32> csrf_key_{};
};

/// Reads the 32-byte server key from path, creating it (mode 0600, 32 random bytes) if missing.
/// Throws std::runtime_error when the file exists with another size or cannot be read or written.
std::array<std::uint8_t, 32> load_or_create_key_file(const std::string& path);

/// prefix + base64url(32 random bytes): "tg_rt_..." etc.
std::string random_token(std::string_view prefix);

/// HMAC-SHA-256(key, data) raw bytes.
std::array<std::uint8_t, 32> hmac_sha256(std::span<const std::uint8_t> key, std::string_view data);

/// argon2id PHC string of password with a fresh 16-byte salt (m = 19456 KiB, t = 2, p = 1).
/// Throws std::runtime_error if libargon2 fails.
std::string hash_password(std::string_view password);
/// Verifies password against a PHC string (any argon2id parameters). False on any malformed input.
bool verify_password(std::string_view password, const std::string& phc);

/// RFC 7636 §4.1: 43-128 characters of [A-Z a-z 0-9 - . _ ~].
bool is_valid_code_verifier(std::string_view verifier) noexcept;
/// RFC 7636 §4.2 S256 challenge: exactly 43 base64url characters.
bool is_valid_code_challenge(std::string_view challenge) noexcept;
/// BASE64URL(SHA256(verifier)) == challenge, compared in constant time (RFC 7636 §4.6).
bool pkce_s256_matches(std::string_view verifier, std::string_view challenge);
/// BASE64URL(SHA256(verifier)), for clients and tests.
std::string pkce_s256_challenge(std::string_view verifier);

/// RFC 8628 §6.1 alphabet: 20 consonants, no vowels, no ambiguous characters.
inline constexpr std::string_view user_code_alphabet = "BCDFGHJKLMNPQRSTVWXZ";
/// 8 characters from user_code_alphabet shown as "XXXX-XXXX" (≈ 34.5 bits).
std::string generate_user_code();
/// Canonical form of what a person typed: upper-cased, '-' and spaces removed. nullopt unless the
/// result is exactly 8 characters of the alphabet.
std::optional<std::string> normalize_user_code(std::string_view typed);

}  // namespace tollgate::oauth
