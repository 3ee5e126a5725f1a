// apps/tollgate/auth_wiring: [[auth.issuers]] with keys over HTTPS (discovery, jwks_uri, ca_file,
// allow_http, jwks_refresh): parsing, strict validation naming the key path, and building the stack
// (the remote key source is made and waited for, bounded; an unreachable issuer leaves the broker
// running and its tokens refused). Fetching itself is tested against a real HTTPS server in
// remote_keys_test.cpp and end to end in tests/integration/auth/external_issuer_test.py.
#include <thread>

#include <gtest/gtest.h>

#include "auth_wiring.hpp"
#include "config.hpp"
#include "token_env.hpp"

namespace tollgate::app {
namespace {

using mqtt::reason_code;
using namespace std::chrono_literals;

auth_settings parse_remote(std::string_view text) {
    auto doc = toml::parse(text);
    return parse_auth_settings(*doc["auth"].as_table());
}

std::string remote_error(std::string_view issuer_lines) {
    try {
        (void)parse_remote("[auth]\n[[auth.issuers]]\n" + std::string(issuer_lines));
    } catch (const config_error& e) {
        return e.what();
    }
    return "";
}

TEST(auth_remote_config, discovery_and_jwks_uri_keys) {
    auto s = parse_remote(R"([auth]
[[auth.issuers]]
issuer = "https://idp.example/tenant"
discovery = true
ca_file = "/etc/ca.pem"
jwks_refresh = "5m"
algorithms = ["RS256"]
[[auth.issuers]]
issuer = "https://other.example"
jwks_uri = "https://other.example/keys"
[[auth.issuers]]
issuer = "http://127.0.0.1:8080"
discovery = true
allow_http = true
)");
    ASSERT_EQ(s.issuers.size(), 3U);
    EXPECT_TRUE(s.issuers[0].discovery);
    EXPECT_TRUE(s.issuers[0].key_files.empty());
    EXPECT_EQ(s.issuers[0].ca_file, "/etc/ca.pem");
    EXPECT_EQ(s.issuers[0].jwks_refresh, std::chrono::minutes{5});
    EXPECT_FALSE(s.issuers[0].allow_http);
    EXPECT_EQ(s.issuers[1].jwks_uri, "https://other.example/keys");
    EXPECT_FALSE(s.issuers[1].discovery);
    EXPECT_EQ(s.issuers[1].jwks_refresh, std::chrono::minutes{15});  // default
    EXPECT_TRUE(s.issuers[2].allow_http);
}

TEST(auth_remote_config, exactly_one_key_origin) {
    EXPECT_NE(
        remote_error("issuer = \"https://i.example\"\nkeys = [\"k\"]\njwks_uri = \"https://i.example/j\"\n")
            .find("auth.issuers[0]: give exactly one of keys, jwks_uri, discovery = true"),
        std::string::npos);
    EXPECT_NE(
        remote_error("issuer = \"https://i.example\"\ndiscovery = true\njwks_uri = \"https://i.example/j\"\n")
            .find("exactly one"),
        std::string::npos);
    EXPECT_NE(
        remote_error("issuer = \"https://i.example\"\ndiscovery = false\n").find("auth.issuers[0].keys"),
        std::string::npos);
    EXPECT_NE(remote_error("issuer = \"https://i.example\"\nkeys = [\"k\"]\njwks_refresh = \"1m\"\n")
                  .find("auth.issuers[0].jwks_refresh"),
              std::string::npos);
}

TEST(auth_remote_config, urls_and_durations_are_checked) {
    // http:// needs allow_http, and then a loopback host.
    EXPECT_NE(
        remote_error("issuer = \"i\"\njwks_uri = \"http://127.0.0.1/j\"\n").find("auth.issuers[0].jwks_uri"),
        std::string::npos);
    EXPECT_NE(remote_error("issuer = \"i\"\njwks_uri = \"http://idp.example/j\"\nallow_http = true\n")
                  .find("loopback"),
              std::string::npos);
    EXPECT_EQ(remote_error("issuer = \"i\"\njwks_uri = \"http://[::1]:9/j\"\nallow_http = true\n"), "");
    EXPECT_EQ(remote_error("issuer = \"i\"\njwks_uri = \"http://localhost:9/j\"\nallow_http = true\n"), "");
    EXPECT_NE(remote_error("issuer = \"http://idp.example\"\ndiscovery = true\nallow_http = true\n")
                  .find("auth.issuers[0].issuer"),
              std::string::npos);
    // With discovery the issuer is a URL (RFC 8414 §2: https, no query, no fragment).
    EXPECT_NE(remote_error("issuer = \"idp\"\ndiscovery = true\n").find("auth.issuers[0].issuer"),
              std::string::npos);
    EXPECT_NE(remote_error("issuer = \"https://i.example?x=1\"\ndiscovery = true\n").find("query"),
              std::string::npos);
    EXPECT_NE(
        remote_error("issuer = \"i\"\njwks_uri = \"ftp://i.example/j\"\n").find("auth.issuers[0].jwks_uri"),
        std::string::npos);
    EXPECT_NE(remote_error("issuer = \"i\"\njwks_uri = \"https://i.example/j\"\njwks_refresh = \"0s\"\n")
                  .find("auth.issuers[0].jwks_refresh"),
              std::string::npos);
    EXPECT_NE(remote_error("issuer = \"i\"\njwks_uri = \"https://i.example/j\"\njwks_refresh = \"2d\"\n")
                  .find("auth.issuers[0].jwks_refresh"),
              std::string::npos);
    EXPECT_NE(remote_error("issuer = \"i\"\njwks_uri = \"https://i.example/j\"\nallow_http = \"yes\"\n")
                  .find("auth.issuers[0].allow_http"),
              std::string::npos);
    EXPECT_NE(remote_error("issuer = \"i\"\njwks_uri = \"https://i.example/j\"\nca_file = 3\n")
                  .find("auth.issuers[0].ca_file"),
              std::string::npos);
}

TEST(auth_remote_wiring, unreadable_ca_file_names_the_key) {
    common::manual_clock clock;
    auth_settings s;
    s.enabled = true;
    issuer_settings is;
    is.issuer = "https://idp.example";
    is.jwks_uri = "https://idp.example/jwks";
    is.ca_file = "/nonexistent/ca.pem";
    s.issuers.push_back(is);
    try {
        (void)build_auth(s, clock, nullptr);
        ADD_FAILURE() << "accepted";
    } catch (const config_error& e) {
        EXPECT_NE(std::string(e.what()).find("auth.issuers[0].ca_file"), std::string::npos) << e.what();
    }
}

// An issuer whose JWKS cannot be fetched (nothing listens on the port): build_auth waits for the
// first attempt only, the stack is built, the source keeps retrying, and its tokens are refused.
TEST(auth_remote_wiring, unreachable_issuer_starts_without_keys) {
    broker::test::broker_fixture f;
    auth::test::token_env env(f.clock);
    auth_settings s;
    s.enabled = true;
    issuer_settings is;
    is.issuer = std::string(auth::test::issuer);
    is.jwks_uri = "http://127.0.0.1:1/jwks";
    is.allow_http = true;
    is.algorithms = {"ES256"};
    s.issuers.push_back(is);
    const auto started = std::chrono::steady_clock::now();
    auto stack = build_auth(s, f.clock, nullptr);
    EXPECT_LT(std::chrono::steady_clock::now() - started, remote_keys_startup_wait);
    ASSERT_EQ(stack->remote_issuers.size(), 1U);
    const auto& r = stack->remote_issuers[0];
    EXPECT_EQ(r.issuer, auth::test::issuer);
    ASSERT_TRUE(r.http);
    ASSERT_TRUE(r.keys);
    const auto st = r.keys->status();
    EXPECT_GE(st.cycles, 1U);
    EXPECT_EQ(st.keys, 0U);
    EXPECT_FALSE(st.last_error.empty());
    EXPECT_FALSE(r.keys->metadata());

    f.start(&stack->authz, stack->authn.get());
    auto& c = f.client(0);
    auto conn = c.make_connect("d");
    conn.password = auth::test::bytes_of(env.token());
    c.send(conn);
    // The token's kid is unknown, so its verdict waits for the (failing) JWKS refetch, which
    // answers on the fetch thread: wait for that event (bounded), then the refusal.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (c.inbox_empty() && std::chrono::steady_clock::now() < deadline) {
        f.settle();
        std::this_thread::yield();
    }
    EXPECT_EQ(c.expect<mqtt::connack>().reason_code, reason_code::bad_user_name_or_password);
}

}  // namespace
}  // namespace tollgate::app
