#pragma once
// Internal: the immutable data behind tollgate::jose::key.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <tollgate/jose/key.hpp>

#include "ossl.hpp"

namespace tollgate::jose::detail {

/// A process-unique id for a key_data (never reused, unlike addresses).
std::uint64_t next_key_id() noexcept;

struct key_data {
    const std::uint64_t id = next_key_id();  ///< names the key in per-thread context caches
    key_type type = key_type::oct;
    std::optional<algorithm> alg;
    std::string kid;
    std::string use;
    std::string curve;  ///< "P-256", "P-384", "P-521", "Ed25519" or empty
    bool is_private = false;
    int bits = 0;
    std::size_t sig_bytes = 0;         ///< RSA modulus bytes; EC 2 * coordinate bytes; Ed25519 64
    ossl::pkey_ptr pkey;               ///< asymmetric keys
    std::vector<std::uint8_t> secret;  ///< oct keys
    std::string x5t_s256;              ///< keys from certificates

    ~key_data();
    key_data() = default;
    key_data(const key_data&) = delete;
    key_data& operator=(const key_data&) = delete;

    static key make(std::shared_ptr<const key_data> data) { return key(std::move(data)); }
    static const key_data& of(const key& k) { return *k.data_; }
};

/// Fills type, curve, bits, sig_bytes and is_private from an EVP_PKEY and takes ownership of it.
/// Errors: unsupported_key (type/curve), key_too_short (RSA < 2048).
std::error_code adopt_pkey(key_data& data, ossl::pkey_ptr pkey);

/// Big-endian group order of the curve with this coordinate size (32, 48, 66 bytes).
std::span<const std::uint8_t> curve_order(std::size_t coordinate_bytes) noexcept;

/// OpenSSL group name for a JOSE curve name ("P-256" -> "prime256v1"); empty if unsupported.
std::string_view openssl_group(std::string_view jose_curve) noexcept;
/// Coordinate size in bytes for a JOSE curve name (0 if unsupported).
std::size_t coordinate_bytes(std::string_view jose_curve) noexcept;
/// The ES algorithm for a curve (nullopt for Ed25519 / unknown).
std::optional<algorithm> ec_algorithm_for(std::string_view jose_curve) noexcept;

}  // namespace tollgate::jose::detail
