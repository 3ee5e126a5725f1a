// Sessions ended by the auth layer (end_sessions: token revoked or no longer active) do not publish
// their will; reason strings of denials never push a packet over the client's Maximum Packet Size.
#include "harness.hpp"

namespace tollgate::broker::test {
namespace {

using mqtt::reason_code;

/// Denies every PUBLISH and SUBSCRIBE, inline, with a long reason string.
class wordy_denier final : public authorizer {
  public:
    std::optional<verdict> check(const principal& /*who*/, action /*what*/, std::string_view /*topic*/,
                                 std::uint8_t /*qos*/, bool /*retain*/,
                                 std::function<void(verdict)> /*done*/) override {
        return verdict{false, "default deny", std::string(200, 'r')};
    }
};

mqtt::will will_on(const std::string& topic) {
    mqtt::will w;
    w.topic = topic;
    w.payload = common::shared_bytes::copy_of(std::string("gone"));
    w.qos = 1;
    return w;
}

TEST(session_end, a_revoked_session_does_not_publish_its_will_RFC7009_2) {
    broker_fixture f;
    f.start();
    auto& watcher = f.client(1);
    watcher.connect("watcher");
    watcher.subscribe("will/#", 1);
    auto& victim = f.client(0);
    victim.connect("victim", true, 0, 0, will_on("will/victim"));
    auto& other = f.client(0);
    other.connect("other", true, 0, 0, will_on("will/other"));

    f.b->end_sessions([](const principal& p) { return p.client_id == "victim"; },
                      reason_code::administrative_action, "token revoked");
    f.settle();
    EXPECT_EQ(victim.expect<mqtt::disconnect>().reason_code, reason_code::administrative_action);
    EXPECT_TRUE(victim.closed());
    EXPECT_TRUE(watcher.publishes().empty()) << "the will of a revoked session was published";

    other.drop();  // a network loss still publishes the will [MQTT-3.1.2-8]
    const auto wills = watcher.publishes();
    ASSERT_EQ(wills.size(), 1U);
    EXPECT_EQ(wills[0].topic, "will/other");
}

TEST(session_end, a_will_on_a_dollar_topic_is_never_published_MQTT_4_7_2) {
    broker_fixture f;
    f.start();  // allow_all: the authorizer would grant it
    auto& watcher = f.client(1);
    watcher.connect("watcher");
    watcher.subscribe("$SYS/#", 1);
    auto& c = f.client(0);
    c.connect("c", true, 0, 0, will_on("$SYS/broker/fake"));
    c.drop();
    EXPECT_TRUE(watcher.publishes().empty());
}

TEST(session_end, denial_reason_strings_respect_the_clients_maximum_packet_size_MQTT_3_1_2_25) {
    broker_fixture f;
    wordy_denier deny;
    f.start(&deny);
    auto& small = f.client(0);
    auto c = small.make_connect("small");
    c.properties.maximum_packet_size = 64;
    small.send(c);
    small.expect<mqtt::connack>();
    small.publish("t", "x", 1, 7);
    const auto ack = small.expect<mqtt::puback>();
    EXPECT_EQ(ack.reason_code, reason_code::not_authorized);  // [MQTT-3.4.2-2]: no reason string
    EXPECT_FALSE(ack.properties.reason_string);
    const auto sub = small.subscribe("t", 1, 8);
    ASSERT_EQ(sub.reason_codes.size(), 1U);
    EXPECT_EQ(sub.reason_codes[0], reason_code::not_authorized);  // [MQTT-3.9.2-1]
    EXPECT_FALSE(sub.properties.reason_string);
    EXPECT_FALSE(small.closed());

    auto& big = f.client(0);  // a client without a small maximum still gets the explanation
    big.connect("big");
    big.publish("t", "x", 1, 9);
    EXPECT_EQ(big.expect<mqtt::puback>().properties.reason_string,
              std::optional<std::string>(std::string(200, 'r')));
}

}  // namespace
}  // namespace tollgate::broker::test
