// apps/tollgate/audit_wiring: [auth.audit] and [auth] permissions_claim parsing (strict, key paths in
// errors), and audit_wiring handing the broker the decorators only when a path is set.
#include "audit_wiring.hpp"

#include <filesystem>
#include <fstream>
#include <unistd.h>

#include <gtest/gtest.h>

#include "auth_wiring.hpp"
#include "config.hpp"

namespace tollgate::app {
namespace {

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

TEST(audit_config, defaults_values_and_errors) {
    auto d = parse("[auth]\n");
    EXPECT_EQ(d.audit.path, "");
    EXPECT_EQ(d.audit.max_queue, 10000U);
    EXPECT_FALSE(d.audit.fsync);
    EXPECT_EQ(d.permissions_claim, "mqtt_permissions");
    auto s = parse(R"([auth]
permissions_claim = ""
[auth.audit]
path = "/var/log/tollgate/audit.jsonl"
max_queue = 5
fsync = true
)");
    EXPECT_EQ(s.audit.path, "/var/log/tollgate/audit.jsonl");
    EXPECT_EQ(s.audit.max_queue, 5U);
    EXPECT_TRUE(s.audit.fsync);
    EXPECT_EQ(s.permissions_claim, "");
    EXPECT_NE(error_of("[auth.audit]\nmax_queue = 0\n").find("auth.audit.max_queue"), std::string::npos);
    EXPECT_NE(error_of("[auth.audit]\npaht = \"x\"\n").find("auth.audit.paht"), std::string::npos);
    EXPECT_NE(error_of("[auth.audit]\nfsync = 1\n").find("auth.audit.fsync"), std::string::npos);
    EXPECT_NE(error_of("[auth]\naudit = 3\n").find("auth.audit"), std::string::npos);
}

TEST(audit_config, wiring_wraps_only_when_a_path_is_set) {
    common::manual_clock clock;
    broker::anonymous_authenticator authn;
    broker::allow_all_authorizer authz;
    audit_wiring off;
    off.open(audit_settings{}, clock);
    EXPECT_EQ(&off.wrap(static_cast<broker::authenticator&>(authn)), &authn);
    EXPECT_EQ(&off.wrap(static_cast<broker::authorizer&>(authz)), &authz);
    EXPECT_EQ(off.log(), nullptr);

    const auto dir =
        std::filesystem::temp_directory_path() / ("tollgate-audit-wiring-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    {
        audit_wiring on;
        on.open(audit_settings{(dir / "a.jsonl").string(), 100, 16 * 1024 * 1024, false}, clock);
        auto& wrapped = on.wrap(static_cast<broker::authorizer&>(authz));
        EXPECT_NE(&wrapped, &authz);
        EXPECT_EQ(&on.wrap(static_cast<broker::authorizer&>(authz)), &wrapped);  // made once
        broker::principal who;
        who.client_id = "c";
        auto v = wrapped.check(who, broker::action::subscribe, "t/#", 0, false, [](broker::verdict) {});
        ASSERT_TRUE(v && v->allow);
        on.log()->flush();
        std::ifstream in(dir / "a.jsonl");
        std::string line;
        ASSERT_TRUE(std::getline(in, line));
        EXPECT_NE(line.find(R"("event":"authz","outcome":"allow","client_id":"c")"), std::string::npos)
            << line;
    }
    audit_wiring bad;
    EXPECT_THROW(
        bad.open(audit_settings{(dir / "no/such/dir/a.jsonl").string(), 100, 16 * 1024 * 1024, false}, clock),
        std::runtime_error);
    std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace tollgate::app
