#pragma once
// The JWS algorithms of RFC 7518 §3 and RFC 8037 that tollgate implements. "none" is not one of
// them: it has no enumerator, and algorithm_from_name() refuses it in every spelling.
// Names are matched exactly (case-sensitive, RFC 7515 §4.1.1).
// Thread-safety: pure functions.
#include <cstddef>
#include <optional>
#include <string_view>

namespace tollgate::jose {

enum class algorithm {
    hs256,
    hs384,
    hs512,  ///< HMAC-SHA2 (RFC 7518 §3.2), key_type::oct
    rs256,
    rs384,
    rs512,  ///< RSASSA-PKCS1-v1_5 (§3.3), key_type::rsa >= 2048 bits
    ps256,
    ps384,
    ps512,  ///< RSASSA-PSS, MGF1 with the same hash, salt = hash length (§3.5)
    es256,
    es384,
    es512,  ///< ECDSA P-256/P-384/P-521, raw R||S signatures (§3.4)
    eddsa,  ///< Ed25519 (RFC 8037 §3.1); Ed448 is not supported
};

enum class key_type { rsa, ec, okp, oct };

/// "HS256" ... "EdDSA".
std::string_view algorithm_name(algorithm alg) noexcept;
/// The algorithm with exactly this name; nullopt for "none", unknown or differently cased names.
std::optional<algorithm> algorithm_from_name(std::string_view name) noexcept;
/// True for "none" in any ASCII case ("None", "NONE", "nOnE", ...).
bool is_none_spelling(std::string_view name) noexcept;
/// The key type an algorithm needs.
key_type required_key_type(algorithm alg) noexcept;
/// "RSA", "EC", "OKP", "oct".
std::string_view key_type_name(key_type type) noexcept;
/// Digest length in bytes of the hash the algorithm uses (32/48/64; Ed25519: 64).
std::size_t hash_size(algorithm alg) noexcept;

}  // namespace tollgate::jose
