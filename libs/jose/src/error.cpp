#include <tollgate/jose/error.hpp>

namespace tollgate::jose {
namespace {

class category final : public std::error_category {
  public:
    [[nodiscard]] const char* name() const noexcept override { return "tollgate.jose"; }
    [[nodiscard]] std::string message(int value) const override;
};

std::string category::message(int value) const {
    switch (static_cast<errc>(value)) {
        case errc::malformed_token:
            return "token is not a compact JWS (header.payload.signature)";
        case errc::too_many_segments:
            return "token has more than three segments";
        case errc::token_too_large:
            return "token exceeds the size limit";
        case errc::bad_base64:
            return "segment is not canonical base64url";
        case errc::bad_json:
            return "invalid JSON or not a JSON object";
        case errc::json_too_deep:
            return "JSON nesting exceeds the depth limit";
        case errc::json_too_large:
            return "JSON exceeds a size, member or string limit";
        case errc::duplicate_member:
            return "JSON object has a duplicate member name";
        case errc::missing_alg:
            return "header has no alg string";
        case errc::alg_none:
            return "alg none is never accepted";
        case errc::unknown_alg:
            return "alg is not a supported algorithm";
        case errc::alg_not_allowed:
            return "alg is not allowed by the policy";
        case errc::crit_unsupported:
            return "crit header names extensions that are not supported";
        case errc::embedded_key_rejected:
            return "header carries a key or key URL (jwk, jku, x5u, x5c)";
        case errc::unsupported_header:
            return "header member for an unsupported feature (enc, zip)";
        case errc::bad_header_type:
            return "header member has the wrong type or is not permitted";
        case errc::unknown_kid:
            return "no key has the token's kid";
        case errc::no_matching_key:
            return "no key is usable with the token's alg";
        case errc::alg_key_mismatch:
            return "the key does not allow the token's alg";
        case errc::bad_signature:
            return "signature is invalid";
        case errc::bad_claims:
            return "claims are not a JSON object";
        case errc::expired:
            return "token has expired (exp)";
        case errc::not_yet_valid:
            return "token is not yet valid (nbf)";
        case errc::issued_in_future:
            return "token was issued in the future (iat)";
        case errc::too_old:
            return "token is older than the maximum age (iat)";
        case errc::missing_claim:
            return "a required claim is missing";
        case errc::bad_issuer:
            return "issuer (iss) is not accepted";
        case errc::bad_audience:
            return "audience (aud) is not accepted";
        case errc::bad_type:
            return "token type (typ) is not the expected one";
        case errc::bad_claim_type:
            return "a registered claim has the wrong type or range";
        case errc::lifetime_too_long:
            return "token lifetime (exp) exceeds the maximum";
        case errc::unsupported_confirmation:
            return "token is bound to a key by a confirmation method that cannot be checked (cnf)";
        case errc::bad_key:
            return "key is malformed or inconsistent";
        case errc::key_too_short:
            return "key is too short for the algorithm";
        case errc::unsupported_key:
            return "key type, curve or algorithm is not supported";
        case errc::not_private_key:
            return "a private key is required";
        case errc::too_many_keys:
            return "key set has too many keys";
        case errc::crypto_failure:
            return "cryptographic library failure";
    }
    return "unknown tollgate.jose error";
}

}  // namespace

const std::error_category& jose_category() noexcept {
    static const category instance;
    return instance;
}

std::error_code make_error_code(errc e) noexcept {
    return {static_cast<int>(e), jose_category()};
}

}  // namespace tollgate::jose
