// libFuzzer target: compact JWS parsing and full JWT verification against a fixed key set.
// Property: never crashes, leaks or reads out of bounds; a token it accepts re-parses to the same
// header; nothing unsigned is ever accepted (the fixed keys' private halves are not reachable from
// the input, so acceptance of fuzzed input would mean a forgery).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include <tollgate/common/clock.hpp>
#include <tollgate/jose/jwt.hpp>

namespace {

using namespace tollgate;

// Public keys: RFC 7515 A.3 (P-256), RFC 8037 A (Ed25519), RFC 7515 A.2 (RSA); and the RFC 7515
// A.1 HMAC key, so HS256 tokens reach the signature check too.
constexpr std::string_view jwks = R"({"keys":[
{"kty":"EC","crv":"P-256","kid":"ec","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"},
{"kty":"OKP","crv":"Ed25519","kid":"ed","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"},
{"kty":"RSA","kid":"rsa","e":"AQAB","n":"ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ"},
{"kty":"oct","kid":"hs","k":"AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow"}
]})";

constexpr std::string_view a1_header = "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9";
constexpr std::string_view rfc7515_payload =
    "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ";

const jose::verifier& the_verifier() {
    static const common::manual_clock clock(common::system_time{std::chrono::seconds{1'300'000'000}});
    static const jose::verifier v = [] {
        auto keys = jose::key_set::from_json(jwks);
        if (!keys || keys->size() != 4) {
            std::abort();
        }
        jose::validation_policy policy;
        policy.allowed_algs = {jose::algorithm::es256, jose::algorithm::eddsa, jose::algorithm::rs256,
                               jose::algorithm::ps256, jose::algorithm::hs256};
        policy.require_exp = false;
        return jose::verifier(std::move(*keys), policy, clock);
    }();
    return v;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view token(reinterpret_cast<const char*>(data), size);
    auto parsed = jose::parse_compact(token);
    if (parsed) {
        auto again = jose::parse_compact(parsed->token);
        if (!again || again->header != parsed->header || again->signature != parsed->signature) {
            std::abort();
        }
    }
    auto verified = the_verifier().verify(token);
    if (verified) {
        // The only genuine signing inputs for these keys are the RFC 7515 A.1-A.3 examples (in the
        // seed corpus). Anything else verifying would be a forgery.
        const std::string_view input = token.substr(0, token.rfind('.'));
        if (input != std::string(a1_header) + "." + std::string(rfc7515_payload) &&
            input != std::string("eyJhbGciOiJSUzI1NiJ9.") + std::string(rfc7515_payload) &&
            input != std::string("eyJhbGciOiJFUzI1NiJ9.") + std::string(rfc7515_payload)) {
            std::abort();
        }
    }
    return 0;
}
