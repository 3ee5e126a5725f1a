// One negative test per published token attack (docs: /work/shared/research/hostile-inputs.md B3,
// RFC 8725 §2-3). Each token below would be accepted by some past library; ours must refuse it with
// the error naming the check.
#include <chrono>
#include <string>

#include <boost/json/serialize.hpp>
#include <gtest/gtest.h>

#include <tollgate/common/clock.hpp>
#include <tollgate/jose/jwt.hpp>

#include "helpers.hpp"

namespace tollgate::jose {
namespace {

using namespace std::chrono_literals;
using test::forge;
using test::test_keys;

constexpr std::string_view claims =
    R"({"iss":"https://as.example","aud":"broker","sub":"dev1","exp":1700000600})";

class Attack : public ::testing::Test {
  protected:
    Attack() {
        const auto& k = test_keys::get();
        keys_.add(test::public_of(k.rsa));
        keys_.add(test::public_of(k.rsa_unpinned));
        keys_.add(test::public_of(k.es256));
        keys_.add(test::public_of(k.ed));
        policy_.allowed_algs = {algorithm::rs256, algorithm::ps256, algorithm::es256,
                                algorithm::es384, algorithm::eddsa, algorithm::hs256};
        policy_.issuers = {"https://as.example"};
        policy_.audiences = {"broker"};
        policy_.leeway = 0s;
    }
    std::error_code verify(std::string_view token) const {
        verifier v(keys_, policy_, clock_);
        auto r = v.verify(token);
        return r ? std::error_code{} : r.error();
    }

    key_set keys_;
    validation_policy policy_;
    common::manual_clock clock_;  // 1'700'000'000
};

TEST_F(Attack, Baseline_ValidTokensAreAccepted) {
    const auto& k = test_keys::get();
    EXPECT_FALSE(verify(forge(R"({"alg":"RS256","kid":"rsa-1"})", claims, k.rsa, algorithm::rs256)));
    EXPECT_FALSE(verify(forge(R"({"alg":"ES256","kid":"ec-1"})", claims, k.es256, algorithm::es256)));
    EXPECT_FALSE(verify(forge(R"({"alg":"EdDSA"})", claims, k.ed, algorithm::eddsa)));
}

TEST_F(Attack, AlgNoneInEveryCaseIsRejected) {  // RFC 8725 §3.1
    for (std::string_view alg : {"none", "None", "NONE", "nOnE", "NoNe"}) {
        const std::string header = R"({"alg":")" + std::string(alg) + R"("})";
        const std::string unsigned_token = base64url_encode(header) + "." + base64url_encode(claims) + ".";
        EXPECT_EQ(verify(unsigned_token), errc::malformed_token) << alg;  // empty signature
        EXPECT_EQ(verify(unsigned_token + "c2ln"), errc::alg_none) << alg;
    }
}

TEST_F(Attack, AlgMissingOrNotAStringIsRejected) {
    const auto& k = test_keys::get();
    EXPECT_EQ(verify(forge(R"({"kid":"rsa-1"})", claims, k.rsa, algorithm::rs256)), errc::missing_alg);
    EXPECT_EQ(verify(forge(R"({"alg":256})", claims, k.rsa, algorithm::rs256)), errc::missing_alg);
    EXPECT_EQ(verify(forge(R"({"alg":["RS256"]})", claims, k.rsa, algorithm::rs256)), errc::missing_alg);
    EXPECT_EQ(verify(forge(R"({"alg":"rs256"})", claims, k.rsa, algorithm::rs256)), errc::unknown_alg);
    EXPECT_EQ(verify(forge(R"({"alg":"RS1"})", claims, k.rsa, algorithm::rs256)), errc::unknown_alg);
}

TEST_F(Attack, AlgOutsideThePolicyIsRejected) {
    policy_.allowed_algs = {algorithm::es256};
    const auto& k = test_keys::get();
    EXPECT_EQ(verify(forge(R"({"alg":"RS256","kid":"rsa-1"})", claims, k.rsa, algorithm::rs256)),
              errc::alg_not_allowed);
}

TEST_F(Attack, RsaPublicKeyAsHmacSecretPemForm) {  // McLean 2015, CVE-2016-10555
    const auto& k = test_keys::get();
    const std::string pem = *k.rsa.public_pem();
    auto fake = key::hmac(std::span(reinterpret_cast<const std::uint8_t*>(pem.data()), pem.size()),
                          algorithm::hs256, "rsa-1");
    ASSERT_TRUE(fake);
    EXPECT_EQ(verify(forge(R"({"alg":"HS256","kid":"rsa-1"})", claims, *fake, algorithm::hs256)),
              errc::alg_key_mismatch);
    EXPECT_EQ(verify(forge(R"({"alg":"HS256","kid":"rsa-unpinned"})", claims, *fake, algorithm::hs256)),
              errc::alg_key_mismatch);
    EXPECT_EQ(verify(forge(R"({"alg":"HS256"})", claims, *fake, algorithm::hs256)), errc::no_matching_key);
}

TEST_F(Attack, RsaPublicKeyAsHmacSecretJwkForm) {  // CVE-2026-44699: RSA JWK without alg + HS256
    const auto& k = test_keys::get();
    const std::string jwk_text = *k.rsa_unpinned.to_public_jwk();
    const auto n = *base64url_decode(k.rsa.public_jwk()->at("n").as_string());
    for (const auto& secret : {std::vector<std::uint8_t>(jwk_text.begin(), jwk_text.end()), n}) {
        auto fake = key::hmac(secret, algorithm::hs256, "rsa-unpinned");
        ASSERT_TRUE(fake);
        EXPECT_EQ(verify(forge(R"({"alg":"HS256","kid":"rsa-unpinned"})", claims, *fake, algorithm::hs256)),
                  errc::alg_key_mismatch);
    }
    // At the primitive level too: an asymmetric key never computes an HMAC, and no HMAC key is empty.
    EXPECT_FALSE(k.rsa_unpinned.allows(algorithm::hs256));
    EXPECT_EQ(verify_signature(k.rsa_unpinned, algorithm::hs256, "a.b", std::vector<std::uint8_t>(32)),
              errc::alg_key_mismatch);
    EXPECT_EQ(key::hmac({}, algorithm::hs256).error(), errc::key_too_short);
    EXPECT_EQ(key::hmac(std::vector<std::uint8_t>(31, 1), algorithm::hs256).error(), errc::key_too_short);
    EXPECT_EQ(key::hmac(std::vector<std::uint8_t>(63, 1), algorithm::hs512).error(), errc::key_too_short);
}

TEST_F(Attack, PsychicEcdsaSignaturesAreRejected) {  // CVE-2022-21449
    const std::string header = R"({"alg":"ES256","kid":"ec-1"})";
    EXPECT_EQ(verify(test::with_signature(header, claims, std::vector<std::uint8_t>(64, 0))),
              errc::bad_signature);
    // DER SEQUENCE{INTEGER 0, INTEGER 0} ("MAYCAQACAQA")
    EXPECT_EQ(verify(std::string(base64url_encode(header)) + "." + base64url_encode(claims) + ".MAYCAQACAQA"),
              errc::bad_signature);
    // r = n, s = n; r = 1, s = 0; wrong lengths; a real signature in DER form.
    const std::vector<std::uint8_t> n = {0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF,
                                         0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xBC, 0xE6, 0xFA, 0xAD, 0xA7, 0x17,
                                         0x9E, 0x84, 0xF3, 0xB9, 0xCA, 0xC2, 0xFC, 0x63, 0x25, 0x51};
    std::vector<std::uint8_t> rn(n);
    rn.insert(rn.end(), n.begin(), n.end());
    EXPECT_EQ(verify(test::with_signature(header, claims, rn)), errc::bad_signature);
    std::vector<std::uint8_t> r1s0(64, 0);
    r1s0[31] = 1;
    EXPECT_EQ(verify(test::with_signature(header, claims, r1s0)), errc::bad_signature);
    const std::string good = forge(header, claims, test_keys::get().es256, algorithm::es256);
    auto sig = *base64url_decode(good.substr(good.rfind('.') + 1));
    for (std::size_t len : {63U, 65U, 72U}) {
        std::vector<std::uint8_t> s = sig;
        s.resize(len, 1);
        EXPECT_EQ(verify(test::with_signature(header, claims, s)), errc::bad_signature) << len;
    }
    EXPECT_FALSE(verify(good));
}

TEST_F(Attack, RsaSignatureLengthDifferentFromModulusIsRejected) {  // libjwt#281
    const std::string header = R"({"alg":"RS256","kid":"rsa-1"})";
    for (std::size_t len : {3U, 255U, 257U, 512U}) {
        EXPECT_EQ(verify(test::with_signature(header, claims, std::vector<std::uint8_t>(len, 7))),
                  errc::bad_signature);
    }
}

TEST_F(Attack, TwoOrFourSegmentsAndDotFloodsAreRejected) {  // CVE-2025-27144
    EXPECT_EQ(verify("abc"), errc::malformed_token);
    EXPECT_EQ(verify("eyJhbGciOiJSUzI1NiJ9.e30"), errc::malformed_token);
    EXPECT_EQ(verify("eyJhbGciOiJSUzI1NiJ9.e30.c2ln.c2ln"), errc::too_many_segments);
    EXPECT_EQ(verify("a.b.c.d.e"), errc::too_many_segments);  // JWE compact
    EXPECT_EQ(verify(".e30.c2ln"), errc::malformed_token);
    EXPECT_EQ(verify(std::string(8000, '.')), errc::too_many_segments);
    EXPECT_EQ(verify(std::string(100'000, '.')), errc::token_too_large);
    policy_.limits.max_token_bytes = 1 << 20;
    EXPECT_EQ(verify(std::string(100'000, '.')), errc::too_many_segments);
}

TEST_F(Attack, NonCanonicalBase64IsRejected) {  // cpp-jwt#111, golang-jwt#502
    const std::string good =
        forge(R"({"alg":"ES256","kid":"ec-1"})", claims, test_keys::get().es256, algorithm::es256);
    ASSERT_FALSE(verify(good));
    const std::size_t d1 = good.find('.');
    const std::size_t d2 = good.rfind('.');
    EXPECT_EQ(verify(good + "="), errc::bad_base64);
    EXPECT_EQ(verify(good.substr(0, d2) + ".+" + good.substr(d2 + 2)), errc::bad_base64);
    EXPECT_EQ(verify(good.substr(0, d1) + "=" + good.substr(d1)), errc::bad_base64);
    EXPECT_EQ(verify(good.substr(0, d1 + 1) + " " + good.substr(d1 + 1)), errc::bad_base64);
    EXPECT_EQ(verify(good.substr(0, d1 + 1) + "\n" + good.substr(d1 + 1)), errc::bad_base64);
    // A 64-byte signature ends in a character carrying 4 unused bits: flip one of them.
    std::string trailing = good;
    char& last = trailing.back();
    const std::string_view alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    last = alphabet[alphabet.find(last) | 1];
    EXPECT_EQ(verify(trailing), errc::bad_base64);
}

TEST_F(Attack, OneMegabyteHeaderIsRejectedBeforeDecoding) {
    const std::string header = R"({"alg":"RS256","x":")" + std::string(1 << 20, 'a') + "\"}";
    const std::string token = base64url_encode(header) + "." + base64url_encode(claims) + ".c2ln";
    EXPECT_EQ(verify(token), errc::token_too_large);
    policy_.limits.max_token_bytes = 4 << 20;
    EXPECT_EQ(verify(token), errc::json_too_large);  // header JSON limit
}

TEST_F(Attack, DeeplyNestedJsonIsRejected) {
    const auto& k = test_keys::get();
    policy_.limits.max_token_bytes = 1 << 20;
    policy_.limits.claims_json.max_bytes = 1 << 20;
    policy_.limits.header_json.max_bytes = 1 << 20;
    const std::string deep = R"({"x":)" + std::string(10'000, '[') + std::string(10'000, ']') + "}";
    EXPECT_EQ(verify(forge(R"({"alg":"ES256","kid":"ec-1"})", deep, k.es256, algorithm::es256)),
              errc::json_too_deep);
    const std::string deep_header =
        R"({"alg":"ES256","x":)" + std::string(10'000, '[') + std::string(10'000, ']') + "}";
    EXPECT_EQ(verify(forge(deep_header, claims, k.es256, algorithm::es256)), errc::json_too_deep);
}

TEST_F(Attack, DuplicateNamesAreRejected) {  // RFC 8725 §3.7 parser differentials
    const auto& k = test_keys::get();
    EXPECT_EQ(verify(forge(R"({"alg":"ES256","kid":"ec-1"})",
                           R"({"iss":"https://as.example","aud":"broker","exp":1,"exp":9999999999})", k.es256,
                           algorithm::es256)),
              errc::duplicate_member);
    EXPECT_EQ(verify(forge(
                  R"({"alg":"ES256","kid":"ec-1","sub":"a"})",
                  R"({"iss":"https://as.example","aud":"broker","exp":1700000600,"sub":"a","sub":"admin"})",
                  k.es256, algorithm::es256)),
              errc::duplicate_member);
    EXPECT_EQ(
        verify(forge(R"({"alg":"none","alg":"ES256","kid":"ec-1"})", claims, k.es256, algorithm::es256)),
        errc::duplicate_member);
}

TEST_F(Attack, KidIsOnlyAnOpaqueLookupKey) {  // RFC 8725 §3.10
    const auto& k = test_keys::get();
    policy_.limits.max_token_bytes = 64 * 1024;  // let the 10 KB kid reach the lookup
    policy_.limits.header_json.max_bytes = 32 * 1024;
    policy_.limits.header_json.max_string_bytes = 16 * 1024;
    for (std::string kid :
         {std::string("../../../../dev/null"), std::string("' OR '1'='1"), std::string("*)(uid=*"),
          std::string(10'000, 'k'), std::string("ec-1\0x", 6), std::string("ec-1 ")}) {
        boost::json::object h{{"alg", "ES256"}, {"kid", kid}};
        EXPECT_EQ(verify(forge(boost::json::serialize(h), claims, k.es256, algorithm::es256)),
                  errc::unknown_kid);
    }
    EXPECT_EQ(verify(forge(R"({"alg":"ES256","kid":7})", claims, k.es256, algorithm::es256)),
              errc::bad_header_type);
    // A kid with a NUL byte is matched bytewise like any other.
    keys_.add(test::public_of(k.es256).with_options(
        key_options{.kid = std::string("a\0b", 3), .alg = {}, .use = {}}));
    EXPECT_FALSE(verify(forge(R"({"alg":"ES256","kid":"a\u0000b"})", claims, k.es256, algorithm::es256)));
}

TEST_F(Attack, EmbeddedKeysAndKeyUrlsAreRejected) {  // CVE-2018-0114, RFC 8725 §3.10
    const key attacker = key::generate(algorithm::es256);
    const std::string jwk = *attacker.to_public_jwk();
    for (const std::string& header :
         {R"({"alg":"ES256","jwk":)" + jwk + "}",
          std::string(R"({"alg":"ES256","jku":"https://evil.example/jwks"})"),
          std::string(R"({"alg":"ES256","x5u":"https://evil.example/cert"})"),
          std::string(R"({"alg":"ES256","x5c":["MIIB"]})"),
          std::string(R"({"alg":"ES256","kid":"ec-1","jku":"https://as.example/jwks"})")}) {
        EXPECT_EQ(verify(forge(header, claims, attacker, algorithm::es256)), errc::embedded_key_rejected)
            << header;
    }
}

TEST_F(Attack, CritIsRejected) {  // RFC 7515 §4.1.11
    const auto& k = test_keys::get();
    EXPECT_EQ(verify(forge(R"({"alg":"ES256","kid":"ec-1","crit":["foo"],"foo":1})", claims, k.es256,
                           algorithm::es256)),
              errc::crit_unsupported);
    EXPECT_EQ(verify(forge(R"({"alg":"ES256","kid":"ec-1","crit":[]})", claims, k.es256, algorithm::es256)),
              errc::crit_unsupported);
    EXPECT_EQ(verify(forge(R"({"alg":"ES256","kid":"ec-1","b64":false,"crit":["b64"]})", claims, k.es256,
                           algorithm::es256)),
              errc::crit_unsupported);
}

TEST_F(Attack, JweHeadersAreRejected) {
    const auto& k = test_keys::get();
    EXPECT_EQ(verify(forge(R"({"alg":"ES256","kid":"ec-1","zip":"DEF"})", claims, k.es256, algorithm::es256)),
              errc::unsupported_header);
    EXPECT_EQ(
        verify(forge(R"({"alg":"ES256","kid":"ec-1","enc":"A128GCM"})", claims, k.es256, algorithm::es256)),
        errc::unsupported_header);
}

TEST_F(Attack, KeyWhoseTypeDoesNotFitTheAlgorithm) {
    const auto& k = test_keys::get();
    // ES384 token pointing at the P-256 key; EdDSA at the EC key; ES256 at the RSA key.
    EXPECT_EQ(verify(forge(R"({"alg":"ES384","kid":"ec-1"})", claims, k.es384, algorithm::es384)),
              errc::alg_key_mismatch);
    EXPECT_EQ(verify(forge(R"({"alg":"EdDSA","kid":"ec-1"})", claims, k.ed, algorithm::eddsa)),
              errc::alg_key_mismatch);
    EXPECT_EQ(verify(forge(R"({"alg":"ES256","kid":"rsa-1"})", claims, k.es256, algorithm::es256)),
              errc::alg_key_mismatch);
    // The RS256-pinned key refuses PS256 even though both are RSA.
    EXPECT_EQ(verify(forge(R"({"alg":"PS256","kid":"rsa-1"})", claims, k.rsa_unpinned, algorithm::ps256)),
              errc::alg_key_mismatch);
    EXPECT_FALSE(
        verify(forge(R"({"alg":"PS256","kid":"rsa-unpinned"})", claims, k.rsa_unpinned, algorithm::ps256)));
}

TEST_F(Attack, SignatureFromAnotherKeyIsRejected) {
    const key other = key::generate(algorithm::es256, "ec-1");
    EXPECT_EQ(verify(forge(R"({"alg":"ES256","kid":"ec-1"})", claims, other, algorithm::es256)),
              errc::bad_signature);
    const key other_ed = key::generate(algorithm::eddsa);
    EXPECT_EQ(verify(forge(R"({"alg":"EdDSA"})", claims, other_ed, algorithm::eddsa)), errc::bad_signature);
}

TEST_F(Attack, TamperedPayloadIsRejected) {
    const std::string good =
        forge(R"({"alg":"RS256","kid":"rsa-1"})", claims, test_keys::get().rsa, algorithm::rs256);
    const std::size_t d1 = good.find('.');
    const std::size_t d2 = good.rfind('.');
    const std::string evil = std::string(claims).replace(std::string(claims).find("dev1"), 4, "root");
    EXPECT_EQ(verify(good.substr(0, d1 + 1) + base64url_encode(evil) + good.substr(d2)), errc::bad_signature);
}

}  // namespace
}  // namespace tollgate::jose
