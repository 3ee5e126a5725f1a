// QoS 0/1/2 in both directions, exactly-once inbound, receive maximum and the inflight window.
#include "harness.hpp"

namespace tollgate::broker::test {
namespace {

using namespace std::chrono_literals;
using mqtt::protocol_version;
using mqtt::reason_code;

class qos_test : public ::testing::Test {
  protected:
    void SetUp() override { f.start(); }
    broker_fixture f;
};

TEST_F(qos_test, qos1_publish_is_acknowledged_and_delivered_MQTT_4_3_2) {
    auto& s = f.client(1);
    s.connect("s");
    s.subscribe("a/b", 1);
    auto& p = f.client(0);
    p.connect("p");
    p.publish("a/b", "m", 1, 7);
    auto ack = p.expect<mqtt::puback>();
    EXPECT_EQ(ack.packet_id, 7);
    EXPECT_EQ(ack.reason_code, reason_code::success);
    auto got = s.publishes();
    ASSERT_EQ(got.size(), 1U);
    EXPECT_EQ(got[0].qos, 1);
    EXPECT_NE(got[0].packet_id, 0);
}

TEST_F(qos_test, no_matching_subscribers_gives_0x10) {
    auto& p = f.client(0);
    p.connect("p");
    p.publish("nobody", "m", 1, 1);
    EXPECT_EQ(p.expect<mqtt::puback>().reason_code, reason_code::no_matching_subscribers);
}

TEST_F(qos_test, delivered_qos_is_the_minimum_of_message_and_subscription_MQTT_3_8_4_6) {
    auto& s = f.client(1);
    s.connect("s");
    s.subscribe("t", 1);
    auto& p = f.client(0);
    p.connect("p");
    p.publish("t", "m", 2, 1);
    p.expect<mqtt::pubrec>();
    auto got = s.publishes();
    ASSERT_EQ(got.size(), 1U);
    EXPECT_EQ(got[0].qos, 1);
}

TEST_F(qos_test, qos2_inbound_is_delivered_once_despite_retransmission_MQTT_4_3_3_10) {
    auto& s = f.client(1);
    s.connect("s");
    s.subscribe("t", 2);
    auto& p = f.client(0);
    p.connect("p");
    p.publish("t", "once", 2, 9);
    EXPECT_EQ(p.expect<mqtt::pubrec>().packet_id, 9);
    auto again = make_publish("t", "once", 2, 9);
    again.dup = true;
    p.send(again);  // packet id reused before PUBREL: the same message
    EXPECT_EQ(p.expect<mqtt::pubrec>().packet_id, 9);
    mqtt::pubrel rel;
    rel.packet_id = 9;
    p.send(rel);
    EXPECT_EQ(p.expect<mqtt::pubcomp>().reason_code, reason_code::success);
    EXPECT_EQ(s.publishes().size(), 1U);
    // After PUBREL the id is free: a new PUBLISH with it is a new message.
    p.publish("t", "second", 2, 9);
    p.expect<mqtt::pubrec>();
    EXPECT_EQ(s.publishes().size(), 1U);
}

TEST_F(qos_test, pubrel_for_an_unknown_id_gets_pubcomp_0x92_B2_41) {
    auto& p = f.client(0);
    p.connect("p");
    mqtt::pubrel rel;
    rel.packet_id = 77;
    p.send(rel);
    EXPECT_EQ(p.expect<mqtt::pubcomp>().reason_code, reason_code::packet_identifier_not_found);
}

TEST_F(qos_test, exceeding_our_receive_maximum_gets_0x93_MQTT_3_3_4_9) {
    f.b.reset();
    f.config.receive_maximum = 3;
    f.start();
    auto& p = f.client(0);
    p.connect("p");
    for (std::uint16_t id = 1; id <= 3; ++id) {
        p.publish("t", "m", 2, id);
        p.expect<mqtt::pubrec>();
    }
    p.publish("t", "m", 2, 4);  // a fourth unacknowledged QoS 2 (no PUBREL sent)
    EXPECT_EQ(p.expect<mqtt::disconnect>().reason_code, reason_code::receive_maximum_exceeded);
}

TEST_F(qos_test, outbound_window_respects_the_clients_receive_maximum_MQTT_3_3_4_7) {
    auto& s = f.client(1);
    auto c = s.make_connect("s");
    c.properties.receive_maximum = 2;
    s.send(c);
    s.expect<mqtt::connack>();
    s.subscribe("t", 1);
    auto& p = f.client(0);
    p.connect("p");
    for (std::uint16_t id = 1; id <= 5; ++id) {
        p.publish("t", std::to_string(id), 1, id);
    }
    auto got = s.publishes();
    ASSERT_EQ(got.size(), 2U);
    s.ack(got[0]);
    auto more = s.publishes();
    ASSERT_EQ(more.size(), 1U);
    EXPECT_EQ(payload_of(more[0]), "3");
    s.ack(got[1]);
    s.ack(more[0]);
    EXPECT_EQ(s.publishes().size(), 2U);
}

TEST_F(qos_test, outbound_qos2_flow_completes_MQTT_4_3_3) {
    auto& s = f.client(1);
    s.connect("s");
    s.subscribe("t", 2);
    auto& p = f.client(0);
    p.connect("p");
    p.publish("t", "m", 2, 1);
    auto got = s.publishes();
    ASSERT_EQ(got.size(), 1U);
    EXPECT_EQ(got[0].qos, 2);
    s.ack(got[0]);  // PUBREC -> PUBREL -> PUBCOMP
    EXPECT_TRUE(s.inbox_empty());
}

TEST_F(qos_test, v311_qos_flows) {
    auto& s = f.client(1, protocol_version::v311);
    s.connect("s");
    EXPECT_EQ(s.subscribe("t", 2).reason_codes.at(0), reason_code::granted_qos_2);
    auto& p = f.client(0, protocol_version::v311);
    p.connect("p");
    p.publish("t", "m", 2, 1);
    p.expect<mqtt::pubrec>();
    mqtt::pubrel rel;
    rel.packet_id = 1;
    p.send(rel);
    p.expect<mqtt::pubcomp>();
    auto got = s.publishes();
    ASSERT_EQ(got.size(), 1U);
    s.ack(got[0]);
}

TEST_F(qos_test, cross_version_delivery_v5_to_v311) {
    auto& s = f.client(1, protocol_version::v311);
    s.connect("s");
    s.subscribe("t", 1);
    auto& p = f.client(0);
    p.connect("p");
    auto pub = make_publish("t", "m", 1, 1);
    pub.properties.user_properties.emplace_back("k", "v");
    p.send(pub);
    auto got = s.publishes();
    ASSERT_EQ(got.size(), 1U);
    EXPECT_EQ(payload_of(got[0]), "m");
}

}  // namespace
}  // namespace tollgate::broker::test
