#pragma once
// JWS compact serialization (RFC 7515 §7.1): signing, strict parsing, signature verification.
//
// parse_compact() checks, in this order and each in O(token size): size limit (before anything
// else), segment count (stops at the third '.'), canonical base64url, header JSON under limits
// (duplicates rejected), and the header rules of RFC 7515/8725:
//   - "alg" must be a string naming an implemented algorithm; "none" (any case) -> alg_none;
//   - "crit" present at all -> crit_unsupported (we implement no extension, "b64" included);
//   - "jwk", "jku", "x5u", "x5c" -> embedded_key_rejected (keys never come from the token);
//   - "enc", "zip" (JWE) -> unsupported_header; "kid", "typ", "cty" must be strings.
// It does not verify the signature and does not parse the payload: see verify_signature() and
// tollgate/jose/jwt.hpp (verifier), which does the whole job.
//
// Thread-safety: pure functions; keys are immutable and may be shared across threads.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <boost/json/object.hpp>

#include <tollgate/jose/algorithm.hpp>
#include <tollgate/jose/error.hpp>
#include <tollgate/jose/json.hpp>
#include <tollgate/jose/key.hpp>

namespace tollgate::jose {

struct token_limits {
    /// Whole compact token. 8 KiB: MQTT passwords allow 64 KiB, real access tokens are < 4 KiB.
    std::size_t max_token_bytes = 8 * 1024;
    json_limits header_json{
        .max_bytes = 4 * 1024, .max_depth = 8, .max_members = 64, .max_string_bytes = 2048};
    json_limits claims_json{
        .max_bytes = 8 * 1024, .max_depth = 32, .max_members = 512, .max_string_bytes = 4096};
};

/// A compact JWS split and decoded, header checked, signature not yet verified. It owns a copy of
/// the token, so it stays valid after the caller's buffer is gone.
struct parsed_jws {
    boost::json::object header;
    algorithm alg{};
    std::optional<std::string> kid;  ///< opaque lookup key: any bytes, never a path or a query
    std::optional<std::string> typ;
    std::vector<std::uint8_t> signature;
    std::string token;  ///< the compact serialization as given

    /// ASCII(BASE64URL(header) '.' BASE64URL(payload)): what the signature covers.
    [[nodiscard]] std::string_view signing_input() const noexcept {
        return std::string_view(token).substr(0, signing_input_size);
    }
    /// The second segment, still base64url-encoded.
    [[nodiscard]] std::string_view payload_b64() const noexcept {
        return std::string_view(token).substr(payload_offset, signing_input_size - payload_offset);
    }

    std::size_t signing_input_size = 0;
    std::size_t payload_offset = 0;
};

/// storage: where the header object's memory comes from (default: the heap).
result<parsed_jws> parse_compact(std::string_view token, const token_limits& limits = {},
                                 boost::json::storage_ptr storage = {});

/// The payload of a compact JWS as a JSON object WITHOUT checking the signature or anything else:
/// only to choose an issuer's keys and policy, or to display a token. nullopt when the token does
/// not parse within `limits` or its payload is not a JSON object.
std::optional<boost::json::object> unverified_claims(std::string_view token, const token_limits& limits = {});

/// Verifies signature over signing_input with key and alg. Errors: alg_key_mismatch (key does not
/// allow alg), key_too_short, bad_signature (wrong length, ECDSA r or s zero or >= n, RSA length
/// != modulus length, or the check fails). The OpenSSL result is accepted only when it is exactly 1.
std::error_code verify_signature(const key& k, algorithm alg, std::string_view signing_input,
                                 std::span<const std::uint8_t> signature);

/// Produces the raw JWS signature (ECDSA as fixed-length R||S). Errors: alg_key_mismatch,
/// not_private_key, key_too_short, crypto_failure.
result<std::vector<std::uint8_t>> create_signature(const key& k, algorithm alg,
                                                   std::string_view signing_input);

struct sign_options {
    std::optional<std::string> typ;    ///< e.g. "at+jwt" (RFC 9068); absent: no typ member
    bool include_kid = true;           ///< add the key's kid (if it has one)
    boost::json::object extra_header;  ///< more members; alg, kid, typ here are overridden; crit,
                                       ///< jwk, jku, x5u, x5c are refused (bad_header_type)
};

/// Compact JWS of payload (any bytes; normally claims JSON) signed with k. alg must be allowed by
/// k. Errors as create_signature(), plus bad_header_type.
result<std::string> sign(const key& k, algorithm alg, std::string_view payload,
                         const sign_options& options = {});
/// Same with a claims object serialized by Boost.JSON.
result<std::string> sign(const key& k, algorithm alg, const boost::json::object& claims,
                         const sign_options& options = {});

}  // namespace tollgate::jose
