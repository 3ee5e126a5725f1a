#pragma once
// tollgate::jose error model: one enum, one std::error_category ("tollgate.jose").
// Every value names exactly one failed check, so a caller (and a log line) can tell *why* a token,
// key or key set was refused. There is no "success" value inside the category.
//
// result<T> is a small value-or-error_code holder used by every fallible function of this library
// that takes untrusted input: such functions never throw on bad input.
// Thread-safety: the category is a stateless singleton; result<T> is an ordinary value type.
#include <string>
#include <system_error>
#include <type_traits>
#include <utility>
#include <variant>

namespace tollgate::jose {

enum class errc {
    // --- compact serialization and encoding
    malformed_token = 1,  ///< not three non-empty-where-required segments separated by '.'
    too_many_segments,    ///< more than two '.' (JWE, or garbage): checked before any decoding
    token_too_large,      ///< token longer than limits::max_token_bytes (checked first)
    bad_base64,           ///< not canonical base64url: padding, foreign characters or trailing bits
    // --- JSON
    bad_json,          ///< header, claims, JWK or JWKS is not valid JSON (or not an object)
    json_too_deep,     ///< nesting beyond json_limits::max_depth
    json_too_large,    ///< more bytes, members or string length than json_limits allow
    duplicate_member,  ///< a member name appears twice in one JSON object
    // --- header
    missing_alg,            ///< header has no "alg" or it is not a string
    alg_none,               ///< "alg" is "none" in any spelling: never accepted
    unknown_alg,            ///< "alg" is not an algorithm this library implements
    alg_not_allowed,        ///< alg not in validation_policy::allowed_algs
    crit_unsupported,       ///< "crit" present (we implement no extension; "b64" included)
    embedded_key_rejected,  ///< header carries "jwk", "jku", "x5u" or "x5c": never a key source
    unsupported_header,     ///< a JWE-only or unsupported header such as "enc" or "zip"
    bad_header_type,        ///< a registered header member has the wrong JSON type (kid, typ, cty)
    // --- key selection and signature
    unknown_kid,       ///< token's kid names no key in the key set
    no_matching_key,   ///< no key in the set is usable with the token's alg
    alg_key_mismatch,  ///< the key's kty / pinned alg / use does not allow this alg
    bad_signature,     ///< signature wrong length, malformed (r/s range) or does not verify
    // --- claims
    bad_claims,         ///< the payload is not a JSON object
    expired,            ///< now >= exp + leeway
    not_yet_valid,      ///< now + leeway < nbf
    issued_in_future,   ///< iat > now + leeway
    too_old,            ///< now - iat > max_age + leeway
    missing_claim,      ///< a required claim (exp, iss, aud, iat for max_age, policy list) is absent
    bad_issuer,         ///< iss not in validation_policy::issuers
    bad_audience,       ///< no aud entry in validation_policy::audiences (or aud empty)
    bad_type,           ///< header typ differs from validation_policy::expected_typ
    bad_claim_type,     ///< a registered claim has the wrong JSON type or range (exp "123", 1.5, <0, >2^53)
    lifetime_too_long,  ///< exp - iat (or exp - now) exceeds validation_policy::max_lifetime
    unsupported_confirmation,  ///< cnf names a proof-of-possession method other than x5t#S256 (RFC 7800)
    // --- keys
    bad_key,          ///< JWK/PEM/certificate is malformed or inconsistent
    key_too_short,    ///< RSA < 2048 bits, HMAC secret shorter than the hash output
    unsupported_key,  ///< kty/crv we do not implement (e.g. secp256k1, X25519, Ed448)
    not_private_key,  ///< signing asked of a public-only key
    too_many_keys,    ///< a JWKS holds more keys than jwks_limits::max_keys
    crypto_failure,   ///< OpenSSL failed for a reason that is not the input's fault
};

const std::error_category& jose_category() noexcept;
std::error_code make_error_code(errc e) noexcept;

/// A value or the error_code saying why there is none.
template <class T>
class [[nodiscard]] result {
  public:
    result(T value) : v_(std::move(value)) {}           // NOLINT(google-explicit-constructor)
    result(std::error_code error) : v_(error) {}        // NOLINT(google-explicit-constructor)
    result(errc error) : v_(make_error_code(error)) {}  // NOLINT(google-explicit-constructor)

    [[nodiscard]] bool has_value() const noexcept { return v_.index() == 0; }
    explicit operator bool() const noexcept { return has_value(); }
    /// The error; a default (empty) error_code when a value is held.
    [[nodiscard]] std::error_code error() const noexcept {
        return has_value() ? std::error_code{} : std::get<1>(v_);
    }
    /// The value. Throws std::bad_variant_access if an error is held.
    [[nodiscard]] T& value() & { return std::get<0>(v_); }
    [[nodiscard]] const T& value() const& { return std::get<0>(v_); }
    [[nodiscard]] T&& value() && { return std::get<0>(std::move(v_)); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }

  private:
    std::variant<T, std::error_code> v_;
};

}  // namespace tollgate::jose

template <>
struct std::is_error_code_enum<tollgate::jose::errc> : std::true_type {};
