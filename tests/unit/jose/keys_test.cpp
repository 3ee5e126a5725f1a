// Keys: PEM, X.509, JWK import/export round trips, generation, pinning (RFC 7517, 7518 §6, 8705).
#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include <tollgate/jose/key.hpp>
#include <tollgate/jose/key_set.hpp>

#include "helpers.hpp"

namespace tollgate::jose {
namespace {

// A self-signed P-256 certificate made with `openssl req -x509`, its x5t#S256 computed by
// `openssl x509 -outform DER | openssl dgst -sha256 -binary | basenc --base64url` and its public key.
constexpr std::string_view certificate_pem = R"(-----BEGIN CERTIFICATE-----
MIIBkTCCATegAwIBAgIURviGpSyagaz93v2Q3eEpncPzZ9swCgYIKoZIzj0EAwIw
HTEbMBkGA1UEAwwSdG9sbGdhdGUtam9zZS10ZXN0MCAXDTI2MTEyODEyNDMwOVoY
DzIxMjYxMTA0MTI0MzA5WjAdMRswGQYDVQQDDBJ0b2xsZ2F0ZS1qb3NlLXRlc3Qw
WTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAAQSRX+xZRpBQRxxSeiZ1EnquieQhDQA
S9ry/pVa0iP+lKKmXPsqbFLdozYNj6qK5LvooXrMjfbVdenyZXp+2LEDo1MwUTAd
BgNVHQ4EFgQUanxxbLfRG2o6WiFLfCrXA/eTgngwHwYDVR0jBBgwFoAUanxxbLfR
G2o6WiFLfCrXA/eTgngwDwYDVR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNIADBF
AiAEBNedmEcCRdPzE3f6EkFp/XhI+fVeEj3vlOPCNGazbgIhAMyvAp9t5tNTIHrY
Jwe7IFnOeINYcdAOvBGzAa9GmcTC
-----END CERTIFICATE-----
)";
constexpr std::string_view certificate_x5t_s256 = "Pu5YyiBh1K6LaJpMmbaYORUPi0OWz1pMhVHyYBbFEPI";
constexpr std::string_view certificate_public_pem = R"(-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEEkV/sWUaQUEccUnomdRJ6ronkIQ0
AEva8v6VWtIj/pSiplz7KmxS3aM2DY+qiuS76KF6zI321XXp8mV6ftixAw==
-----END PUBLIC KEY-----
)";
constexpr std::string_view rsa1024_public_pem = R"(-----BEGIN PUBLIC KEY-----
MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQC1AdHi8RkuzAqxSMiJHNftqgul
RJrlSEWakYFzP+zmUSYkSujSl8y1laKqrDg/MA39QbHd38RDd2SeecY0Z6blnMhq
7vUx7mLUTxO1GSC+8uj1iGC08fvSP1bGHPPWdifvITMyBPc9gUi1hQ1bluAf48jn
Ac/wfm3y8yVMK9DSrQIDAQAB
-----END PUBLIC KEY-----
)";
constexpr std::string_view rsa_pkcs1_public_pem = R"(-----BEGIN RSA PUBLIC KEY-----
MIIBCgKCAQEAzl3E4qIpf1SVYzUUP0ca+ExUO8dtPCg+x4Vq8Iaz4Asu4H574G+6
Dv19usPrQaFV1tqOc9j1r6cZBhzosIoYE6bRgmkRxN4AWqsrVi1vpOkKYpVptPHY
TY9b6xBT3Q7m2CY68qp3/oOOKbKzfisB/A/mIfP2Mi47H+c0B4f3crME0gf/8rR7
7S8aFIRDbkcPzLVBzLFYMHZ8b254mqm5Y/fVgmTncw1UxroPryf9yge4QNbY1xw6
exc7ZbdHkvYa0fuB7kE4otW3K6VXAbMyLaqMeUqkYMqGQkrT42SMFZ3qIvAXHuQR
3GcVF+1O4YPpUS4j/jg/atXmcnhAn6hD9wIDAQAB
-----END RSA PUBLIC KEY-----
)";
constexpr std::string_view ed448_public_pem = R"(-----BEGIN PUBLIC KEY-----
MEMwBQYDK2VxAzoAjJiVLWHB/rJBzK3yWVrcSnr/3Iuvy5GmKaCyerQ8+055+xsw
t0hxXb/3xdo+oE5YuzzElzYyxjEA
-----END PUBLIC KEY-----
)";
constexpr std::string_view secp256k1_public_pem = R"(-----BEGIN PUBLIC KEY-----
MFYwEAYHKoZIzj0CAQYFK4EEAAoDQgAEm7hii9SxbzJxRBWixiGYguYAUAlPKkZS
O6/x9etRMNhjgCq1wwIowrMMLbKxp0cdKCc9WutwF3mOw6LybaOkPQ==
-----END PUBLIC KEY-----
)";

std::span<const std::uint8_t> bytes(std::string_view s) {
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

TEST(Keys, CertificateKeyAndRfc8705Thumbprint) {
    auto k = key::from_certificate(bytes(certificate_pem),
                                   key_options{.kid = "cert", .alg = algorithm::es256, .use = {}});
    ASSERT_TRUE(k) << k.error().message();
    EXPECT_EQ(k->type(), key_type::ec);
    EXPECT_EQ(k->curve(), "P-256");
    EXPECT_FALSE(k->is_private());
    EXPECT_EQ(k->certificate_x5t_s256(), certificate_x5t_s256);
    EXPECT_EQ(*x5t_s256(bytes(certificate_pem)), certificate_x5t_s256);
    EXPECT_EQ(*k->public_pem(), certificate_public_pem);
    EXPECT_EQ(k->thumbprint(), key::from_pem(certificate_public_pem)->thumbprint());
    EXPECT_EQ(x5t_s256(bytes("not a certificate")).error(), errc::bad_key);
}

TEST(Keys, PemForms) {
    auto pkcs1 = key::from_pem(rsa_pkcs1_public_pem);
    ASSERT_TRUE(pkcs1) << pkcs1.error().message();
    EXPECT_EQ(pkcs1->type(), key_type::rsa);
    EXPECT_EQ(pkcs1->bits(), 2048);
    EXPECT_EQ(key::from_pem(rsa1024_public_pem).error(), errc::key_too_short);
    EXPECT_EQ(key::from_pem(ed448_public_pem).error(), errc::unsupported_key);
    EXPECT_EQ(key::from_pem(secp256k1_public_pem).error(), errc::unsupported_key);
    EXPECT_EQ(key::from_pem("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n").error(),
              errc::bad_key);
    EXPECT_EQ(
        key::from_pem(certificate_public_pem, key_options{.kid = {}, .alg = algorithm::es384, .use = {}})
            .error(),
        errc::alg_key_mismatch);
    const auto& k = test::test_keys::get();
    for (const key* original : {&k.rsa, &k.es256, &k.es384, &k.es512, &k.ed}) {
        auto priv = key::from_pem(*original->private_pem());
        ASSERT_TRUE(priv);
        EXPECT_TRUE(priv->is_private());
        EXPECT_EQ(priv->thumbprint(), original->thumbprint());
        auto pub = key::from_pem(*original->public_pem());
        ASSERT_TRUE(pub);
        EXPECT_FALSE(pub->is_private());
        EXPECT_EQ(pub->private_pem().error(), errc::not_private_key);
    }
}

TEST(Keys, JwkRoundTripForEveryType) {
    const auto& k = test::test_keys::get();
    for (const key* original : {&k.rsa, &k.es256, &k.es384, &k.es512, &k.ed}) {
        auto priv = key::from_jwk(*original->to_private_jwk());
        ASSERT_TRUE(priv) << priv.error().message();
        EXPECT_TRUE(priv->is_private());
        EXPECT_EQ(priv->kid(), original->kid());
        EXPECT_EQ(priv->alg(), original->alg());
        EXPECT_EQ(priv->thumbprint(), original->thumbprint());
        auto pub_json = original->public_jwk();
        ASSERT_TRUE(pub_json);
        for (std::string_view secret_member : {"d", "p", "q", "dp", "dq", "qi", "k"}) {
            EXPECT_FALSE(pub_json->contains(secret_member));
        }
        // What the private key signs, the published public key verifies.
        const algorithm alg = *original->alg();
        auto sig = create_signature(*priv, alg, "header.payload");
        ASSERT_TRUE(sig);
        EXPECT_FALSE(verify_signature(test::public_of(*original), alg, "header.payload", *sig));
        EXPECT_EQ(verify_signature(test::public_of(*original), alg, "header.payloaD", *sig),
                  errc::bad_signature);
    }
    auto hs = key::from_jwk(*k.hs256.to_private_jwk());
    ASSERT_TRUE(hs);
    EXPECT_EQ(hs->thumbprint(), k.hs256.thumbprint());
    EXPECT_EQ(k.hs256.to_public_jwk().error(), errc::bad_key);  // a secret has no public form
}

TEST(Keys, EverySignatureAlgorithmSignsAndVerifies) {
    for (algorithm alg :
         {algorithm::hs256, algorithm::hs384, algorithm::hs512, algorithm::rs256, algorithm::rs384,
          algorithm::rs512, algorithm::ps256, algorithm::ps384, algorithm::ps512, algorithm::es256,
          algorithm::es384, algorithm::es512, algorithm::eddsa}) {
        // One RSA key serves all six RSA algorithms (RSA key generation is slow).
        const key k =
            required_key_type(alg) == key_type::rsa
                ? test::test_keys::get().rsa.with_options(key_options{.kid = "k", .alg = alg, .use = "sig"})
                : key::generate(alg, "k");
        EXPECT_EQ(k.alg(), alg);
        auto token = sign(k, alg, std::string_view(R"({"sub":"x"})"),
                          sign_options{.typ = "at+jwt", .include_kid = true, .extra_header = {}});
        ASSERT_TRUE(token) << algorithm_name(alg);
        auto parsed = parse_compact(*token);
        ASSERT_TRUE(parsed);
        EXPECT_EQ(parsed->alg, alg);
        EXPECT_EQ(parsed->kid, "k");
        EXPECT_EQ(parsed->typ, "at+jwt");
        EXPECT_FALSE(verify_signature(test::public_of(k), alg, parsed->signing_input(), parsed->signature))
            << algorithm_name(alg);
    }
}

TEST(Keys, MalformedJwksAreRejectedOrSkipped) {
    EXPECT_EQ(key_set::from_json("[]").error(), errc::bad_json);
    EXPECT_EQ(key_set::from_json(R"({"kys":[]})").error(), errc::bad_key);
    EXPECT_EQ(key_set::from_json(R"({"keys":{}})").error(), errc::bad_key);
    EXPECT_EQ(key_set::from_json(R"({"keys":[1]})").error(), errc::bad_key);
    std::string many = R"({"keys":[)";
    for (int i = 0; i < 65; ++i) {
        many += std::string(i ? "," : "") + R"({"kty":"none"})";
    }
    EXPECT_EQ(key_set::from_json(many + "]}").error(), errc::too_many_keys);
    // Unusable keys are skipped (RFC 7517 §5): unknown kty, X25519, short RSA, bad point, enc use.
    const std::string mixed =
        R"({"keys":[{"kty":"XYZ"},{"kty":"OKP","crv":"X25519","x":"3p7bfXt9wbTTW2HC7OQ1Nz-DQ8hbeGdNrfx-FG-IK08"},)"
        R"({"kty":"RSA","n":"sXch","e":"AQAB"},)"
        R"({"kty":"EC","crv":"P-256","x":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","y":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"},)"
        R"({"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","kid":"ok"}]})";
    auto set = key_set::from_json(mixed);
    ASSERT_TRUE(set) << set.error().message();
    EXPECT_EQ(set->size(), 1U);
    EXPECT_EQ(set->skipped(), 4U);
    EXPECT_NE(set->find("ok", algorithm::eddsa), nullptr);
}

TEST(Keys, JwkValidation) {
    EXPECT_EQ(key::from_jwk(R"({"kty":"oct","k":"c2hvcnQ"})").error(), errc::key_too_short);
    EXPECT_EQ(key::from_jwk(R"({"kty":"OKP","crv":"Ed448","x":"AA"})").error(), errc::unsupported_key);
    EXPECT_EQ(key::from_jwk(R"({"kty":"EC","crv":"P-256K","x":"AA","y":"AA"})").error(),
              errc::unsupported_key);
    EXPECT_EQ(key::from_jwk(R"({"kty":"EC","crv":"P-256","x":"AA","y":"AA"})").error(), errc::bad_key);
    EXPECT_EQ(key::from_jwk(R"({"kty":1})").error(), errc::bad_key);
    EXPECT_EQ(key::from_jwk(R"({"kty":"RSA","n":"AQAB","e":"AQAB","kty":"EC"})").error(),
              errc::duplicate_member);
    // "alg" must fit kty and curve; unknown alg values (RSA-OAEP) are not signature keys.
    const auto& k = test::test_keys::get();
    auto jwk = *k.es256.public_jwk();
    jwk["alg"] = "ES384";
    EXPECT_EQ(key::from_jwk(jwk).error(), errc::alg_key_mismatch);
    jwk["alg"] = "HS256";
    EXPECT_EQ(key::from_jwk(jwk).error(), errc::alg_key_mismatch);
    jwk["alg"] = "RSA-OAEP";
    EXPECT_EQ(key::from_jwk(jwk).error(), errc::unsupported_key);
    jwk["alg"] = "none";
    EXPECT_EQ(key::from_jwk(jwk).error(), errc::unsupported_key);
    jwk.erase("alg");
    jwk["key_ops"] = boost::json::array{"encrypt"};
    EXPECT_EQ(key::from_jwk(jwk).error(), errc::unsupported_key);
    jwk["key_ops"] = boost::json::array{"verify"};
    EXPECT_TRUE(key::from_jwk(jwk));
    // An Ed25519 private key whose x does not belong to d.
    EXPECT_EQ(
        key::from_jwk(R"({"kty":"OKP","crv":"Ed25519","d":"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A",)"
                      R"("x":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"})")
            .error(),
        errc::bad_key);
}

TEST(Keys, KeySetLookupAndPublication) {
    const auto& k = test::test_keys::get();
    key_set set;
    set.add(test::public_of(k.rsa));
    set.add(test::public_of(k.es256));
    set.add(k.hs256);
    EXPECT_NE(set.find("rsa-1", algorithm::rs256), nullptr);
    EXPECT_EQ(set.find("rsa-1", algorithm::hs256), nullptr);
    EXPECT_TRUE(set.has_kid("ec-1"));
    EXPECT_EQ(set.candidates(algorithm::es256).size(), 1U);
    auto published = key_set::from_json(set.to_json());
    ASSERT_TRUE(published);
    EXPECT_EQ(published->size(), 2U);  // the HMAC secret is not published
    EXPECT_EQ(set.to_json().find("\"d\""), std::string::npos);
    EXPECT_EQ(set.remove("ec-1"), 1U);
    EXPECT_EQ(set.size(), 2U);
}

TEST(Keys, ConcurrentVerificationWithSharedKeys) {
    const auto& k = test::test_keys::get();
    struct item {
        const key* signer;
        algorithm alg;
        std::vector<std::uint8_t> sig;
    };
    std::vector<item> items;
    for (auto [signer, alg] : {std::pair{&k.rsa, algorithm::rs256}, std::pair{&k.es256, algorithm::es256},
                               std::pair{&k.ed, algorithm::eddsa}, std::pair{&k.hs256, algorithm::hs256}}) {
        items.push_back({signer, alg, *create_signature(*signer, alg, "concurrent.input")});
    }
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&] {
            for (int i = 0; i < 50; ++i) {
                for (const auto& it : items) {
                    if (verify_signature(*it.signer, it.alg, "concurrent.input", it.sig)) {
                        ++failures;
                    }
                }
            }
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    EXPECT_EQ(failures.load(), 0);
}

TEST(Keys, PerThreadContextCacheNeverMixesKeys) {
    // More keys than the per-thread cache holds (16), interleaved, with failures in between: every
    // verification must use its own key, and a failure must not poison later successes.
    std::vector<key> keys;
    std::vector<std::vector<std::uint8_t>> sigs;
    for (int i = 0; i < 20; ++i) {
        keys.push_back(key::generate(i % 2 == 0 ? algorithm::es256 : algorithm::hs256, std::to_string(i)));
        sigs.push_back(*create_signature(keys.back(), *keys.back().alg(), "cache.input"));
    }
    for (int round = 0; round < 3; ++round) {
        for (std::size_t i = 0; i < keys.size(); ++i) {
            const algorithm alg = *keys[i].alg();
            EXPECT_FALSE(verify_signature(keys[i], alg, "cache.input", sigs[i])) << i;
            const std::size_t j = (i + 2) % keys.size();  // same algorithm, other key
            EXPECT_EQ(verify_signature(keys[j], alg, "cache.input", sigs[i]), errc::bad_signature) << i;
            EXPECT_FALSE(verify_signature(keys[i], alg, "cache.input", sigs[i])) << i;
        }
    }
}

}  // namespace
}  // namespace tollgate::jose
