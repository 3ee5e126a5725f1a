// SUBSCRIBE / UNSUBSCRIBE: codes, limits, shared subscriptions, retained handling, no local,
// subscription identifiers.
#include "harness.hpp"

namespace tollgate::broker::test {
namespace {

using namespace std::chrono_literals;
using mqtt::protocol_version;
using mqtt::reason_code;

class subscribe_test : public ::testing::Test {
  protected:
    void SetUp() override { f.start(); }
    mqtt::suback subscribe_with(test_client& c, mqtt::subscription s, std::uint32_t sub_id = 0) {
        mqtt::subscribe p;
        p.packet_id = 5;
        if (sub_id != 0) {
            p.properties.subscription_identifiers.push_back(sub_id);
        }
        p.subscriptions.push_back(std::move(s));
        c.send(p);
        return c.expect<mqtt::suback>();
    }
    broker_fixture f;
};

TEST_F(subscribe_test, suback_has_one_code_per_filter_MQTT_3_8_4_6) {
    auto& c = f.client(0);
    c.connect("c");
    mqtt::subscribe s;
    s.packet_id = 3;
    s.subscriptions.push_back({"a", 0, false, false, 0});
    s.subscriptions.push_back({"b/+", 1, false, false, 0});
    s.subscriptions.push_back({"c/#", 2, false, false, 0});
    c.send(s);
    auto ack = c.expect<mqtt::suback>();
    EXPECT_EQ(ack.packet_id, 3);
    EXPECT_EQ(ack.reason_codes, (std::vector<reason_code>{reason_code::success, reason_code::granted_qos_1,
                                                          reason_code::granted_qos_2}));
}

TEST_F(subscribe_test, too_many_topic_levels_gets_0x8f_B2_36) {
    auto& c = f.client(0);
    c.connect("c");
    std::string deep;
    for (int i = 0; i < 200; ++i) {
        deep += "a/";
    }
    deep += "b";
    EXPECT_EQ(c.subscribe(deep).reason_codes.at(0), reason_code::topic_filter_invalid);
}

TEST_F(subscribe_test, shared_subscription_with_no_local_is_a_protocol_error_MQTT_3_8_3_4) {
    auto& c = f.client(0);
    c.connect("c");
    mqtt::subscribe s;
    s.packet_id = 1;
    s.subscriptions.push_back({"$share/g/t", 1, true, false, 0});
    c.send(s);
    EXPECT_EQ(c.expect<mqtt::disconnect>().reason_code, reason_code::protocol_error);
}

TEST_F(subscribe_test, over_the_subscription_limit_gets_0x97_B2_39) {
    f.b.reset();
    f.config.max_subscriptions_per_session = 2;
    f.start();
    auto& c = f.client(0);
    c.connect("c");
    EXPECT_EQ(c.subscribe("a").reason_codes.at(0), reason_code::success);
    EXPECT_EQ(c.subscribe("b").reason_codes.at(0), reason_code::success);
    EXPECT_EQ(c.subscribe("c").reason_codes.at(0), reason_code::quota_exceeded);
    EXPECT_EQ(c.subscribe("a", 1).reason_codes.at(0), reason_code::granted_qos_1);  // a replacement is fine
}

TEST_F(subscribe_test, unsuback_0x11_when_no_subscription_existed) {
    auto& c = f.client(0);
    c.connect("c");
    c.subscribe("a");
    mqtt::unsubscribe u;
    u.packet_id = 4;
    u.filters = {"a", "never"};
    c.send(u);
    auto ack = c.expect<mqtt::unsuback>();
    EXPECT_EQ(ack.packet_id, 4);
    EXPECT_EQ(ack.reason_codes,
              (std::vector<reason_code>{reason_code::success, reason_code::no_subscription_existed}));
}

TEST_F(subscribe_test, unsubscribe_stops_delivery_on_every_worker) {
    auto& c = f.client(0);
    c.connect("c");
    c.subscribe("t");
    mqtt::unsubscribe u;
    u.packet_id = 2;
    u.filters = {"t"};
    c.send(u);
    c.expect<mqtt::unsuback>();
    auto& p = f.client(1);
    p.connect("p");
    p.publish("t", "m");
    EXPECT_TRUE(c.publishes().empty());
}

TEST_F(subscribe_test, shared_subscription_round_robin_MQTT_4_8_2) {
    auto& a = f.client(0);
    a.connect("a");
    a.subscribe("$share/g/t", 1);
    auto& b = f.client(1);
    b.connect("b");
    b.subscribe("$share/g/t", 1);
    auto& p = f.client(0);
    p.connect("p");
    for (std::uint16_t i = 1; i <= 10; ++i) {
        p.publish("t", "m", 1, i);
    }
    const auto na = a.publishes().size();
    const auto nb = b.publishes().size();
    EXPECT_EQ(na + nb, 10U);  // each message to exactly one member
    EXPECT_EQ(na, 5U);
    EXPECT_EQ(nb, 5U);
}

TEST_F(subscribe_test, retained_message_sent_on_subscribe_with_retain_flag_MQTT_3_3_1_8) {
    auto& p = f.client(0);
    p.connect("p");
    p.publish("r/t", "kept", 1, 1, true);
    auto& s = f.client(1);
    s.connect("s");
    s.subscribe("r/#", 1);
    auto got = s.publishes();
    ASSERT_EQ(got.size(), 1U);
    EXPECT_TRUE(got[0].retain);
    EXPECT_EQ(payload_of(got[0]), "kept");
}

TEST_F(subscribe_test, empty_retained_payload_clears_MQTT_3_3_1_6) {
    auto& p = f.client(0);
    p.connect("p");
    p.publish("r", "kept", 0, 0, true);
    p.publish("r", "", 0, 0, true);
    auto& s = f.client(1);
    s.connect("s");
    s.subscribe("r");
    EXPECT_TRUE(s.publishes().empty());
    EXPECT_EQ(f.b->stats().retained, 0U);
}

TEST_F(subscribe_test, retain_handling_0_1_2_MQTT_3_3_1_9_to_11) {
    auto& p = f.client(0);
    p.connect("p");
    p.publish("r", "kept", 0, 0, true);
    auto& s = f.client(1);
    s.connect("s");
    EXPECT_EQ(subscribe_with(s, {"r", 0, false, false, 2}).reason_codes.at(0), reason_code::success);
    EXPECT_TRUE(s.publishes().empty());  // 2: never
    subscribe_with(s, {"r", 0, false, false, 1});
    EXPECT_TRUE(s.publishes().empty());  // 1: only for a new subscription; this one existed
    subscribe_with(s, {"r", 0, false, false, 0});
    EXPECT_EQ(s.publishes().size(), 1U);  // 0: always
    auto& t = f.client(1);
    t.connect("t");
    subscribe_with(t, {"r", 0, false, false, 1});
    EXPECT_EQ(t.publishes().size(), 1U);  // 1: new subscription
}

TEST_F(subscribe_test, retain_as_published_MQTT_3_3_1_12_and_13) {
    auto& s = f.client(1);
    s.connect("s");
    subscribe_with(s, {"a", 0, false, true, 2});
    subscribe_with(s, {"b", 0, false, false, 2});
    auto& p = f.client(0);
    p.connect("p");
    p.publish("a", "x", 0, 0, true);
    p.publish("b", "x", 0, 0, true);
    auto got = s.publishes();
    ASSERT_EQ(got.size(), 2U);
    EXPECT_TRUE(got[0].retain);
    EXPECT_FALSE(got[1].retain);
}

TEST_F(subscribe_test, no_local_MQTT_3_8_3_3) {
    auto& c = f.client(0);
    c.connect("c");
    subscribe_with(c, {"t", 0, true, false, 0});
    c.publish("t", "mine");
    EXPECT_TRUE(c.publishes().empty());
    auto& other = f.client(1);
    other.connect("o");
    other.publish("t", "theirs");
    EXPECT_EQ(c.publishes().size(), 1U);
}

TEST_F(subscribe_test, subscription_identifiers_are_forwarded_MQTT_3_3_4_3) {
    auto& s = f.client(1);
    s.connect("s");
    subscribe_with(s, {"a/+", 0, false, false, 0}, 11);
    subscribe_with(s, {"a/#", 0, false, false, 0}, 22);
    auto& p = f.client(0);
    p.connect("p");
    p.publish("a/b", "x");
    auto got = s.publishes();
    ASSERT_EQ(got.size(), 1U);  // one copy for overlapping subscriptions [MQTT-3.3.4-2]
    auto ids = got[0].properties.subscription_identifiers;
    std::sort(ids.begin(), ids.end());
    EXPECT_EQ(ids, (std::vector<std::uint32_t>{11, 22}));
}

TEST_F(subscribe_test, dollar_topics_not_matched_by_leading_wildcards_MQTT_4_7_2_1) {
    auto& s = f.client(1);
    s.connect("s");
    s.subscribe("#");
    s.subscribe("+/x");
    auto& p = f.client(0);
    p.connect("p");
    p.publish("$SYS/x", "m", 1, 1);  // also refused: clients may not publish to $ topics
    EXPECT_EQ(p.expect<mqtt::puback>().reason_code, reason_code::topic_name_invalid);
    EXPECT_TRUE(s.publishes().empty());
}

TEST_F(subscribe_test, wildcards_disabled_gives_0xa2) {
    f.b.reset();
    f.config.wildcard_subscription_available = false;
    f.start();
    auto& c = f.client(0);
    auto ack = c.connect("c");
    EXPECT_EQ(ack.properties.wildcard_subscription_available, std::optional<std::uint8_t>(0));
    EXPECT_EQ(c.subscribe("a/#").reason_codes.at(0), reason_code::wildcard_subscriptions_not_supported);
}

}  // namespace
}  // namespace tollgate::broker::test
