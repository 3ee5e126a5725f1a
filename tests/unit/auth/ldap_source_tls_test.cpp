// ldap_source over TLS against a real slapd (the `slapd` ctest fixture, tests/support/slapd-server):
// the deadline of the ldaps:// TLS handshake (libldap 2.5 has none of its own; ldap_source's
// watchdog gives it connect_timeout) and SASL EXTERNAL with the test client certificate
// (RFC 4513 §5.2.3), which the fixture's slapd maps to the service account.
#include <chrono>
#include <stdexcept>
#include <string>

#include <gtest/gtest.h>

#include <tollgate/auth/ldap_source.hpp>

#include "ldap_source_test_support.hpp"

namespace tollgate::auth {
namespace {

using namespace std::chrono_literals;
using ldap_test::directory_admin;

constexpr const char* service_dn = "cn=tollgate,ou=services,dc=tollgate,dc=test";
constexpr const char* service_password = "tollgate-test-secret";

broker::principal principal_of(std::string subject) {
    broker::principal who;
    who.subject = std::move(subject);
    who.client_id = "device-1";
    return who;
}

std::string ldaps_url() {
    return ldap_test::read_file(ldap_test::server_dir() + "/url-ldaps");
}

std::uint16_t ldaps_port() {
    const std::string url = ldaps_url();
    return static_cast<std::uint16_t>(std::stoi(url.substr(url.rfind(':') + 1)));
}

std::string pki(const std::string& file) {
    return ldap_test::server_dir() + "/pki/" + file;
}

/// The message of the std::runtime_error that `load` throws ("" when it throws none).
template <typename F>
std::string failure_of(F&& load) {
    try {
        load();
    } catch (const std::runtime_error& e) {
        return e.what();
    }
    return {};
}

class LdapTlsTest : public ::testing::Test {
  protected:
    void SetUp() override {
        admin_ = std::make_unique<directory_admin>(ldap_test::server_url());
        const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
        base_ = std::string("ou=") + info->name() + ",dc=tollgate,dc=test";
        admin_->remove_subtree(base_);
        admin_->add(base_, {{"objectClass", {"organizationalUnit"}}, {"ou", {info->name()}}});
        admin_->add("uid=tess," + base_, {{"objectClass", {"inetOrgPerson", "tollgateMqttPolicy"}},
                                          {"uid", {"tess"}},
                                          {"cn", {"tess"}},
                                          {"sn", {"tls"}},
                                          {"mqttRule", {"allow pub tess/#"}}});
    }

    void TearDown() override { admin_->remove_subtree(base_); }

    ldap_config config() const {
        ldap_config c;
        c.url = ldaps_url();
        c.bind_dn = service_dn;
        c.bind_password = service_password;
        c.base_dn = base_;
        c.ca_file = ldap_test::server_dir() + "/ca.pem";
        c.connect_timeout = 3000ms;
        c.operation_timeout = 3000ms;
        return c;
    }

    ldap_config external(ldap_config c) const {
        c.bind_dn.clear();
        c.bind_password.clear();
        c.bind_method = ldap_bind_method::sasl_external;
        c.cert_file = pki("client.crt");
        c.key_file = pki("client.key");
        return c;
    }

    std::unique_ptr<directory_admin> admin_;
    std::string base_;
};

// A server that accepts TCP and never answers the TLS ClientHello: the load fails (so the policy
// authorizer denies) once connect_timeout has passed, instead of blocking forever in libldap's
// handshake; the pool's slot is freed, so the same source loads again once the server answers.
TEST_F(LdapTlsTest, LdapsHandshakeToASilentServerEndsAtTheConnectTimeout) {
    ldap_test::tcp_proxy proxy(ldaps_port());
    proxy.hold_new(true);  // accepted, never forwarded: the handshake hears nothing
    auto c = config();
    c.url = "ldaps://127.0.0.1:" + std::to_string(proxy.port());
    c.connect_timeout = 400ms;
    c.max_connections = 1;
    auto source = make_ldap_source(c);
    for (int attempt = 0; attempt < 2; ++attempt) {
        const auto start = std::chrono::steady_clock::now();
        const std::string why = failure_of([&] { source->load(principal_of("tess")); });
        const auto took = std::chrono::steady_clock::now() - start;
        EXPECT_NE(why.find("connect_timeout"), std::string::npos) << why;
        EXPECT_GE(took, 400ms);
        EXPECT_LT(took, 2500ms) << "attempt " << attempt;
    }
    EXPECT_EQ(proxy.accepted(), 2);  // each attempt reached the TCP accept and stalled in TLS
    proxy.drop_connections();
    proxy.hold_new(false);
    EXPECT_EQ(source->load(principal_of("tess")).size(), 1u);
}

// The same with a listener that never even accepts (the kernel completes the TCP handshake).
TEST_F(LdapTlsTest, LdapsToAListenerThatNeverAcceptsEndsAtTheConnectTimeout) {
    ldap_test::silent_listener silent;
    auto c = config();
    c.url = "ldaps://127.0.0.1:" + std::to_string(silent.port());
    c.connect_timeout = 300ms;
    const auto start = std::chrono::steady_clock::now();
    EXPECT_THROW(make_ldap_source(c)->load(principal_of("tess")), std::runtime_error);
    EXPECT_LT(std::chrono::steady_clock::now() - start, 2500ms);
}

// RFC 4513 §5.2.3: SASL EXTERNAL takes the identity from the TLS client certificate; the fixture's
// slapd maps CN=test-client to the service account, which may read the rules.
TEST_F(LdapTlsTest, SaslExternalWithTheClientCertificate) {
    auto c = external(config());
    EXPECT_EQ(make_ldap_source(c)->load(principal_of("tess")).size(), 1u);  // ldaps://
    c.url = ldap_test::server_url();
    c.tls = ldap_tls::starttls;
    EXPECT_EQ(make_ldap_source(c)->load(principal_of("tess")).size(), 1u);  // StartTLS
}

// A certificate from another CA is not an identity (slapd ignores it), so EXTERNAL has nothing to
// bind with: the load fails (fail closed) and never falls back to anonymous.
TEST_F(LdapTlsTest, SaslExternalWithAnUntrustedCertificateFails) {
    auto c = external(config());
    c.cert_file = pki("rogue-client.crt");
    c.key_file = pki("rogue-client.key");
    EXPECT_FALSE(failure_of([&] { make_ldap_source(c)->load(principal_of("tess")); }).empty());
    // A key that does not match the certificate is refused before any bind.
    c.cert_file = pki("client.crt");
    c.key_file = pki("rogue-client.key");
    EXPECT_FALSE(failure_of([&] { make_ldap_source(c)->load(principal_of("tess")); }).empty());
}

// A client certificate alongside a simple bind: the bind decides who reads.
TEST_F(LdapTlsTest, ClientCertificateWithASimpleBind) {
    auto c = config();
    c.cert_file = pki("client.crt");
    c.key_file = pki("client.key");
    EXPECT_EQ(make_ldap_source(c)->load(principal_of("tess")).size(), 1u);
}

}  // namespace
}  // namespace tollgate::auth
