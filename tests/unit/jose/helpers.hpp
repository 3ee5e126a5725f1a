#pragma once
// Test helpers: keys generated once per process, and a forger that signs arbitrary header and
// payload text (so malformed-but-correctly-signed tokens can be built).
#include <string>
#include <string_view>

#include <gtest/gtest.h>

#include <tollgate/jose/base64url.hpp>
#include <tollgate/jose/jws.hpp>
#include <tollgate/jose/key.hpp>

#include "vectors.hpp"

namespace tollgate::jose::test {

/// One generated key per algorithm family, shared by all tests of the process.
struct test_keys {
    // RSA key generation is slow in debug builds and every test runs in its own process, so the
    // RSA key is the RFC 7520 §3.4 example key rather than a fresh one.
    key rsa = key::from_jwk(rfc7520_rsa_private_jwk)
                  ->with_options(key_options{.kid = "rsa-1", .alg = algorithm::rs256, .use = {}});
    key rsa_unpinned = rsa.with_options(key_options{.kid = "rsa-unpinned", .alg = {}, .use = {}});
    key es256 = key::generate(algorithm::es256, "ec-1");
    key es384 = key::generate(algorithm::es384, "ec-384");
    key es512 = key::generate(algorithm::es512, "ec-521");
    key ed = key::generate(algorithm::eddsa, "ed-1");
    key hs256 = key::generate(algorithm::hs256, "hs-1");

    static const test_keys& get() {
        static const test_keys keys;
        return keys;
    }
};

/// The public half of k as a key (through its JWK, as a JWKS consumer would see it).
inline key public_of(const key& k) {
    if (k.type() == key_type::oct) {
        return k;
    }
    auto pub = key::from_jwk(*k.to_public_jwk());
    EXPECT_TRUE(pub) << pub.error().message();
    return std::move(pub).value();
}

/// BASE64URL(header) '.' BASE64URL(payload) '.' BASE64URL(signature by k with alg).
inline std::string forge(std::string_view header_json, std::string_view payload, const key& k,
                         algorithm alg) {
    std::string input = base64url_encode(header_json) + "." + base64url_encode(payload);
    auto sig = create_signature(k, alg, input);
    EXPECT_TRUE(sig) << sig.error().message();
    return input + "." + base64url_encode(*sig);
}

/// The same with an arbitrary (attacker-chosen) signature.
inline std::string with_signature(std::string_view header_json, std::string_view payload,
                                  std::span<const std::uint8_t> signature) {
    return base64url_encode(header_json) + "." + base64url_encode(payload) + "." +
           base64url_encode(signature);
}

}  // namespace tollgate::jose::test
