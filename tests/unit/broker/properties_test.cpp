// MQTT 5 message properties: topic aliases both ways, message expiry, maximum packet size per
// subscriber, forwarded properties, payload format, request problem information.
#include "harness.hpp"

namespace tollgate::broker::test {
namespace {

using namespace std::chrono_literals;
using mqtt::protocol_version;
using mqtt::reason_code;

class properties_test : public ::testing::Test {
  protected:
    void SetUp() override { f.start(); }
    broker_fixture f;
};

TEST_F(properties_test, inbound_topic_alias_sets_and_resolves_MQTT_3_3_2_12) {
    auto& s = f.client(1);
    s.connect("s");
    s.subscribe("long/topic/name");
    auto& p = f.client(0);
    p.connect("p");
    auto first = make_publish("long/topic/name", "1");
    first.properties.topic_alias = 3;
    p.send(first);
    auto second = make_publish("", "2");
    second.properties.topic_alias = 3;
    p.send(second);
    auto got = s.publishes();
    ASSERT_EQ(got.size(), 2U);
    EXPECT_EQ(got[1].topic, "long/topic/name");
}

TEST_F(properties_test, topic_alias_zero_or_over_maximum_gets_0x94_MQTT_3_3_2_8_and_9) {
    for (std::uint16_t alias : {std::uint16_t{0}, std::uint16_t{11}}) {
        auto& p = f.client(0);
        p.connect("p");
        auto pub = make_publish("t", "x");
        pub.properties.topic_alias = alias;
        std::vector<std::uint8_t> bytes;
        mqtt::encode(pub, protocol_version::v5, bytes);
        p.send_raw(bytes);
        auto d = p.expect<mqtt::disconnect>();
        // Alias 0 may already be rejected by the codec as a malformed property value.
        EXPECT_TRUE(d.reason_code == reason_code::topic_alias_invalid ||
                    d.reason_code == reason_code::malformed_packet ||
                    d.reason_code == reason_code::protocol_error)
            << static_cast<int>(d.reason_code);
        if (alias == 11) {
            EXPECT_EQ(d.reason_code, reason_code::topic_alias_invalid);
        }
        EXPECT_TRUE(p.closed());
    }
}

TEST_F(properties_test, unknown_alias_with_empty_topic_is_a_protocol_error_B2_33) {
    auto& p = f.client(0);
    p.connect("p");
    auto pub = make_publish("", "x");
    pub.properties.topic_alias = 2;
    p.send(pub);
    EXPECT_EQ(p.expect<mqtt::disconnect>().reason_code, reason_code::protocol_error);
}

TEST_F(properties_test, aliases_do_not_survive_a_reconnect_B2_34) {
    auto& p = f.client(0);
    p.connect("p", false, 60);
    auto pub = make_publish("t", "x");
    pub.properties.topic_alias = 1;
    p.send(pub);
    p.drop();
    auto& q = f.client(0);
    q.connect("p", false, 60);
    auto again = make_publish("", "x");
    again.properties.topic_alias = 1;
    q.send(again);
    EXPECT_EQ(q.expect<mqtt::disconnect>().reason_code, reason_code::protocol_error);
}

TEST_F(properties_test, outbound_aliases_only_when_the_client_allows_them_MQTT_3_3_2_10) {
    auto& s = f.client(1);
    auto c = s.make_connect("s");
    c.properties.topic_alias_maximum = 1;
    s.send(c);
    s.expect<mqtt::connack>();
    s.subscribe("#");
    auto& p = f.client(0);
    p.connect("p");
    p.publish("a", "1");
    p.publish("a", "2");
    p.publish("b", "3");
    auto got = s.publishes();
    ASSERT_EQ(got.size(), 3U);
    EXPECT_EQ(got[0].topic, "a");
    EXPECT_EQ(got[0].properties.topic_alias, std::optional<std::uint16_t>(1));
    EXPECT_EQ(got[1].topic, "");  // the alias stands for the topic
    EXPECT_EQ(got[1].properties.topic_alias, std::optional<std::uint16_t>(1));
    EXPECT_EQ(got[2].topic, "b");  // no alias left: full topic
    EXPECT_FALSE(got[2].properties.topic_alias);
    auto& plain = f.client(1);
    plain.connect("plain");
    plain.subscribe("a");
    p.publish("a", "4");
    auto none = plain.publishes();
    ASSERT_EQ(none.size(), 1U);
    EXPECT_FALSE(none[0].properties.topic_alias);
}

TEST_F(properties_test, message_expiry_forwards_the_remaining_time_MQTT_3_3_2_6) {
    auto& s = f.client(1);
    s.connect("s", false, 600);
    s.subscribe("t", 1);
    s.drop();
    auto& p = f.client(0);
    p.connect("p");
    auto pub = make_publish("t", "x", 1, 1);
    pub.properties.message_expiry_interval = 100;
    p.send(pub);
    f.advance(30s);
    auto& back = f.client(1);
    back.connect("s", false, 600);
    auto got = back.publishes();
    ASSERT_EQ(got.size(), 1U);
    ASSERT_TRUE(got[0].properties.message_expiry_interval);
    EXPECT_EQ(*got[0].properties.message_expiry_interval, 70U);
}

TEST_F(properties_test, expired_messages_are_not_delivered_MQTT_3_3_2_5) {
    auto& s = f.client(1);
    s.connect("s", false, 600);
    s.subscribe("t", 1);
    s.drop();
    auto& p = f.client(0);
    p.connect("p");
    auto pub = make_publish("t", "x", 1, 1);
    pub.properties.message_expiry_interval = 10;
    p.send(pub);
    f.advance(11s);
    auto& back = f.client(1);
    back.connect("s", false, 600);
    EXPECT_TRUE(back.publishes().empty());
    EXPECT_EQ(f.b->stats().dropped_expired, 1U);
}

TEST_F(properties_test, too_large_for_one_subscriber_is_dropped_for_it_alone_MQTT_3_1_2_25) {
    auto& small = f.client(1);
    auto c = small.make_connect("small");
    c.properties.maximum_packet_size = 64;
    small.send(c);
    small.expect<mqtt::connack>();
    small.subscribe("t", 1);
    auto& big = f.client(1);
    big.connect("big");
    big.subscribe("t", 1);
    auto& p = f.client(0);
    p.connect("p");
    p.publish("t", std::string(100, 'x'), 1, 1);
    p.publish("t", "small", 1, 2);
    EXPECT_EQ(big.publishes().size(), 2U);
    auto got = small.publishes();
    ASSERT_EQ(got.size(), 1U);
    EXPECT_EQ(payload_of(got[0]), "small");
    EXPECT_FALSE(small.closed());  // B2-45: no disconnect loop
    EXPECT_EQ(f.b->stats().dropped_too_large, 1U);
}

TEST_F(properties_test, application_properties_are_forwarded_unaltered_MQTT_3_3_2_17) {
    auto& s = f.client(1);
    s.connect("s");
    s.subscribe("t");
    auto& p = f.client(0);
    p.connect("p");
    auto pub = make_publish("t", "x");
    pub.properties.user_properties = {{"a", "1"}, {"b", "2"}, {"a", "3"}};
    pub.properties.response_topic = "reply/here";
    pub.properties.correlation_data = common::shared_bytes::copy_of(std::string("corr"));
    pub.properties.content_type = "text/plain";
    pub.properties.payload_format_indicator = 1;
    p.send(pub);
    auto got = s.publishes();
    ASSERT_EQ(got.size(), 1U);
    EXPECT_EQ(got[0].properties.user_properties,
              pub.properties.user_properties);  // order kept [MQTT-3.3.2-18]
    EXPECT_EQ(got[0].properties.response_topic, pub.properties.response_topic);
    EXPECT_EQ(got[0].properties.correlation_data, pub.properties.correlation_data);
    EXPECT_EQ(got[0].properties.content_type, pub.properties.content_type);
    EXPECT_EQ(got[0].properties.payload_format_indicator, std::optional<std::uint8_t>(1));  // [MQTT-3.3.2-4]
}

TEST_F(properties_test, payload_format_1_with_invalid_utf8_is_refused_0x99) {
    auto& p = f.client(0);
    p.connect("p");
    auto pub = make_publish("t", "x", 1, 1);
    pub.payload = common::shared_bytes::copy_of(std::vector<std::uint8_t>{0xC0, 0x80});
    pub.properties.payload_format_indicator = 1;
    p.send(pub);
    EXPECT_EQ(p.expect<mqtt::disconnect>().reason_code, reason_code::payload_format_invalid);
}

TEST_F(properties_test, request_problem_information_0_suppresses_reason_strings_MQTT_3_1_2_29) {
    deferred_authorizer authz;
    broker_fixture g;
    g.start(&authz);
    auto& c = g.client(0);
    auto conn = c.make_connect("c");
    conn.properties.request_problem_information = 0;
    c.send(conn);
    c.expect<mqtt::connack>();
    c.publish("deny/x", "m", 1, 1);
    authz.answer_all();
    g.settle();
    auto ack = c.expect<mqtt::puback>();
    EXPECT_EQ(ack.reason_code, reason_code::not_authorized);
    EXPECT_FALSE(ack.properties.reason_string);
    auto& d = g.client(0);
    d.connect("d");
    d.publish("deny/x", "m", 1, 1);
    authz.answer_all();
    g.settle();
    auto with = d.expect<mqtt::puback>();
    EXPECT_EQ(with.properties.reason_string, std::optional<std::string>("denied by test"));
}

TEST_F(properties_test, v311_publish_to_dollar_topic_is_acked_and_dropped_MQTT_3_3_5_2) {
    auto& s = f.client(1);
    s.connect("s");
    s.subscribe("$foo/#");
    auto& p = f.client(0, protocol_version::v311);
    p.connect("p");
    p.publish("$foo/bar", "x", 1, 1);
    p.expect<mqtt::puback>();
    EXPECT_TRUE(s.publishes().empty());
    EXPECT_FALSE(p.closed());
}

TEST_F(properties_test, publish_with_too_many_levels_gets_0x90_B2_36) {
    auto& p = f.client(0);
    p.connect("p");
    std::string deep;
    for (int i = 0; i < 200; ++i) {
        deep += "a/";
    }
    deep += "b";
    p.publish(deep, "x", 1, 1);
    EXPECT_EQ(p.expect<mqtt::puback>().reason_code, reason_code::topic_name_invalid);
    p.publish(deep, "x", 0);
    EXPECT_EQ(p.expect<mqtt::disconnect>().reason_code, reason_code::topic_name_invalid);
}

}  // namespace
}  // namespace tollgate::broker::test
