#pragma once
// tollgate::jose::key: one parsed, immutable signing or verification key.
//
// Design: a key is a cheap handle (shared_ptr) to immutable data parsed once: an OpenSSL
// EVP_PKEY for RSA/EC/OKP, or the secret bytes for oct, plus the JWK metadata (kid, alg pin, use).
// Nothing is re-parsed per token. Each key is pinned to its kty and, when given, to one alg:
// allows(alg) is true only when the algorithm's family matches the key type (an RSA or EC public
// key can never act as an HMAC secret, whatever the token says) and the pinned alg (if any) is
// exactly alg. EC keys additionally fit only their own curve (ES256 <-> P-256 ...).
//
// Accepted: RSA (>= 2048 bits), EC P-256/P-384/P-521, OKP Ed25519, oct (>= 32 bytes; per-alg
// minimum = hash size, checked by allows()). Refused: secp256k1, X25519, Ed448, DSA, DH...
//
// Errors: factories taking text return result<key>: bad_json / json_* / duplicate_member for the
// JSON, bad_key (malformed or inconsistent), key_too_short, unsupported_key.
//
// Thread-safety: a key is immutable after construction; any number of threads may sign and verify
// with the same key (or copies of it) at once. Every operation creates its own OpenSSL contexts.
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

#include <tollgate/jose/algorithm.hpp>
#include <tollgate/jose/error.hpp>
#include <tollgate/jose/json.hpp>

struct evp_pkey_st;  // OpenSSL's EVP_PKEY, declared without including OpenSSL here.

namespace tollgate::jose {

namespace detail {
struct key_data;
}

/// Metadata for keys that do not come from a JWK (PEM, certificates, generated, HMAC).
struct key_options {
    std::string kid;               ///< empty: no kid
    std::optional<algorithm> alg;  ///< the one algorithm the key is for (recommended)
    std::string use;               ///< "sig" or empty
};

class key {
  public:
    /// A JWK (RFC 7517 §4, RFC 7518 §6, RFC 8037 §2). "use" other than "sig", "key_ops" without
    /// "verify"/"sign", "alg" unknown or not fitting the kty/crv: unsupported_key / bad_key.
    static result<key> from_jwk(std::string_view json, const json_limits& limits = {});
    static result<key> from_jwk(const boost::json::object& jwk);
    /// A PEM public key ("PUBLIC KEY", "RSA PUBLIC KEY") or private key ("PRIVATE KEY",
    /// "RSA PRIVATE KEY", "EC PRIVATE KEY"); unencrypted only.
    static result<key> from_pem(std::string_view pem, const key_options& options = {});
    /// The public key of an X.509 certificate, PEM or DER. The certificate is not validated
    /// (no chain, no dates): the caller decided to trust it. x5t_s256() of the certificate is kept.
    static result<key> from_certificate(std::span<const std::uint8_t> pem_or_der,
                                        const key_options& options = {});
    /// An HMAC secret for one HS* algorithm (alg must be HS256/384/512). A secret shorter than the
    /// hash output is key_too_short; an empty one always is. options.alg is ignored (alg wins).
    static result<key> hmac(std::span<const std::uint8_t> secret, algorithm alg, std::string kid = {});
    /// A fresh key for alg: RSA (rsa_bits, minimum 2048) for RS*/PS*, the matching curve for ES*,
    /// Ed25519 for EdDSA, 2*hash-size random bytes for HS*. The key is pinned to alg.
    /// Throws std::runtime_error if OpenSSL fails, std::invalid_argument if rsa_bits < 2048.
    static key generate(algorithm alg, std::string kid = {}, int rsa_bits = 2048);

    [[nodiscard]] key_type type() const noexcept;
    [[nodiscard]] const std::optional<algorithm>& alg() const noexcept;
    [[nodiscard]] const std::string& kid() const noexcept;
    [[nodiscard]] const std::string& use() const noexcept;
    [[nodiscard]] bool is_private() const noexcept;  ///< oct keys are always "private"
    /// Size: RSA modulus bits, EC field bits, 255 for Ed25519, secret bits for oct.
    [[nodiscard]] int bits() const noexcept;
    /// "P-256", "P-384", "P-521", "Ed25519"; empty for RSA and oct.
    [[nodiscard]] std::string_view curve() const noexcept;
    /// May this key verify (and, if private, sign) tokens with alg? See the header comment.
    [[nodiscard]] bool allows(algorithm alg) const noexcept;
    /// The same key material with other metadata (e.g. a kid = thumbprint()).
    [[nodiscard]] key with_options(const key_options& options) const;

    /// Public JWK (never "d", "p", "q", "dp", "dq", "qi", "k"). For oct keys this is an error:
    /// a symmetric key has no public form (returns bad_key).
    [[nodiscard]] result<boost::json::object> public_jwk() const;
    [[nodiscard]] result<std::string> to_public_jwk() const;
    /// Full JWK including private members (for storage); not_private_key if public-only.
    [[nodiscard]] result<std::string> to_private_jwk() const;
    /// RFC 7638 thumbprint: base64url(SHA-256(canonical required members)). Defined for all kty.
    [[nodiscard]] std::string thumbprint() const;
    /// SubjectPublicKeyInfo PEM; bad_key for oct.
    [[nodiscard]] result<std::string> public_pem() const;
    /// PKCS#8 PEM; not_private_key if public-only, bad_key for oct.
    [[nodiscard]] result<std::string> private_pem() const;
    /// For keys made by from_certificate(): base64url SHA-256 of the certificate DER (RFC 8705).
    [[nodiscard]] const std::string& certificate_x5t_s256() const noexcept;

    /// Low-level access for this library and its tests: the EVP_PKEY (nullptr for oct), the
    /// secret (empty for asymmetric keys). Do not mutate.
    [[nodiscard]] evp_pkey_st* native_handle() const noexcept;
    [[nodiscard]] std::span<const std::uint8_t> secret() const noexcept;

  private:
    explicit key(std::shared_ptr<const detail::key_data> data) : data_(std::move(data)) {}
    friend struct detail::key_data;
    std::shared_ptr<const detail::key_data> data_;
};

/// RFC 8705 §3.1: base64url(SHA-256(DER certificate)). The input may be PEM or DER; errc::bad_key
/// if it is neither.
result<std::string> x5t_s256(std::span<const std::uint8_t> certificate_pem_or_der);

}  // namespace tollgate::jose
