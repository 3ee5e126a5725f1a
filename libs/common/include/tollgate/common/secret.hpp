#pragma once
// Helpers for secrets: fingerprints safe to log, constant-time comparison, secure random bytes.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace tollgate::common {

/// First 12 hex digits of SHA-256(secret): names a token in logs and audit records without
/// revealing it.
std::string secret_fingerprint(std::string_view secret);

/// SHA-256 of the input.
std::vector<std::uint8_t> sha256(std::span<const std::uint8_t> data);
std::vector<std::uint8_t> sha256(std::string_view data);

/// Constant-time equality (CRYPTO_memcmp); different lengths compare unequal.
bool constant_time_equal(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b) noexcept;
bool constant_time_equal(std::string_view a, std::string_view b) noexcept;

/// n bytes from the OpenSSL CSPRNG. Throws std::runtime_error if the generator fails.
std::vector<std::uint8_t> random_bytes(std::size_t n);

/// Lower-case hex.
std::string to_hex(std::span<const std::uint8_t> data);

}  // namespace tollgate::common
