// apps/tollgate/auth_wiring: the [auth] section (strict like config.cpp), building the stack from
// static key files, and revocation events from the authorization server's hub ending live sessions.
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>

#include "auth_wiring.hpp"
#include "config.hpp"
#include "token_env.hpp"

namespace tollgate::app {
namespace {

using mqtt::reason_code;

auth_settings parse(std::string_view text) {
    auto doc = toml::parse(text);
    return parse_auth_settings(*doc["auth"].as_table());
}

std::string error_of(std::string_view text) {
    try {
        (void)parse(text);
    } catch (const config_error& e) {
        return e.what();
    }
    return "";
}

TEST(auth_config, defaults_and_values) {
    auto s = parse("[auth]\n");
    EXPECT_FALSE(s.enabled);
    EXPECT_EQ(s.audience, "urn:tollgate:broker");
    EXPECT_EQ(s.leeway, std::chrono::seconds{30});
    auto t = parse(R"([auth]
enabled = true
audience = "urn:x"
required_username = "oauth2"
client_id_binding = "claim"
client_id_claim = "device"
cache_size = 5
leeway = "10s"
max_token_bytes = 4096
builtin_issuer = false
[[auth.issuers]]
issuer = "https://idp.example"
keys = ["a.json", { file = "a.pem", kid = "k1", alg = "ES256" }]
algorithms = ["ES256"]
audiences = ["urn:y"]
require_typ = false
)");
    EXPECT_TRUE(t.enabled);
    EXPECT_EQ(t.required_username, "oauth2");
    EXPECT_EQ(t.binding, auth::client_id_binding::claim);
    EXPECT_EQ(t.binding_claim, "device");
    EXPECT_EQ(t.cache_size, 5U);
    EXPECT_EQ(t.leeway, std::chrono::seconds{10});
    ASSERT_EQ(t.issuers.size(), 1U);
    EXPECT_EQ(t.issuers[0].algorithms, std::vector<std::string>{"ES256"});
    EXPECT_FALSE(t.issuers[0].require_typ);
    ASSERT_EQ(t.issuers[0].key_files.size(), 2U);
    EXPECT_EQ(t.issuers[0].key_files[0].file, "a.json");
    EXPECT_EQ(t.issuers[0].key_files[1].kid, "k1");
    EXPECT_EQ(t.issuers[0].key_files[1].alg, "ES256");
}

TEST(auth_config, errors_name_the_key_path) {
    EXPECT_NE(error_of("[auth]\nenabeld = true\n").find("auth.enabeld"), std::string::npos);
    EXPECT_NE(error_of("[auth]\nclient_id_binding = \"x\"\n").find("auth.client_id_binding"),
              std::string::npos);
    EXPECT_NE(error_of("[auth]\nclient_id_binding = \"claim\"\n").find("auth.client_id_claim"),
              std::string::npos);
    EXPECT_NE(error_of("[auth]\n[[auth.issuers]]\nissuer = \"i\"\nkeys = [\"k\"]\nalgorithms = [\"none\"]\n")
                  .find("auth.issuers[0].algorithms[0]"),
              std::string::npos);
    EXPECT_NE(
        error_of("[auth]\n[[auth.issuers]]\nissuer = \"i\"\nkeys = [1]\n").find("auth.issuers[0].keys[0]"),
        std::string::npos);
    EXPECT_NE(error_of("[auth]\n[[auth.issuers]]\nissuer = \"i\"\n").find("auth.issuers[0].keys"),
              std::string::npos);
    EXPECT_NE(error_of("[auth]\n[[auth.issuers]]\nissuer = \"i\"\nkeys = [\"k\"]\nextra = 1\n")
                  .find("auth.issuers[0].extra"),
              std::string::npos);
    EXPECT_NE(error_of("[auth]\n[[auth.issuers]]\nissuer = \"i\"\nkeys = [{ file = \"f\", kd = \"x\" }]\n")
                  .find("auth.issuers[0].keys[0].kd"),
              std::string::npos);
    EXPECT_NE(error_of("[auth]\nleeway = \"1h\"\n").find("auth.leeway"), std::string::npos);
    EXPECT_NE(error_of("[auth]\nverify_threads = 65\n").find("auth.verify_threads"), std::string::npos);
    EXPECT_NE(error_of("[auth]\nverify_threads = -1\n").find("auth.verify_threads"), std::string::npos);
    EXPECT_NE(error_of("[auth]\nverify_threads = \"2\"\n").find("auth.verify_threads"), std::string::npos);
    const std::string issuer = "[auth]\n[[auth.issuers]]\nissuer = \"i\"\nkeys = [\"k\"]\n";
    EXPECT_NE(error_of(issuer + "scope_claim = \"\"\n").find("auth.issuers[0].scope_claim"),
              std::string::npos);
    EXPECT_NE(error_of(issuer + "scope_claim = [\"scp\"]\n").find("auth.issuers[0].scope_claim"),
              std::string::npos);
    EXPECT_NE(error_of(issuer + "scope_claim = \"a\\nb\"\n").find("auth.issuers[0].scope_claim"),
              std::string::npos);
    EXPECT_NE(error_of(issuer + "scope_claim = \"" + std::string(257, 'x') + "\"\n")
                  .find("auth.issuers[0].scope_claim"),
              std::string::npos);
}

TEST(auth_config, verify_threads_and_scope_claim) {
    auto s = parse("[auth]\n[[auth.issuers]]\nissuer = \"i\"\nkeys = [\"k\"]\n");
    EXPECT_EQ(s.verify_threads, 1U);  // default: signature checks off the broker workers
    EXPECT_EQ(s.issuers.at(0).scope_claim, "scope");
    auto t = parse(
        "[auth]\nverify_threads = 0\n[[auth.issuers]]\nissuer = \"i\"\nkeys = [\"k\"]\n"
        "scope_claim = \"realm_access.roles\"\n");
    EXPECT_EQ(t.verify_threads, 0U);
    EXPECT_EQ(t.issuers.at(0).scope_claim, "realm_access.roles");
    EXPECT_EQ(parse("[auth]\nverify_threads = 8\n").verify_threads, 8U);
}

TEST(auth_config, no_issuer_is_an_error) {
    common::manual_clock clock;
    auth_settings s;
    s.enabled = true;
    EXPECT_THROW((void)build_auth(s, clock, nullptr), config_error);
}

struct temp_dir {
    temp_dir()
        : path(std::filesystem::temp_directory_path() / ("tollgate-auth-" + std::to_string(::getpid()))) {
        std::filesystem::create_directories(path);
    }
    ~temp_dir() { std::filesystem::remove_all(path); }
    std::string write(const std::string& name, const std::string& text) const {
        auto p = path / name;
        std::ofstream(p) << text;
        return p.string();
    }
    std::filesystem::path path;
};

TEST(auth_wiring, static_keys_and_revocation_events) {
    temp_dir dir;
    broker::test::broker_fixture f;
    auth::test::token_env env(f.clock);
    auth_settings s;
    s.enabled = true;
    issuer_settings is;
    is.issuer = std::string(auth::test::issuer);
    is.algorithms = {"ES256"};
    is.key_files = {key_file_settings{dir.write("k.pem", env.key.public_pem().value()), "k1", "ES256"}};
    s.issuers.push_back(is);
    s.verify_threads = 0;  // inline answers: the deterministic harness settles them at once
    auto stack = build_auth(s, f.clock, nullptr);
    EXPECT_FALSE(stack->verify);
    f.start(&stack->authz, stack->authn.get());
    oauth::revocation_hub hub;
    stack->link_revocations(*f.b, hub, std::string(auth::test::issuer));

    auto claims = env.claims("mqtt:pub:a/#");
    const std::string jti(claims["jti"].as_string());
    auto& c = f.client(0);
    auto conn = c.make_connect("d");
    conn.password = auth::test::bytes_of(env.sign(claims));
    c.send(conn);
    ASSERT_EQ(c.expect<mqtt::connack>().reason_code, reason_code::success);

    // A private key file is refused, naming the key path.
    issuer_settings bad = is;
    bad.key_files = {key_file_settings{dir.write("priv.pem", env.key.private_pem().value()), "k1", {}}};
    auth_settings s2;
    s2.issuers.push_back(bad);
    try {
        (void)build_auth(s2, f.clock, nullptr);
        ADD_FAILURE() << "private key accepted";
    } catch (const config_error& e) {
        EXPECT_NE(std::string(e.what()).find("auth.issuers[0].keys"), std::string::npos);
    }

    oauth::revocation_event e;
    e.kind = oauth::revocation_kind::access_token;
    e.jti = jti;
    e.time = f.clock.unix_seconds();
    hub.publish(e);
    f.settle();
    auto d = c.expect<mqtt::disconnect>();
    EXPECT_EQ(d.reason_code, reason_code::administrative_action);
    EXPECT_TRUE(c.closed());
    stack->revocations.reset();
}

// The built-in authorization server in process: its keys (no network), a key rotation picked up on
// the unknown kid, and revoke_token() ending the live session through the revocation hub.
TEST(auth_wiring, builtin_issuer_rotation_and_revocation) {
    temp_dir dir;
    broker::test::broker_fixture f;
    oauth::server_config oc;
    oc.data_dir = dir.path.string();
    oc.issuer = "http://127.0.0.1:9";
    oauth::authorization_server as(oc, f.clock);
    auth_settings s;
    s.enabled = true;
    s.verify_threads = 0;
    auto stack = build_auth(s, f.clock, &as);
    f.start(&stack->authz, stack->authn.get());
    stack->link_revocations(*f.b, as.revocations(), as.config().issuer);

    oauth::grant_context g;
    g.client_id = "app-1";
    g.scope = "mqtt:pub:a/#";
    g.audience = "urn:tollgate:broker";
    g.ttl = 600;
    auto connect = [&](const std::string& id, const std::string& token) {
        auto& c = f.client(0);
        auto conn = c.make_connect(id);
        conn.password = auth::test::bytes_of(token);
        c.send(conn);
        return std::pair<broker::test::test_client*, reason_code>(&c, c.expect<mqtt::connack>().reason_code);
    };
    auto [c1, rc1] = connect("c1", as.issue_access_token(g).first);
    ASSERT_EQ(rc1, reason_code::success);
    c1->send(broker::test::make_publish("a/x", "1", 1, 1));
    EXPECT_EQ(c1->expect<mqtt::puback>().reason_code, reason_code::no_matching_subscribers);

    as.keys().rotate();  // a token under the new kid: the key source is re-read on the unknown kid
    auto [token2, jti2] = as.issue_access_token(g);
    auto [c2, rc2] = connect("c2", token2);
    ASSERT_EQ(rc2, reason_code::success);

    EXPECT_TRUE(as.revoke_token(jti2));
    f.settle();
    EXPECT_EQ(c2->expect<mqtt::disconnect>().reason_code, reason_code::administrative_action);
    EXPECT_TRUE(c2->closed());
    EXPECT_FALSE(c1->closed());
    auto [c3, rc3] = connect("c3", token2);
    EXPECT_EQ(rc3, reason_code::bad_user_name_or_password);
    (void)c3;
    stack->revocations.reset();
}

/// Settles the harness until `c` has a packet (bounded): the verdict comes from a verify thread.
bool settle_until_answer(broker::test::broker_fixture& f, broker::test::test_client& c) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (c.inbox_empty() && std::chrono::steady_clock::now() < deadline) {
        f.settle();
        std::this_thread::yield();
    }
    return !c.inbox_empty();
}

// [auth] verify_threads = 2: the stack owns a verify pool that checks cold tokens off the broker's
// workers (the CONNECT is answered after the pool's verdict is posted back); scope_claim maps the
// issuer's "scp" array; stop_authentication() then keeps every later answer from the broker.
TEST(auth_wiring, verify_threads_offload_cold_checks_and_scope_claim) {
    temp_dir dir;
    broker::test::broker_fixture f;
    auth::test::token_env env(f.clock);
    auth_settings s;
    s.enabled = true;
    s.verify_threads = 2;
    issuer_settings is;
    is.issuer = std::string(auth::test::issuer);
    is.algorithms = {"ES256"};
    is.key_files = {key_file_settings{dir.write("k.pem", env.key.public_pem().value()), "k1", "ES256"}};
    is.scope_claim = "scp";
    s.issuers.push_back(is);
    auto stack = build_auth(s, f.clock, nullptr);
    ASSERT_TRUE(stack->verify);
    EXPECT_EQ(stack->verify->threads(), 2U);
    f.start(&stack->authz, &stack->authenticator());

    auto claims = env.claims("mqtt:all:#");  // "scope" is not this issuer's scope claim
    claims["scp"] = boost::json::array{"mqtt:pub:a/#"};
    auto& c = f.client(0);
    auto conn = c.make_connect("d");
    conn.password = auth::test::bytes_of(env.sign(claims));
    c.send(conn);
    ASSERT_TRUE(settle_until_answer(f, c));
    ASSERT_EQ(c.expect<mqtt::connack>().reason_code, reason_code::success);
    EXPECT_EQ(stack->verify->stats().completed, 1U);
    EXPECT_EQ(stack->authn->stats().verifications, 1U);
    c.send(broker::test::make_publish("a/x", "1", 1, 1));
    EXPECT_EQ(c.expect<mqtt::puback>().reason_code, reason_code::no_matching_subscribers);
    c.send(broker::test::make_publish("b/x", "1", 1, 2));
    EXPECT_EQ(c.expect<mqtt::puback>().reason_code, reason_code::not_authorized);

    // Shutdown: after stop_authentication no answer reaches the broker, queued or late.
    stack->stop_authentication();
    stack->stop_authentication();  // idempotent
    auto& late = f.client(0);
    auto conn2 = late.make_connect("e");
    conn2.password = auth::test::bytes_of(env.token());
    late.send(conn2);
    f.settle();
    EXPECT_TRUE(late.inbox_empty());
    EXPECT_EQ(stack->authn->stats().verifications, 1U);  // not even forwarded
}

}  // namespace
}  // namespace tollgate::app
