// apps/tollgate/auth_wiring: the RFC 7662 keys of [[auth.issuers]] (introspection_endpoint,
// client credentials, opaque_tokens, recheck_interval, recheck_grace): parsing, errors naming the
// key path, the client secret file, one opaque issuer at most, and the re-check monitor wrapping
// the authorizer.
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "auth_wiring.hpp"
#include "config.hpp"
#include "token_env.hpp"

namespace tollgate::app {
namespace {

auth_settings parse(const std::string& issuer_keys) {
    const std::string text =
        "[auth]\nenabled = true\n[[auth.issuers]]\nissuer = \"https://idp.example\"\n"
        "keys = [\"k.json\"]\n" +
        issuer_keys;
    auto doc = toml::parse(text);
    return parse_auth_settings(*doc["auth"].as_table());
}

std::string error_of(const std::string& issuer_keys) {
    try {
        (void)parse(issuer_keys);
    } catch (const config_error& e) {
        return e.what();
    }
    return "";
}

TEST(introspection_config, keys_and_defaults) {
    auto none = parse("");
    EXPECT_TRUE(none.issuers[0].introspection_client_id.empty());
    EXPECT_EQ(none.issuers[0].recheck_interval, std::chrono::minutes{5});
    EXPECT_EQ(none.issuers[0].recheck_grace, std::chrono::minutes{1});
    EXPECT_FALSE(none.issuers[0].opaque_tokens);
    auto s = parse(R"(introspection_endpoint = "https://idp.example/introspect"
introspection_client_id = "tollgate"
introspection_client_secret = "s3cret"
opaque_tokens = true
recheck_interval = "30s"
recheck_grace = "0s"
)");
    const auto& is = s.issuers[0];
    EXPECT_EQ(is.introspection_endpoint, "https://idp.example/introspect");
    EXPECT_EQ(is.introspection_client_id, "tollgate");
    EXPECT_EQ(is.introspection_client_secret, "s3cret");
    EXPECT_TRUE(is.opaque_tokens);
    EXPECT_EQ(is.recheck_interval, std::chrono::seconds{30});
    EXPECT_EQ(is.recheck_grace, std::chrono::seconds{0});
}

TEST(introspection_config, errors_name_the_key_path) {
    EXPECT_NE(error_of("opaque_tokens = true\n").find("auth.issuers[0].introspection_client_id"),
              std::string::npos);
    EXPECT_NE(
        error_of("introspection_endpoint = \"https://idp.example/i\"\n").find("introspection_client_id"),
        std::string::npos);
    const std::string base =
        "introspection_endpoint = \"https://idp.example/i\"\nintrospection_client_id = \"t\"\n";
    EXPECT_NE(error_of(base).find("auth.issuers[0].introspection_client_secret"), std::string::npos);
    EXPECT_NE(
        error_of(base + "introspection_client_secret = \"a\"\nintrospection_client_secret_file = \"f\"\n")
            .find("not both"),
        std::string::npos);
    EXPECT_NE(error_of("introspection_client_id = \"t\"\nintrospection_client_secret = \"a\"\n")
                  .find("auth.issuers[0].introspection_endpoint"),
              std::string::npos);  // neither configured nor discovered
    EXPECT_NE(error_of("introspection_endpoint = \"http://idp.example/i\"\nintrospection_client_id = \"t\"\n"
                       "introspection_client_secret = \"a\"\n")
                  .find("auth.issuers[0].introspection_endpoint"),
              std::string::npos);  // plain http without allow_http
    EXPECT_NE(error_of("allow_http = true\nintrospection_endpoint = \"http://idp.example/i\"\n"
                       "introspection_client_id = \"t\"\nintrospection_client_secret = \"a\"\n")
                  .find("loopback"),
              std::string::npos);
    EXPECT_NE(error_of(base + "introspection_client_secret = \"a\"\nrecheck_interval = \"2d\"\n")
                  .find("auth.issuers[0].recheck_interval"),
              std::string::npos);
    EXPECT_NE(error_of(base + "introspection_client_secret = \"a\"\nrecheck_grace = \"250ms\"\n")
                  .find("recheck_grace"),
              std::string::npos);
}

struct temp_dir {
    temp_dir()
        : path(std::filesystem::temp_directory_path() /
               ("tollgate-introspect-" + std::to_string(::getpid()))) {
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

issuer_settings introspecting_issuer(const temp_dir& dir, const auth::test::token_env& env) {
    issuer_settings is;
    is.issuer = std::string(auth::test::issuer);
    is.algorithms = {"ES256"};
    is.key_files = {key_file_settings{dir.write("k.pem", env.key.public_pem().value()), "k1", "ES256"}};
    is.introspection_endpoint = "https://as.example/introspect";
    is.introspection_client_id = "tollgate";
    is.introspection_client_secret_file = dir.write("secret", "s3cret\n");
    return is;
}

TEST(introspection_wiring, monitor_wraps_the_authorizer_when_sessions_are_rechecked) {
    temp_dir dir;
    common::manual_clock clock;
    auth::test::token_env env(clock);
    auth_settings s;
    s.enabled = true;
    s.issuers.push_back(introspecting_issuer(dir, env));
    auto stack = build_auth(s, clock, nullptr);
    ASSERT_TRUE(stack->monitor);
    EXPECT_EQ(&stack->authorizer(), stack->monitor.get());
    s.issuers[0].recheck_interval = std::chrono::seconds{0};  // off
    auto off = build_auth(s, clock, nullptr);
    EXPECT_FALSE(off->monitor);
    EXPECT_EQ(&off->authorizer(), &off->authz);
}

TEST(introspection_wiring, secret_file_and_one_opaque_issuer) {
    temp_dir dir;
    common::manual_clock clock;
    auth::test::token_env env(clock);
    auth_settings s;
    s.enabled = true;
    s.issuers.push_back(introspecting_issuer(dir, env));
    s.issuers[0].introspection_client_secret_file = (dir.path / "missing").string();
    try {
        (void)build_auth(s, clock, nullptr);
        ADD_FAILURE() << "missing secret file accepted";
    } catch (const config_error& e) {
        EXPECT_NE(std::string(e.what()).find("auth.issuers[0].introspection_client_secret_file"),
                  std::string::npos);
    }
    s.issuers[0].introspection_client_secret_file = dir.write("empty", "\n");
    EXPECT_THROW((void)build_auth(s, clock, nullptr), config_error);
    s.issuers[0] = introspecting_issuer(dir, env);
    s.issuers[0].opaque_tokens = true;
    auto second = introspecting_issuer(dir, env);
    second.issuer = "https://other.example";
    second.opaque_tokens = true;
    s.issuers.push_back(second);
    try {
        (void)build_auth(s, clock, nullptr);
        ADD_FAILURE() << "two opaque issuers accepted";
    } catch (const config_error& e) {
        EXPECT_NE(std::string(e.what()).find("auth.issuers[1].opaque_tokens"), std::string::npos);
    }
    s.issuers[1].opaque_tokens = false;
    EXPECT_NO_THROW((void)build_auth(s, clock, nullptr));
}

}  // namespace
}  // namespace tollgate::app
