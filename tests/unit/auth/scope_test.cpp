// The scope grammar (docs/auth.md), placeholder substitution with wildcard-injection refusal
// (CVE-2017-7650), and filter-covers-filter with wildcards and '$' topics ([MQTT-4.7.2-1]).
#include <gtest/gtest.h>

#include <tollgate/auth/scope.hpp>

namespace tollgate::auth {
namespace {

std::string literal_of(const scope_pattern& p) {
    std::string out;
    for (const auto& part : p.parts) {
        out += part.what == pattern_part::kind::literal ? part.text : "<ph>";
    }
    return out;
}

TEST(scope_grammar, actions) {
    auto pub = parse_scope("mqtt:pub:a/b");
    ASSERT_TRUE(pub.pattern);
    EXPECT_EQ(pub.pattern->action, grant_action::publish);
    EXPECT_EQ(literal_of(*pub.pattern), "a/b");
    EXPECT_EQ(parse_scope("mqtt:sub:a/#").pattern->action, grant_action::subscribe);
    EXPECT_EQ(parse_scope("mqtt:all:+").pattern->action, grant_action::both);
    EXPECT_EQ(parse_scope("mqtt:write:a").error, scope_error::bad_action);
    EXPECT_EQ(parse_scope("mqtt:pub:").error, scope_error::empty_pattern);
    EXPECT_EQ(parse_scope("mqtt:pub").error, scope_error::bad_action);
    EXPECT_EQ(parse_scope("openid").error, scope_error::not_mqtt);
    EXPECT_EQ(parse_scope("").error, scope_error::not_mqtt);
}

// RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ); other bytes must be percent-encoded.
TEST(scope_grammar, rfc6749_characters_and_percent_encoding) {
    EXPECT_EQ(parse_scope("mqtt:pub:a b").error, scope_error::bad_character);
    EXPECT_EQ(parse_scope("mqtt:pub:a\"b").error, scope_error::bad_character);
    EXPECT_EQ(parse_scope("mqtt:pub:a\\b").error, scope_error::bad_character);
    EXPECT_EQ(parse_scope("mqtt:pub:caf\xc3\xa9").error, scope_error::bad_character);
    EXPECT_EQ(parse_scope(std::string("mqtt:pub:a\0b", 12)).error, scope_error::bad_character);
    auto p = parse_scope("mqtt:pub:room%20one/caf%C3%A9/%7Bx%7D/100%25");
    ASSERT_TRUE(p.pattern);
    EXPECT_EQ(literal_of(*p.pattern), "room one/caf\xc3\xa9/{x}/100%");
    EXPECT_EQ(parse_scope("mqtt:pub:a%2").error, scope_error::bad_percent);
    EXPECT_EQ(parse_scope("mqtt:pub:a%").error, scope_error::bad_percent);
    EXPECT_EQ(parse_scope("mqtt:pub:a%zz").error, scope_error::bad_percent);
    EXPECT_EQ(parse_scope(std::string(2000, 'm')).error, scope_error::too_long);
}

TEST(scope_grammar, placeholders) {
    auto p = parse_scope("mqtt:pub:d/{client_id}/{sub}/{username}/{claim:tenant}");
    ASSERT_TRUE(p.pattern);
    ASSERT_EQ(p.pattern->parts.size(), 8U);
    EXPECT_EQ(p.pattern->parts[1].what, pattern_part::kind::client_id);
    EXPECT_EQ(p.pattern->parts[3].what, pattern_part::kind::subject);
    EXPECT_EQ(p.pattern->parts[5].what, pattern_part::kind::username);
    EXPECT_EQ(p.pattern->parts[7].what, pattern_part::kind::claim);
    EXPECT_EQ(p.pattern->parts[7].text, "tenant");
    EXPECT_EQ(parse_scope("mqtt:pub:{nope}").error, scope_error::bad_placeholder);
    EXPECT_EQ(parse_scope("mqtt:pub:{client_id").error, scope_error::bad_placeholder);
    EXPECT_EQ(parse_scope("mqtt:pub:a}").error, scope_error::bad_placeholder);
    EXPECT_EQ(parse_scope("mqtt:pub:{claim:}").error, scope_error::bad_placeholder);
}

substitution_values values(std::string client_id, std::string sub = "alice",
                           std::optional<std::string> user = std::nullopt) {
    substitution_values v;
    v.client_id = std::move(client_id);
    v.subject = std::move(sub);
    v.username = std::move(user);
    v.claim = [](std::string_view name) -> std::optional<std::string> {
        if (name == "tenant") {
            return "acme";
        }
        if (name == "evil") {
            return "x/#";
        }
        return std::nullopt;
    };
    return v;
}

TEST(permissions, placeholders_substituted_at_compile_time) {
    auto set = permission_set::compile(
        {"mqtt:pub:devices/{client_id}/up", "mqtt:sub:t/{claim:tenant}/{sub}/#", "openid", "profile"},
        values("dev-1"));
    ASSERT_EQ(set.grants().size(), 2U);
    EXPECT_EQ(set.grants()[0].filter, "devices/dev-1/up");
    EXPECT_EQ(set.grants()[1].filter, "t/acme/alice/#");
    EXPECT_TRUE(set.check_publish("devices/dev-1/up").allow);
    EXPECT_FALSE(set.check_publish("devices/dev-2/up").allow);
    EXPECT_TRUE(set.check_subscribe("t/acme/alice/x").allow);
    EXPECT_FALSE(set.check_subscribe("t/acme/bob/x").allow);
}

// CVE-2017-7650: a client id or username of "#" or "+" must not turn a pattern into a wildcard.
TEST(permissions, wildcard_injection_through_placeholders_is_refused) {
    for (const char* evil : {"#", "+", "a/b", "a+", "x#", "/", ""}) {
        std::vector<std::pair<std::string, std::string>> dropped;
        auto set = permission_set::compile({"mqtt:all:devices/{client_id}/#"}, values(evil), {}, &dropped);
        EXPECT_TRUE(set.grants().empty()) << "client id '" << evil << "'";
        EXPECT_EQ(dropped.size(), 1U);
        EXPECT_FALSE(set.check_publish("devices/other/x").allow);
    }
    auto by_user = permission_set::compile({"mqtt:pub:u/{username}"}, values("c", "s", std::string("#")));
    EXPECT_TRUE(by_user.grants().empty());
    auto no_user = permission_set::compile({"mqtt:pub:u/{username}"}, values("c"));
    EXPECT_TRUE(no_user.grants().empty());
    auto by_claim = permission_set::compile({"mqtt:pub:t/{claim:evil}"}, values("c"));
    EXPECT_TRUE(by_claim.grants().empty());
    auto missing_claim = permission_set::compile({"mqtt:pub:t/{claim:absent}"}, values("c"));
    EXPECT_TRUE(missing_claim.grants().empty());
    std::string nul("a\0b", 3);
    EXPECT_FALSE(is_safe_substitution(nul));
}

TEST(permissions, invalid_filters_after_decoding_are_dropped) {
    // '#' not last, '+' inside a level, a percent-encoded NUL, invalid UTF-8, $share as a grant.
    auto set = permission_set::compile({"mqtt:pub:a/#/b", "mqtt:pub:a+", "mqtt:pub:a%00", "mqtt:pub:%FF",
                                        "mqtt:sub:$share/g/x", "mqtt:pub:ok"},
                                       values("c"));
    ASSERT_EQ(set.grants().size(), 1U);
    EXPECT_EQ(set.grants()[0].filter, "ok");
}

struct coverage_case {
    const char* allowed;
    const char* requested;
    bool covers;
};

TEST(filter_coverage, table) {
    const coverage_case cases[] = {
        {"a/b", "a/b", true},     {"a/b", "a/c", false},     {"a/+", "a/b", true},
        {"a/+", "a/+", true},     {"a/b", "a/+", false},     {"a/+", "a/#", false},
        {"a/+", "a/b/c", false},  {"a/#", "a", true},        {"a/#", "a/#", true},
        {"a/#", "a/b/#", true},   {"a/#", "a/+/c", true},    {"a/+/#", "a/#", false},
        {"a/+/#", "a/b", true},   {"#", "a/b/#", true},      {"#", "#", true},
        {"+", "a", true},         {"+", "a/b", false},       {"+/+", "+/b", true},
        {"a/+/c", "a/+/c", true}, {"a/+/c", "a/b/+", false}, {"a", "a/b", false},
        {"a/b", "a", false},      {"a//b", "a//b", true},    {"a/+/b", "a//b", true},
        {"#", "$SYS/x", false},   {"+/x", "$SYS/x", false},  {"$SYS/#", "$SYS/broker/+", true},
        {"#", "+/x", true},       {"a/#", "b", false},       {"a/b/#", "a", false},
    };
    for (const auto& c : cases) {
        EXPECT_EQ(filter_covers(c.allowed, c.requested), c.covers) << c.allowed << " covers " << c.requested;
    }
}

TEST(permissions, shared_subscriptions_judged_on_the_filter) {
    auto set = permission_set::compile({"mqtt:sub:jobs/#"}, values("c"));
    EXPECT_TRUE(set.check_subscribe("$share/workers/jobs/x").allow);
    EXPECT_FALSE(set.check_subscribe("$share/workers/other").allow);
    EXPECT_FALSE(set.check_subscribe("$share/workers/#").allow);
}

TEST(permissions, dollar_topics_only_when_granted_explicitly) {
    auto broad = permission_set::compile({"mqtt:all:#"}, values("c"));
    EXPECT_TRUE(broad.check_publish("a/b").allow);
    EXPECT_FALSE(broad.check_publish("$SYS/x").allow);
    EXPECT_FALSE(broad.check_subscribe("$SYS/#").allow);
    auto sys = permission_set::compile({"mqtt:sub:$SYS/#"}, values("c"));
    EXPECT_TRUE(sys.check_subscribe("$SYS/broker/clients").allow);
    EXPECT_FALSE(sys.check_publish("$SYS/broker/clients").allow);
}

TEST(permissions, default_deny_and_explanation) {
    auto none = permission_set::compile({}, values("c"));
    auto d = none.check_publish("a");
    EXPECT_FALSE(d.allow);
    EXPECT_EQ(d.rule, "default deny");
    auto set = permission_set::compile({"mqtt:pub:a/+"}, values("c"));
    auto ok = set.check_publish("a/x");
    EXPECT_TRUE(ok.allow);
    EXPECT_EQ(ok.rule, "mqtt:pub:a/+");
    EXPECT_FALSE(set.check_subscribe("a/x").allow);  // pub grant does not allow subscribe
}

TEST(permissions, grant_limit) {
    std::vector<std::string> scopes(300, "mqtt:pub:x");
    scope_limits limits;
    limits.max_grants = 10;
    EXPECT_EQ(permission_set::compile(scopes, values("c"), limits).grants().size(), 10U);
}

}  // namespace
}  // namespace tollgate::auth
