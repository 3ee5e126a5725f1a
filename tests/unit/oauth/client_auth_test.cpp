// private_key_jwt (RFC 7523) with its jti replay cache, and tls_client_auth (RFC 8705) with
// certificate-bound access tokens (cnf.x5t#S256).
#include <memory>

#include <boost/json/object.hpp>
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <tollgate/jose/base64url.hpp>
#include <tollgate/jose/jws.hpp>
#include <tollgate/jose/key.hpp>
#include <tollgate/jose/key_set.hpp>

#include "support.hpp"

namespace tollgate::oauth::test {
namespace {

/// A self-signed P-256 certificate with subject CN=<cn>,O=tollgate, as DER.
std::vector<std::uint8_t> make_certificate(const std::string& cn) {
    std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(EVP_EC_gen("P-256"), &EVP_PKEY_free);
    std::unique_ptr<X509, decltype(&X509_free)> cert(X509_new(), &X509_free);
    X509_set_version(cert.get(), 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1);
    X509_gmtime_adj(X509_getm_notBefore(cert.get()), 0);
    X509_gmtime_adj(X509_getm_notAfter(cert.get()), 3600);
    X509_set_pubkey(cert.get(), key.get());
    X509_NAME* name = X509_get_subject_name(cert.get());
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("tollgate"),
                               -1, -1, 0);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn.c_str()),
                               -1, -1, 0);
    X509_set_issuer_name(cert.get(), name);
    X509_sign(cert.get(), key.get(), EVP_sha256());
    const int len = i2d_X509(cert.get(), nullptr);
    std::vector<std::uint8_t> der(static_cast<std::size_t>(len));
    unsigned char* p = der.data();
    i2d_X509(cert.get(), &p);
    return der;
}

class client_auth : public ::testing::Test {
  protected:
    server_fixture f;
};

TEST_F(client_auth, private_key_jwt_accepts_once_and_refuses_replay_rfc7523_3) {
    const auto k = jose::key::generate(jose::algorithm::es256, "client-key");
    jose::key_set set;
    set.add(k);
    client_options o;
    o.client_id = "jwtc";
    o.auth_method = "private_key_jwt";
    o.grant_types = {"client_credentials"};
    o.jwks = set.to_json();
    EXPECT_TRUE(f.server->create_client(o).secret.empty());
    auto assertion = [&](const std::string& jti, const std::string& aud, std::int64_t exp_in) {
        boost::json::object claims{{"iss", "jwtc"},
                                   {"sub", "jwtc"},
                                   {"aud", aud},
                                   {"jti", jti},
                                   {"iat", f.clock.unix_seconds()},
                                   {"exp", f.clock.unix_seconds() + exp_in}};
        return jose::sign(k, jose::algorithm::es256, claims).value();
    };
    auto call = [&](const std::string& a) {
        return f.post(
            "/token",
            "grant_type=client_credentials&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-"
            "assertion-type%3Ajwt-bearer&client_assertion=" +
                a);
    };
    const auto good = assertion("a1", "https://as.example/token", 60);
    EXPECT_EQ(call(good).status, 200);
    EXPECT_EQ(call(good).status, 401) << "replayed jti";
    EXPECT_EQ(call(assertion("a2", "https://other.example", 60)).status, 401) << "wrong aud";
    EXPECT_EQ(call(assertion("a3", "https://as.example", 3600)).status, 401) << "exp too far ahead";
    EXPECT_EQ(call(assertion("a4", "https://as.example", 60)).status, 200) << "issuer as aud";
    const auto other = jose::key::generate(jose::algorithm::es256, "client-key");
    boost::json::object forged{{"iss", "jwtc"},
                               {"sub", "jwtc"},
                               {"aud", "https://as.example"},
                               {"jti", "a5"},
                               {"exp", f.clock.unix_seconds() + 60}};
    EXPECT_EQ(call(jose::sign(other, jose::algorithm::es256, forged).value()).status, 401) << "foreign key";
}

TEST_F(client_auth, tls_client_auth_binds_tokens_to_the_certificate_rfc8705) {
    const auto der = make_certificate("device-1");
    client_options o;
    o.client_id = "dev1";
    o.auth_method = "tls_client_auth";
    o.tls_subject_dn = "CN=device-1,O=tollgate";
    o.grant_types = {"client_credentials"};
    f.server->create_client(o);
    auto req = make_post("/token", "grant_type=client_credentials&client_id=dev1");
    EXPECT_EQ(f.server->handle(req).status, 401) << "no certificate";
    req.client_certificate_der = make_certificate("device-2");
    EXPECT_EQ(f.server->handle(req).status, 401) << "another subject";
    req.client_certificate_der = der;
    auto r = f.server->handle(req);
    ASSERT_EQ(r.status, 200) << r.body;
    auto jws = jose::parse_compact(str(json_of(r), "access_token"));
    ASSERT_TRUE(jws);
    auto payload = jose::base64url_decode_string(jws->payload_b64());
    ASSERT_TRUE(payload);
    EXPECT_NE(payload->find("\"x5t#S256\":\"" + jose::x5t_s256(der).value() + "\""), std::string::npos)
        << *payload;
}

}  // namespace
}  // namespace tollgate::oauth::test
