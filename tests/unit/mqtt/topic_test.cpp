// UTF-8 string rules (§1.5.4), topic names and filters (§4.7), shared subscriptions (§4.8.2), matching.
#include <string>

#include "test_support.hpp"

namespace tollgate::mqtt::test {
namespace {

std::string s(std::initializer_list<unsigned char> b) {
    return std::string(b.begin(), b.end());
}

TEST(mqtt_utf8, WellFormedStringsAreAccepted) {
    EXPECT_TRUE(is_valid_utf8_string(""));
    EXPECT_TRUE(is_valid_utf8_string("a/b/c"));
    EXPECT_TRUE(is_valid_utf8_string("gr\xC3\xBC\xC3\x9F"));  // ü ß
    EXPECT_TRUE(is_valid_utf8_string("\xE2\x82\xAC"));        // €
    EXPECT_TRUE(is_valid_utf8_string("\xF0\x9D\x84\x9E"));    // U+1D11E
    EXPECT_TRUE(is_valid_utf8_string("\xF4\x8F\xBF\xBF"));    // U+10FFFF
    EXPECT_TRUE(is_valid_utf8_string("\xEF\xBF\xBF"));        // U+FFFF: SHOULD NOT, MAY accept
    EXPECT_TRUE(is_valid_utf8_string("\xEF\xBB\xBF"));        // U+FEFF [MQTT-1.5.4-3]
    EXPECT_TRUE(is_valid_utf8_string("\xED\x9F\xBF"));        // U+D7FF, just below the surrogates
    EXPECT_TRUE(is_valid_utf8_string(std::string(65535, 'a')));
}

TEST(mqtt_utf8, NullCharacterIsRejected_MQTT_1_5_4_2) {
    EXPECT_FALSE(is_valid_utf8_string(s({'a', 0x00, 'b'})));
    EXPECT_FALSE(is_valid_utf8_string(s({0x00})));
    EXPECT_FALSE(is_valid_utf8_string(s({0xC0, 0x80})));  // overlong U+0000 (modified UTF-8)
}

TEST(mqtt_utf8, SurrogatesAndIllFormedSequencesAreRejected_MQTT_1_5_4_1) {
    EXPECT_FALSE(is_valid_utf8_string(s({0xED, 0xA0, 0x80})));        // U+D800
    EXPECT_FALSE(is_valid_utf8_string(s({0xED, 0xBF, 0xBF})));        // U+DFFF
    EXPECT_FALSE(is_valid_utf8_string(s({0xC1, 0xBF})));              // overlong
    EXPECT_FALSE(is_valid_utf8_string(s({0xE0, 0x80, 0xAF})));        // overlong '/'
    EXPECT_FALSE(is_valid_utf8_string(s({0xF0, 0x80, 0x80, 0xAF})));  // overlong
    EXPECT_FALSE(is_valid_utf8_string(s({0xF4, 0x90, 0x80, 0x80})));  // above U+10FFFF
    EXPECT_FALSE(is_valid_utf8_string(s({0xF5, 0x80, 0x80, 0x80})));
    EXPECT_FALSE(is_valid_utf8_string(s({0xFF})));
    EXPECT_FALSE(is_valid_utf8_string(s({0x80})));                // lone continuation
    EXPECT_FALSE(is_valid_utf8_string(s({0xC3})));                // truncated
    EXPECT_FALSE(is_valid_utf8_string(s({0xE2, 0x82})));          // truncated
    EXPECT_FALSE(is_valid_utf8_string(s({0xF0, 0x9D, 0x84})));    // truncated
    EXPECT_FALSE(is_valid_utf8_string(s({0xC3, 0x41})));          // bad continuation
    EXPECT_FALSE(is_valid_utf8_string(std::string(65536, 'a')));  // longer than a UTF-8 string can be
}

TEST(mqtt_utf8, PayloadFormatCheckAllowsNullAndAnyLength) {
    EXPECT_TRUE(is_well_formed_utf8(s({'a', 0x00})));
    EXPECT_TRUE(is_well_formed_utf8(std::string(70000, 'a')));
    EXPECT_FALSE(is_well_formed_utf8(s({0xED, 0xA0, 0x80})));
    EXPECT_FALSE(is_well_formed_utf8(s({0xC0, 0x80})));
}

TEST(mqtt_topic, TopicNames_MQTT_3_3_2_2_and_4_7_3_1) {
    EXPECT_TRUE(is_valid_topic_name("a"));
    EXPECT_TRUE(is_valid_topic_name("/"));
    EXPECT_TRUE(is_valid_topic_name("sport/tennis/player1"));
    EXPECT_TRUE(is_valid_topic_name("$SYS/broker"));
    EXPECT_FALSE(is_valid_topic_name(""));
    EXPECT_FALSE(is_valid_topic_name("a/+"));
    EXPECT_FALSE(is_valid_topic_name("#"));
    EXPECT_FALSE(is_valid_topic_name("a/b#"));
    EXPECT_FALSE(is_valid_topic_name(s({'a', 0x00})));
}

TEST(mqtt_topic, TopicFilters_MQTT_4_7_1_1_to_3) {
    for (const char* ok :
         {"#", "a/#", "+", "+/+", "a/+/b", "/", "+/tennis/#", "sport/+", "//", "/#", "$SYS/#"}) {
        EXPECT_TRUE(is_valid_topic_filter(ok)) << ok;
    }
    for (const char* bad :
         {"", "a/#/b", "a#", "a/b#", "#/a", "+a", "a+", "a/+b/c", "sport/tennis#", "##", "++"}) {
        EXPECT_FALSE(is_valid_topic_filter(bad)) << bad;
    }
}

TEST(mqtt_topic, SharedSubscriptions_MQTT_4_8_2_1_and_2) {
    auto shared = parse_shared_subscription("$share/group/a/+/c");
    ASSERT_TRUE(shared);
    EXPECT_EQ(shared->group, "group");
    EXPECT_EQ(shared->filter, "a/+/c");
    EXPECT_FALSE(parse_shared_subscription("a/b"));
    EXPECT_FALSE(parse_shared_subscription("$share"));
    EXPECT_FALSE(parse_shared_subscription("$shared/g/t"));
    EXPECT_EQ(check_shared_subscription("$share/g/#"), reason_code::success);
    EXPECT_EQ(check_shared_subscription("a/b"), reason_code::success);
    EXPECT_EQ(check_shared_subscription("$share/"), reason_code::protocol_error);
    EXPECT_EQ(check_shared_subscription("$share//t"), reason_code::protocol_error);
    EXPECT_EQ(check_shared_subscription("$share/g+/t"), reason_code::protocol_error);
    EXPECT_EQ(check_shared_subscription("$share/g#/t"), reason_code::protocol_error);
    EXPECT_EQ(check_shared_subscription("$share/g"), reason_code::protocol_error);
    EXPECT_EQ(check_shared_subscription("$share/g/"), reason_code::protocol_error);
    EXPECT_EQ(check_shared_subscription("$share/g/a#"), reason_code::malformed_packet);
}

TEST(mqtt_topic, Levels) {
    EXPECT_EQ(topic_levels("a"), 1U);
    EXPECT_EQ(topic_levels("a/b/c"), 3U);
    EXPECT_EQ(topic_levels("/"), 2U);
    EXPECT_EQ(topic_levels(std::string(100000, '/')), 100001U);
}

struct match_case {
    const char* filter;
    const char* topic;
    bool matches;
};

TEST(mqtt_topic, MatchingFollowsTheSpecExamples) {  // §4.7.1.2, §4.7.1.3, §4.7.2
    const match_case cases[] = {
        {"sport/tennis/player1/#", "sport/tennis/player1", true},
        {"sport/tennis/player1/#", "sport/tennis/player1/ranking", true},
        {"sport/tennis/player1/#", "sport/tennis/player1/score/wimbledon", true},
        {"sport/#", "sport", true},
        {"#", "a/b/c", true},
        {"sport/tennis/+", "sport/tennis/player1", true},
        {"sport/tennis/+", "sport/tennis/player1/ranking", false},
        {"sport/+", "sport", false},
        {"sport/+", "sport/", true},
        {"+/+", "/finance", true},
        {"/+", "/finance", true},
        {"+", "/finance", false},
        {"a/b", "a/b", true},
        {"a/b", "a/b/c", false},
        {"a/b/c", "a/b", false},
        {"a/+/c", "a/x/c", true},
        {"a/+/c", "a/x/d", false},
        {"+/+/+", "a/b", false},
        {"A", "a", false},
        // [MQTT-4.7.2-1]: wildcards at the first level do not match $-topics
        {"#", "$SYS/monitor/Clients", false},
        {"+/monitor/Clients", "$SYS/monitor/Clients", false},
        {"$SYS/#", "$SYS/monitor/Clients", true},
        {"$SYS/monitor/+", "$SYS/monitor/Clients", true},
        {"a/#", "a/$x", true},
    };
    for (const auto& c : cases) {
        EXPECT_EQ(topic_matches(c.filter, c.topic), c.matches) << c.filter << " vs " << c.topic;
    }
}

TEST(mqtt_topic, DeepTopicsNeedNoRecursion) {
    const std::string deep(100000, '/');
    EXPECT_TRUE(topic_matches("#", deep));
    EXPECT_TRUE(topic_matches(deep, deep));
    EXPECT_TRUE(is_valid_topic_filter(std::string(65535, '/')));
}

}  // namespace
}  // namespace tollgate::mqtt::test
