// Conformance with the published examples of RFC 7515, 7517, 7520, 7638 and 8037.
#include <chrono>
#include <string>

#include <gtest/gtest.h>

#include <tollgate/common/clock.hpp>
#include <tollgate/jose/base64url.hpp>
#include <tollgate/jose/jws.hpp>
#include <tollgate/jose/jwt.hpp>
#include <tollgate/jose/key.hpp>
#include <tollgate/jose/key_set.hpp>

#include "vectors.hpp"

namespace tollgate::jose {
namespace {

using namespace std::chrono_literals;

key jwk(std::string_view text) {
    auto k = key::from_jwk(text);
    EXPECT_TRUE(k) << k.error().message();
    return std::move(k).value();
}

/// A clock one minute before the RFC 7515 examples expire.
common::manual_clock rfc7515_clock() {
    return common::manual_clock(common::system_time{std::chrono::seconds{test::rfc7515_exp - 60}});
}

validation_policy permissive(std::vector<algorithm> algs) {
    validation_policy p;
    p.allowed_algs = std::move(algs);
    p.leeway = 0s;
    return p;
}

TEST(Rfc7515, A1_Hs256VerifiesBeforeExpiryAndExpiresAfter) {
    auto clock = rfc7515_clock();
    verifier v(key_set({jwk(test::rfc7515_a1_jwk)}), permissive({algorithm::hs256}), clock);
    auto token = v.verify(test::rfc7515_a1_token);
    ASSERT_TRUE(token) << token.error().message();
    EXPECT_EQ(token->iss(), "joe");
    EXPECT_EQ(token->exp(), test::rfc7515_exp);
    EXPECT_EQ(token->claims().at("http://example.com/is_root").as_bool(), true);
    clock.advance(60s);
    EXPECT_EQ(v.verify(test::rfc7515_a1_token).error(), errc::expired);  // RFC 7519 §4.1.4
}

TEST(Rfc7515, A1_Hs256SignatureIsReproduced) {
    const std::string input(test::rfc7515_a1_token.substr(0, test::rfc7515_a1_token.rfind('.')));
    auto sig = create_signature(jwk(test::rfc7515_a1_jwk), algorithm::hs256, input);
    ASSERT_TRUE(sig);
    EXPECT_EQ(base64url_encode(*sig), "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
}

TEST(Rfc7515, A2_Rs256SignatureIsReproducedAndVerifies) {
    const key k = jwk(test::rfc7515_a2_jwk);
    EXPECT_TRUE(k.is_private());
    EXPECT_EQ(k.bits(), 2048);
    const std::string input = std::string("eyJhbGciOiJSUzI1NiJ9.") + std::string(test::rfc7515_payload_b64);
    auto sig = create_signature(k, algorithm::rs256, input);
    ASSERT_TRUE(sig);
    EXPECT_EQ(base64url_encode(*sig), test::rfc7515_a2_signature);  // PKCS#1 v1.5 is deterministic
    auto clock = rfc7515_clock();
    verifier v(key_set({jwk(*k.to_public_jwk())}), permissive({algorithm::rs256}), clock);
    auto token = v.verify(input + "." + std::string(test::rfc7515_a2_signature));
    ASSERT_TRUE(token) << token.error().message();
    EXPECT_EQ(token->iss(), "joe");
}

TEST(Rfc7515, A3_Es256Verifies) {
    const std::string token = std::string("eyJhbGciOiJFUzI1NiJ9.") + std::string(test::rfc7515_payload_b64) +
                              "." + std::string(test::rfc7515_a3_signature);
    auto clock = rfc7515_clock();
    verifier v(key_set({jwk(test::rfc7515_a3_jwk)}), permissive({algorithm::es256}), clock);
    auto verified = v.verify(token);
    ASSERT_TRUE(verified) << verified.error().message();
    EXPECT_EQ(verified->iss(), "joe");
}

TEST(Rfc7515, A3_Es256SignAndVerifyRoundTrip) {
    const key k = jwk(test::rfc7515_a3_jwk);
    auto sig = create_signature(k, algorithm::es256, "abc.def");
    ASSERT_TRUE(sig);
    EXPECT_EQ(sig->size(), 64U);  // RFC 7518 §3.4: R||S, 32 octets each
    EXPECT_FALSE(verify_signature(k, algorithm::es256, "abc.def", *sig));
}

TEST(Rfc7515, A4_Es512Verifies) {
    auto parsed = parse_compact(test::rfc7515_a4_token);
    ASSERT_TRUE(parsed);
    EXPECT_EQ(parsed->alg, algorithm::es512);
    EXPECT_EQ(parsed->signature.size(), 132U);  // 2 * 66 octets
    EXPECT_FALSE(verify_signature(jwk(test::rfc7515_a4_jwk), algorithm::es512, parsed->signing_input(),
                                  parsed->signature));
    EXPECT_EQ(*base64url_decode_string(parsed->payload_b64()), "Payload");
}

TEST(Rfc7515, A5_UnsecuredJwsIsRejected) {
    // RFC 8725 §3.1 / §2.1: "none" is never accepted; the empty signature is malformed as well.
    auto parsed = parse_compact(test::rfc7515_a5_token);
    ASSERT_FALSE(parsed);
    EXPECT_EQ(parsed.error(), errc::malformed_token);
    const std::string with_signature = std::string(test::rfc7515_a5_token) + "AAAA";
    EXPECT_EQ(parse_compact(with_signature).error(), errc::alg_none);
    auto clock = rfc7515_clock();
    verifier v(key_set({jwk(test::rfc7515_a1_jwk)}), permissive({algorithm::hs256}), clock);
    EXPECT_FALSE(v.verify(test::rfc7515_a5_token));
}

std::string rfc7520_token(std::string_view header, std::string_view signature) {
    return std::string(header) + "." + std::string(test::rfc7520_payload_b64) + "." + std::string(signature);
}

TEST(Rfc7520, PayloadEncoding) {
    EXPECT_EQ(base64url_encode(test::rfc7520_payload), test::rfc7520_payload_b64);
}

TEST(Rfc7520, Section4_1_Rs256IsReproducedAndVerifies) {
    const key k = jwk(test::rfc7520_rsa_private_jwk);
    EXPECT_EQ(k.kid(), "bilbo.baggins@hobbiton.example");
    const std::string input =
        std::string(test::rfc7520_4_1_header) + "." + std::string(test::rfc7520_payload_b64);
    auto sig = create_signature(k, algorithm::rs256, input);
    ASSERT_TRUE(sig);
    EXPECT_EQ(base64url_encode(*sig), test::rfc7520_4_1_signature);
    auto parsed = parse_compact(rfc7520_token(test::rfc7520_4_1_header, test::rfc7520_4_1_signature));
    ASSERT_TRUE(parsed);
    EXPECT_EQ(parsed->kid, "bilbo.baggins@hobbiton.example");
    EXPECT_FALSE(verify_signature(k, algorithm::rs256, parsed->signing_input(), parsed->signature));
}

TEST(Rfc7520, Section4_2_Ps384Verifies) {
    const key k = jwk(*jwk(test::rfc7520_rsa_private_jwk).to_public_jwk());
    auto parsed = parse_compact(rfc7520_token(test::rfc7520_4_2_header, test::rfc7520_4_2_signature));
    ASSERT_TRUE(parsed);
    EXPECT_EQ(parsed->alg, algorithm::ps384);
    EXPECT_FALSE(verify_signature(k, algorithm::ps384, parsed->signing_input(), parsed->signature));
    // The same bytes are not a valid PS256 or RS384 signature.
    EXPECT_EQ(verify_signature(k, algorithm::ps256, parsed->signing_input(), parsed->signature),
              errc::bad_signature);
    EXPECT_EQ(verify_signature(k, algorithm::rs384, parsed->signing_input(), parsed->signature),
              errc::bad_signature);
}

TEST(Rfc7520, Section4_3_Es512Verifies) {
    const key k = jwk(test::rfc7520_ec_public_jwk);
    EXPECT_EQ(k.curve(), "P-521");
    auto parsed = parse_compact(rfc7520_token(test::rfc7520_4_3_header, test::rfc7520_4_3_signature));
    ASSERT_TRUE(parsed);
    EXPECT_FALSE(verify_signature(k, algorithm::es512, parsed->signing_input(), parsed->signature));
}

TEST(Rfc7520, Section3_2_EcPrivateKeyMatchesPublicKey) {
    std::string private_jwk(test::rfc7520_ec_public_jwk);
    private_jwk.insert(private_jwk.size() - 1, R"(,"d":")" + std::string(test::rfc7520_ec_private_d) + "\"");
    const key k = jwk(private_jwk);
    EXPECT_TRUE(k.is_private());
    EXPECT_EQ(k.thumbprint(), jwk(test::rfc7520_ec_public_jwk).thumbprint());
}

TEST(Rfc7520, Section4_4_Hs256IsReproducedAndVerifies) {
    const key k = jwk(test::rfc7520_hmac_jwk);
    EXPECT_EQ(k.alg(), algorithm::hs256);
    const std::string input =
        std::string(test::rfc7520_4_4_header) + "." + std::string(test::rfc7520_payload_b64);
    auto sig = create_signature(k, algorithm::hs256, input);
    ASSERT_TRUE(sig);
    EXPECT_EQ(base64url_encode(*sig), test::rfc7520_4_4_signature);
    EXPECT_FALSE(
        verify_signature(k, algorithm::hs256, input, *base64url_decode(test::rfc7520_4_4_signature)));
}

TEST(Rfc8037, A_Ed25519SignatureIsReproducedAndVerifies) {
    const key k = jwk(test::rfc8037_private_jwk);
    EXPECT_EQ(k.type(), key_type::okp);
    EXPECT_TRUE(k.is_private());
    auto token = sign(k, algorithm::eddsa, test::rfc8037_payload,
                      sign_options{.typ = {}, .include_kid = false, .extra_header = {}});
    ASSERT_TRUE(token);
    EXPECT_EQ(*token, test::rfc8037_token);  // Ed25519 is deterministic (RFC 8032)
    const key pub = jwk(test::rfc8037_public_jwk);
    EXPECT_FALSE(pub.is_private());
    auto parsed = parse_compact(test::rfc8037_token);
    ASSERT_TRUE(parsed);
    EXPECT_FALSE(verify_signature(pub, algorithm::eddsa, parsed->signing_input(), parsed->signature));
}

TEST(Rfc8037, A3_Thumbprint) {
    EXPECT_EQ(jwk(test::rfc8037_public_jwk).thumbprint(), test::rfc8037_thumbprint);
    EXPECT_EQ(jwk(test::rfc8037_private_jwk).thumbprint(), test::rfc8037_thumbprint);
    // The public JWK holds exactly crv, kty and x (members in RFC 7638 order).
    EXPECT_EQ(*jwk(test::rfc8037_private_jwk).to_public_jwk(),
              R"({"crv":"Ed25519","kty":"OKP","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"})");
}

TEST(Rfc7638, Section3_1_RsaThumbprint) {
    EXPECT_EQ(jwk(test::rfc7638_jwk).thumbprint(), test::rfc7638_thumbprint);
}

TEST(Rfc7517, A1_PublicKeySetSkipsTheEncryptionKey) {
    auto set = key_set::from_json(test::rfc7517_a1_jwks);
    ASSERT_TRUE(set) << set.error().message();
    EXPECT_EQ(set->size(), 1U);  // the EC key is "use":"enc" (RFC 7517 §4.2), skipped per §5
    EXPECT_EQ(set->skipped(), 1U);
    ASSERT_NE(set->find("2011-04-29", algorithm::rs256), nullptr);
    EXPECT_EQ(set->find("2011-04-29", algorithm::ps256), nullptr);  // pinned to RS256 by "alg"
    EXPECT_EQ(set->find("1", algorithm::es256), nullptr);
}

TEST(Rfc7517, A2_EcPrivateKeyWithoutUse) {
    std::string text = R"({"kty":"EC","crv":"P-256","x":"MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4",)"
                       R"("y":"4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM","d":")" +
                       std::string(test::rfc7517_a2_ec_d) + R"("})";
    const key k = jwk(text);
    EXPECT_TRUE(k.is_private());
    EXPECT_TRUE(k.allows(algorithm::es256));
    EXPECT_FALSE(k.allows(algorithm::es384));
    auto sig = create_signature(k, algorithm::es256, "x.y");
    ASSERT_TRUE(sig);
    EXPECT_FALSE(verify_signature(k, algorithm::es256, "x.y", *sig));
}

TEST(Rfc7517, A3_SymmetricKeys) {
    auto set = key_set::from_json(test::rfc7517_a3_jwks);
    ASSERT_TRUE(set);
    EXPECT_EQ(set->size(), 1U);  // A128KW is not a signature algorithm
    const key* k = set->find("HMAC key used in JWS spec Appendix A.1 example", algorithm::hs256);
    ASSERT_NE(k, nullptr);
    EXPECT_EQ(k->secret().size(), 64U);
    EXPECT_EQ(set->to_json(), R"({"keys":[]})");  // symmetric keys are never published
}

}  // namespace
}  // namespace tollgate::jose
