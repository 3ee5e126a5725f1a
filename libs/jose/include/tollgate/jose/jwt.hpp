#pragma once
// JWT validation (RFC 7519, RFC 8725, RFC 9068 access tokens): the one call a resource server
// makes. verifier::verify() does parse_compact(), key selection, signature verification and the
// claims checks of a validation_policy, against an injected clock, and returns the claims or the
// error naming the first failed check.
//
// Order of checks: size, segments, base64, header JSON, header rules (alg none, crit, embedded
// keys), alg in policy.allowed_algs, typ, key selection (kid: unknown_kid / alg_key_mismatch;
// no kid: every key allowing alg is tried, no_matching_key if none), signature, claims JSON,
// claim types, exp, nbf, iat, max_age, iss, aud, required claims.
// Nothing about the claims is trusted before the signature verified.
//
// Claim rules: NumericDate claims (exp, nbf, iat) must be non-negative integers <= 2^53
// (bad_claim_type otherwise; RFC 7519 permits fractions, we do not). exp is required unless
// require_exp is false. aud may be a string or a non-empty array of strings. scope may be a
// space-delimited string (RFC 8693 §4.2) or an array of strings.
//
// Thread-safety: a verifier is immutable; verify() may be called from any number of threads.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

#include <tollgate/common/clock.hpp>
#include <tollgate/jose/algorithm.hpp>
#include <tollgate/jose/error.hpp>
#include <tollgate/jose/jws.hpp>
#include <tollgate/jose/key_set.hpp>

namespace tollgate::jose {

struct validation_policy {
    /// Algorithms accepted at all (RFC 8725 §3.1). Empty means: refuse everything.
    std::vector<algorithm> allowed_algs{algorithm::rs256, algorithm::ps256, algorithm::es256,
                                        algorithm::eddsa};
    /// Accepted "iss" values, compared exactly. Empty: iss not checked (but see required_claims).
    std::vector<std::string> issuers;
    /// At least one "aud" entry must be one of these, compared exactly. Empty: aud not checked.
    std::vector<std::string> audiences;
    /// Claims that must be present (any type), e.g. {"sub", "jti"}.
    std::vector<std::string> required_claims;
    bool require_exp = true;
    std::chrono::seconds leeway{30};
    /// If set: iat is required and now - iat must not exceed max_age (+ leeway).
    std::optional<std::chrono::seconds> max_age;
    /// If set: exp - iat (exp - now when iat is absent) must not exceed it (+ leeway), so a token
    /// "valid until year 9999" is refused (hostile-inputs #67).
    std::optional<std::chrono::seconds> max_lifetime;
    /// If set: header typ must equal it ignoring ASCII case, with or without an "application/"
    /// prefix (RFC 7515 §4.1.9): "at+jwt" accepts "at+jwt", "AT+JWT", "application/at+jwt".
    std::optional<std::string> expected_typ;
    /// A token without kid is tried against at most this many keys allowing its alg (bounds the
    /// work an unauthenticated token can cause).
    std::size_t max_keys_without_kid = 4;
    token_limits limits;
};

/// The outcome of a successful verify().
class verified_token {
  public:
    verified_token(boost::json::object header, boost::json::object claims, algorithm alg, std::string kid);

    [[nodiscard]] const boost::json::object& header() const noexcept { return header_; }
    [[nodiscard]] const boost::json::object& claims() const noexcept { return claims_; }
    [[nodiscard]] algorithm alg() const noexcept { return alg_; }
    /// kid of the key that verified the token (empty if that key has none).
    [[nodiscard]] const std::string& key_id() const noexcept { return kid_; }

    /// String claims; nullopt if absent or not a string.
    [[nodiscard]] std::optional<std::string> iss() const;
    [[nodiscard]] std::optional<std::string> sub() const;
    [[nodiscard]] std::optional<std::string> jti() const;
    [[nodiscard]] std::optional<std::string> client_id() const;
    [[nodiscard]] std::optional<std::string> string_claim(std::string_view name) const;
    /// aud as a list (a string becomes a one-element list).
    [[nodiscard]] std::vector<std::string> aud() const;
    /// NumericDate claims as Unix seconds (validated integers).
    [[nodiscard]] std::optional<std::int64_t> exp() const;
    [[nodiscard]] std::optional<std::int64_t> nbf() const;
    [[nodiscard]] std::optional<std::int64_t> iat() const;
    /// scope: space-delimited string split on spaces (empty parts dropped), or array of strings.
    [[nodiscard]] std::vector<std::string> scope() const;
    /// cnf.x5t#S256 (RFC 8705 §3.1) if present and a string. verify() refuses a cnf that is not an
    /// object, whose x5t#S256 is not a non-empty string (bad_claim_type), or that holds any other
    /// confirmation method (jkt, jwk, jku, kid, ...: unsupported_confirmation), so a token bound to a
    /// key the caller cannot check is never taken as a bearer token (RFC 7800 §3, RFC 9449 §7.1).
    [[nodiscard]] std::optional<std::string> cnf_x5t_s256() const;

  private:
    boost::json::object header_;
    boost::json::object claims_;
    algorithm alg_;
    std::string kid_;
};

class verifier {
  public:
    /// keys is shared (not copied); swap in a new verifier or key set to rotate keys. The clock must
    /// outlive the verifier.
    verifier(std::shared_ptr<const key_set> keys, validation_policy policy, const common::clock& clock);
    verifier(key_set keys, validation_policy policy, const common::clock& clock);

    [[nodiscard]] result<verified_token> verify(std::string_view token) const;

    /// Claims checks only (exp, nbf, iat, max_age, iss, aud, required claims, claim types), for a
    /// claims object whose signature was verified elsewhere.
    [[nodiscard]] std::error_code check_claims(const boost::json::object& claims) const;

    [[nodiscard]] const validation_policy& policy() const noexcept { return policy_; }
    [[nodiscard]] const key_set& keys() const noexcept { return *keys_; }

  private:
    std::shared_ptr<const key_set> keys_;
    validation_policy policy_;
    const common::clock* clock_;
};

}  // namespace tollgate::jose
