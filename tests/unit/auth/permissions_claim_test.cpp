// The structured permissions claim (docs/auth.md "Structured permissions claim"): parsing with
// limits, bad entries dropped and reported, the same placeholder rules as scopes (CVE-2017-7650),
// and a token carrying only the claim (no mqtt scopes) authorized through the real broker.
#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <tollgate/auth/scope.hpp>

#include "token_env.hpp"

namespace tollgate::auth {
namespace {

namespace bj = boost::json;

bj::object claims_with(std::string_view json, const std::string& name = "mqtt_permissions") {
    bj::object o;
    o[name] = bj::parse(json);
    return o;
}

substitution_values values_for(std::string client_id, std::string subject = "alice") {
    substitution_values v;
    v.client_id = std::move(client_id);
    v.subject = std::move(subject);
    v.claim = [](std::string_view name) -> std::optional<std::string> {
        if (name == "tenant") {
            return std::string("acme");
        }
        return std::nullopt;
    };
    return v;
}

TEST(permissions_claim, compiles_entries_with_placeholders) {
    dropped_list dropped;
    auto set = permission_set::compile({}, claims_with(R"([{"action":"pub","filter":"devices/{client_id}/up"},
                            {"action":"sub","filter":"t/{claim:tenant}/#"},
                            {"action":"all","filter":"room one/caf\u00e9"}])"),
                                       values_for("dev-1"), {}, &dropped);
    EXPECT_TRUE(dropped.empty());
    ASSERT_EQ(set.grants().size(), 3U);
    EXPECT_EQ(set.grants()[0].filter, "devices/dev-1/up");
    EXPECT_EQ(set.grants()[0].source, "mqtt_permissions[0] pub devices/{client_id}/up");
    EXPECT_EQ(set.grants()[2].filter, "room one/caf\xc3\xa9");  // any character, no percent-encoding needed

    auto pub = set.check_publish("devices/dev-1/up");
    EXPECT_TRUE(pub.allow);
    EXPECT_EQ(pub.rule, "mqtt_permissions[0] pub devices/{client_id}/up");
    EXPECT_FALSE(set.check_publish("devices/dev-2/up").allow);
    EXPECT_FALSE(set.check_publish("t/acme/x").allow);  // sub only
    EXPECT_TRUE(set.check_subscribe("t/acme/+").allow);
    EXPECT_FALSE(set.check_subscribe("t/other/#").allow);
    EXPECT_TRUE(set.check_publish("room one/caf\xc3\xa9").allow);
    EXPECT_TRUE(set.check_subscribe("room one/caf\xc3\xa9").allow);
}

TEST(permissions_claim, scopes_and_claim_together_scopes_first) {
    auto set = permission_set::compile({"mqtt:pub:a", "openid"},
                                       claims_with(R"([{"action":"pub","filter":"b"}])"), values_for("d"));
    ASSERT_EQ(set.grants().size(), 2U);
    EXPECT_EQ(set.grants()[0].source, "mqtt:pub:a");
    EXPECT_EQ(set.grants()[1].source, "mqtt_permissions[0] pub b");
}

TEST(permissions_claim, percent_and_braces_follow_the_scope_grammar) {
    dropped_list dropped;
    auto set = permission_set::compile(
        {}, claims_with(R"([{"action":"pub","filter":"100%25/%7Bx%7D"}, {"action":"pub","filter":"a%2"},
                            {"action":"pub","filter":"{nope}"}, {"action":"pub","filter":"a}"}])"),
        values_for("d"), {}, &dropped);
    ASSERT_EQ(set.grants().size(), 1U);
    EXPECT_EQ(set.grants()[0].filter, "100%/{x}");
    ASSERT_EQ(dropped.size(), 3U);
    EXPECT_EQ(dropped[0].first, "mqtt_permissions[1]");
    EXPECT_EQ(dropped[0].second, "bad percent-encoding");
    EXPECT_EQ(dropped[1].second, "unknown or unterminated placeholder");
    EXPECT_EQ(dropped[2].second, "unknown or unterminated placeholder");
}

// CVE-2017-7650: a client id holding a wildcard or '/' must never widen a pattern.
TEST(permissions_claim, unsafe_substitution_drops_the_entry) {
    for (const char* id : {"#", "+", "a/b", ""}) {
        dropped_list dropped;
        auto set =
            permission_set::compile({}, claims_with(R"([{"action":"all","filter":"devices/{client_id}/#"}])"),
                                    values_for(id), {}, &dropped);
        EXPECT_TRUE(set.grants().empty()) << id;
        ASSERT_EQ(dropped.size(), 1U) << id;
        EXPECT_EQ(dropped[0].first, "mqtt_permissions[0] all devices/{client_id}/#");
    }
    // A NUL byte, decoded from %00 or present in the JSON string, never reaches a filter.
    dropped_list dropped;
    auto set = permission_set::compile({}, claims_with(R"([{"action":"pub","filter":"a%00b"},
                                                           {"action":"pub","filter":"a\u0000b"}])"),
                                       values_for("d"), {}, &dropped);
    EXPECT_TRUE(set.grants().empty());
    EXPECT_EQ(dropped.size(), 2U);
}

TEST(permissions_claim, malformed_entries_are_dropped_and_reported) {
    dropped_list dropped;
    auto set = permission_set::compile({}, claims_with(R"([42, "mqtt:pub:a", {"action":"pub"},
            {"filter":"a"}, {"action":"publish","filter":"a"}, {"action":"pub","filter":7},
            {"action":"pub","filter":"a","effect":"deny"}, {"action":"pub","filter":""},
            {"action":"sub","filter":"a/#/b"}, {"action":"sub","filter":"$share/g/a"},
            {"action":"pub","filter":"ok"}])"),
                                       values_for("d"), {}, &dropped);
    ASSERT_EQ(set.grants().size(), 1U);
    EXPECT_EQ(set.grants()[0].filter, "ok");
    ASSERT_EQ(dropped.size(), 10U);
    EXPECT_EQ(dropped[0],
              std::make_pair(std::string("mqtt_permissions[0]"), std::string("entry is not an object")));
    EXPECT_EQ(dropped[1].second, "entry is not an object");
    EXPECT_EQ(dropped[2].second, "needs string members action and filter");
    EXPECT_EQ(dropped[3].second, "needs string members action and filter");
    EXPECT_EQ(dropped[4].second, "action must be pub, sub or all");
    EXPECT_EQ(dropped[5].second, "needs string members action and filter");
    // An unknown member (a deny rule from some other format) never turns into an allow.
    EXPECT_EQ(dropped[6].second, "unknown member (only action and filter)");
    EXPECT_EQ(dropped[7].second, "empty topic pattern");
    EXPECT_EQ(dropped[8].second, "not a valid topic filter");
    EXPECT_EQ(dropped[9].second, "not a valid topic filter");
}

TEST(permissions_claim, claim_not_an_array_is_dropped_whole) {
    for (const char* json : {R"({"action":"pub","filter":"a"})", R"("mqtt:pub:a")", "null", "7"}) {
        dropped_list dropped;
        auto set = permission_set::compile({}, claims_with(json), values_for("d"), {}, &dropped);
        EXPECT_TRUE(set.grants().empty()) << json;
        ASSERT_EQ(dropped.size(), 1U) << json;
        EXPECT_EQ(dropped[0].first, "mqtt_permissions");
    }
}

TEST(permissions_claim, limits_on_entries_filter_length_and_grants) {
    scope_limits limits;
    limits.max_permission_entries = 3;
    limits.max_filter_bytes = 16;
    bj::array entries;
    for (int i = 0; i < 10; ++i) {
        entries.push_back(bj::object{{"action", "pub"}, {"filter", "t/" + std::to_string(i)}});
    }
    entries[1].as_object()["filter"] = std::string(17, 'x');
    bj::object claims;
    claims["mqtt_permissions"] = entries;
    dropped_list dropped;
    auto set = permission_set::compile({}, claims, values_for("d"), limits, &dropped);
    ASSERT_EQ(set.grants().size(), 2U);  // entries 0 and 2; 1 too long; 3.. beyond the limit
    ASSERT_EQ(dropped.size(), 2U);
    EXPECT_EQ(dropped[0].second, "scope too long");
    EXPECT_EQ(dropped[1].first, "mqtt_permissions[3]..9");
    EXPECT_EQ(dropped[1].second, "too many entries");

    limits = {};
    limits.max_grants = 2;
    dropped.clear();
    set = permission_set::compile({"mqtt:pub:s"}, claims, values_for("d"), limits, &dropped);
    EXPECT_EQ(set.grants().size(), 2U);
    EXPECT_EQ(dropped.size(), 2U);  // the dropped list is bounded by max_grants too
}

TEST(permissions_claim, claim_name_is_configurable_and_can_be_off) {
    scope_limits limits;
    limits.permissions_claim = "acl";
    auto claims = claims_with(R"([{"action":"pub","filter":"a"}])", "acl");
    EXPECT_EQ(permission_set::compile({}, claims, values_for("d"), limits).grants().size(), 1U);
    EXPECT_TRUE(permission_set::compile({}, claims, values_for("d")).grants().empty());
    limits.permissions_claim.clear();
    EXPECT_TRUE(permission_set::compile({}, claims, values_for("d"), limits).grants().empty());
}

// A token with only the structured claim (no mqtt scope at all), signed with jose and presented on
// CONNECT: the broker authorizes from the claim ([MQTT-3.3.5-2]-style refusal: PUBACK 0x87).
TEST(permissions_claim, token_with_only_the_claim_through_the_broker) {
    test::auth_fixture a;
    auto claims = a.env.claims("openid profile");
    claims["mqtt_permissions"] = bj::parse(R"([{"action":"pub","filter":"devices/{client_id}/up"},
                                               {"action":"sub","filter":"cmd/{client_id}/#"}])");
    auto& c = a.client();
    ASSERT_EQ(a.connect(c, "dev-9", a.env.sign(claims)).reason_code, mqtt::reason_code::success);
    c.send(broker::test::make_publish("devices/dev-9/up", "x", 1, 1));
    EXPECT_EQ(c.expect<mqtt::puback>().reason_code, mqtt::reason_code::no_matching_subscribers);
    c.send(broker::test::make_publish("devices/dev-8/up", "x", 1, 2));
    EXPECT_EQ(c.expect<mqtt::puback>().reason_code, mqtt::reason_code::not_authorized);
    EXPECT_EQ(c.subscribe("cmd/dev-9/+", 0, 3).reason_codes.at(0), mqtt::reason_code::success);
    EXPECT_EQ(c.subscribe("cmd/#", 0, 4).reason_codes.at(0), mqtt::reason_code::not_authorized);
}

}  // namespace
}  // namespace tollgate::auth
