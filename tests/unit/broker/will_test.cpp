// Wills: sent on network loss, 0x04 and keep-alive timeout; not after 0x00; will delay, cancelled
// by a reconnect; delay longer than the session; wills go through the authorizer.
#include "harness.hpp"

namespace tollgate::broker::test {
namespace {

using namespace std::chrono_literals;
using mqtt::protocol_version;
using mqtt::reason_code;

mqtt::will make_will(std::uint32_t delay = 0, const std::string& topic = "will/t") {
    mqtt::will w;
    w.topic = topic;
    w.payload = common::shared_bytes::copy_of(std::string("gone"));
    w.qos = 1;
    if (delay != 0) {
        w.properties.will_delay_interval = delay;
    }
    return w;
}

class will_test : public ::testing::Test {
  protected:
    void SetUp() override {
        f.start();
        watcher = &f.client(1);
        watcher->connect("watcher");
        watcher->subscribe("will/#", 1);
    }
    std::size_t wills() { return watcher->publishes().size(); }
    broker_fixture f;
    test_client* watcher = nullptr;
};

TEST_F(will_test, network_loss_publishes_the_will_MQTT_3_1_2_8) {
    auto& c = f.client(0);
    c.connect("c", true, 0, 0, make_will());
    c.drop();
    EXPECT_EQ(wills(), 1U);
}

TEST_F(will_test, normal_disconnect_discards_the_will_MQTT_3_1_2_10) {
    auto& c = f.client(0);
    c.connect("c", true, 0, 0, make_will());
    c.send(mqtt::disconnect{});
    EXPECT_TRUE(c.closed());
    EXPECT_EQ(wills(), 0U);
}

TEST_F(will_test, v311_disconnect_discards_the_will_MQTT_3_14_4_3) {
    auto& c = f.client(0, protocol_version::v311);
    c.connect("c", true, 0, 0, make_will());
    c.send(mqtt::disconnect{});
    EXPECT_EQ(wills(), 0U);
}

TEST_F(will_test, disconnect_with_will_message_0x04_publishes_it) {
    auto& c = f.client(0);
    c.connect("c", true, 0, 0, make_will());
    mqtt::disconnect d;
    d.reason_code = reason_code::disconnect_with_will;
    c.send(d);
    EXPECT_EQ(wills(), 1U);
}

TEST_F(will_test, keep_alive_timeout_publishes_the_will) {
    auto& c = f.client(0);
    c.connect("c", true, 0, 4, make_will());
    f.advance(7s);
    EXPECT_TRUE(c.closed());
    EXPECT_EQ(wills(), 1U);
}

TEST_F(will_test, will_delay_postpones_the_will_MQTT_3_1_3_9) {
    auto& c = f.client(0);
    c.connect("c", false, 100, 0, make_will(10));
    c.drop();
    f.advance(9s);
    EXPECT_EQ(wills(), 0U);
    f.advance(2s);
    EXPECT_EQ(wills(), 1U);
}

TEST_F(will_test, reconnect_before_the_delay_cancels_the_will_MQTT_3_1_3_9) {
    auto& c = f.client(0);
    c.connect("c", false, 100, 0, make_will(10));
    c.drop();
    f.advance(5s);
    auto& again = f.client(1);
    EXPECT_TRUE(again.connect("c", false, 100).session_present);
    f.advance(20s);
    EXPECT_EQ(wills(), 0U);
}

TEST_F(will_test, will_delay_longer_than_the_session_fires_at_session_end_B1_22) {
    auto& c = f.client(0);
    c.connect("c", false, 5, 0, make_will(60));
    c.drop();
    f.advance(4s);
    EXPECT_EQ(wills(), 0U);
    f.advance(2s);
    EXPECT_EQ(wills(), 1U);
    f.advance(100s);
    EXPECT_EQ(wills(), 0U);  // once
}

TEST_F(will_test, takeover_publishes_an_undelayed_will) {
    auto& c = f.client(0);
    c.connect("c", false, 100, 0, make_will());
    auto& again = f.client(1);
    again.connect("c", false, 100);
    EXPECT_EQ(wills(), 1U);  // B2-48: the old connection ended without DISCONNECT
}

TEST_F(will_test, wills_go_through_the_authorizer) {
    broker_fixture g;
    deferred_authorizer authz;
    g.start(&authz);
    auto& w = g.client(1);
    w.connect("w");
    mqtt::subscribe sub;
    sub.packet_id = 1;
    sub.subscriptions.push_back({"#", 1, false, false, 0});
    w.send(sub);
    authz.answer_all();
    g.settle();
    w.expect<mqtt::suback>();
    auto& c = g.client(0);
    c.connect("c", true, 0, 0, make_will(0, "deny/will"));
    auto& d = g.client(0);
    d.connect("d", true, 0, 0, make_will(0, "will/ok"));
    c.drop();
    d.drop();
    ASSERT_EQ(authz.asked.size(), 2U);  // asked when published, not at CONNECT
    EXPECT_EQ(authz.asked[0].topic, "deny/will");
    authz.answer_all();
    g.settle();
    auto got = w.publishes();
    ASSERT_EQ(got.size(), 1U);
    EXPECT_EQ(got[0].topic, "will/ok");
}

TEST_F(will_test, will_message_expiry_starts_at_publication) {
    auto& c = f.client(0);
    auto w = make_will(10);
    w.properties.message_expiry_interval = 30;
    c.connect("c", false, 100, 0, w);
    c.drop();
    f.advance(11s);
    auto got = watcher->publishes();
    ASSERT_EQ(got.size(), 1U);
    ASSERT_TRUE(got[0].properties.message_expiry_interval);
    EXPECT_GE(*got[0].properties.message_expiry_interval, 29U);
}

}  // namespace
}  // namespace tollgate::broker::test
