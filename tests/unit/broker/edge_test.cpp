// Races between workers and less common limits.
#include <set>

#include "harness.hpp"

namespace tollgate::broker::test {
namespace {

using namespace std::chrono_literals;
using mqtt::protocol_version;
using mqtt::reason_code;

std::vector<std::uint8_t> bytes_of(const mqtt::packet& p) {
    std::vector<std::uint8_t> out;
    mqtt::encode(p, protocol_version::v5, out);
    return out;
}

TEST(edge, messages_routed_during_a_takeover_follow_the_session) {
    broker_fixture f(3);
    f.start();
    auto& old = f.client(0);
    old.connect("s", false, 60);
    old.subscribe("t", 1);
    auto& pub = f.client(2);
    pub.connect("p");
    auto& fresh = f.client(1);
    // Nothing runs between these: the CONNECT's take-over request and five PUBLISHes race.
    fresh.conn->on_bytes(bytes_of(fresh.make_connect("s", false, 60)));
    for (std::uint16_t i = 1; i <= 5; ++i) {
        pub.conn->on_bytes(bytes_of(make_publish("t", std::to_string(i), 1, i)));
    }
    f.settle();
    EXPECT_TRUE(fresh.expect<mqtt::connack>().session_present);
    std::set<std::string> got;
    for (auto& m : fresh.publishes()) {
        got.insert(payload_of(m));
    }
    EXPECT_EQ(got, (std::set<std::string>{"1", "2", "3", "4", "5"}));  // none lost, duplicates carry DUP
}

TEST(edge, stale_qos2_ids_are_forgotten_after_awaiting_pubrel_timeout) {
    broker_fixture f;
    f.config.receive_maximum = 2;
    f.start();
    auto& p = f.client(0);
    p.connect("p");
    p.publish("t", "a", 2, 1);
    p.publish("t", "b", 2, 2);
    p.expect<mqtt::pubrec>();
    p.expect<mqtt::pubrec>();
    f.advance(61s);
    p.publish("t", "c", 2, 3);
    EXPECT_EQ(p.expect<mqtt::pubrec>().packet_id, 3);  // not DISCONNECT 0x93
    mqtt::pubrel rel;
    rel.packet_id = 1;
    p.send(rel);
    EXPECT_EQ(p.expect<mqtt::pubcomp>().reason_code, reason_code::packet_identifier_not_found);
}

TEST(edge, retain_not_available_gets_0x9a_MQTT_3_2_2_14) {
    broker_fixture f;
    f.config.retain_available = false;
    f.start();
    auto& p = f.client(0);
    EXPECT_EQ(p.connect("p").properties.retain_available, std::optional<std::uint8_t>(0));
    p.publish("t", "x", 0, 0, true);
    EXPECT_EQ(p.expect<mqtt::disconnect>().reason_code, reason_code::retain_not_supported);
}

TEST(edge, qos_above_maximum_qos_gets_0x9b_MQTT_3_2_2_11) {
    broker_fixture f;
    f.config.maximum_qos = 1;
    f.start();
    auto& p = f.client(0);
    EXPECT_EQ(p.connect("p").properties.maximum_qos, std::optional<std::uint8_t>(1));
    p.publish("t", "x", 2, 1);
    EXPECT_EQ(p.expect<mqtt::disconnect>().reason_code, reason_code::qos_not_supported);
}

TEST(edge, will_qos_above_maximum_qos_refused_at_connect_MQTT_3_2_2_12) {
    broker_fixture f;
    f.config.maximum_qos = 0;
    f.start();
    auto& p = f.client(0);
    mqtt::will w;
    w.topic = "w";
    w.qos = 1;
    EXPECT_EQ(p.connect("p", true, 0, 0, w).reason_code, reason_code::qos_not_supported);
}

TEST(edge, subscription_identifiers_unavailable_gets_0xa1) {
    broker_fixture f;
    f.config.subscription_identifier_available = false;
    f.start();
    auto& c = f.client(0);
    c.connect("c");
    mqtt::subscribe s;
    s.packet_id = 1;
    s.properties.subscription_identifiers.push_back(3);
    s.subscriptions.push_back({"t", 0, false, false, 0});
    c.send(s);
    EXPECT_EQ(c.expect<mqtt::disconnect>().reason_code, reason_code::subscription_identifiers_not_supported);
}

TEST(edge, shared_subscriptions_unavailable_gets_0x9e) {
    broker_fixture f;
    f.config.shared_subscription_available = false;
    f.start();
    auto& c = f.client(0);
    c.connect("c");
    EXPECT_EQ(c.subscribe("$share/g/t").reason_codes.at(0), reason_code::shared_subscriptions_not_supported);
}

TEST(edge, shared_subscription_gets_no_retained_messages) {
    broker_fixture f;
    f.start();
    auto& p = f.client(0);
    p.connect("p");
    p.publish("t", "kept", 0, 0, true);
    auto& c = f.client(1);
    c.connect("c");
    c.subscribe("$share/g/t");
    EXPECT_TRUE(c.publishes().empty());
}

TEST(edge, config_validation_names_the_field) {
    broker_config bad;
    bad.receive_maximum = 0;
    ASSERT_TRUE(bad.validate());
    EXPECT_NE(bad.validate()->find("receive_maximum"), std::string::npos);
    broker_fixture f;
    f.config.max_client_id_length = 3;
    EXPECT_THROW(f.start(), std::invalid_argument);
    EXPECT_FALSE(broker_config{}.validate());
}

TEST(edge, many_connections_close_without_leaking_sessions) {
    broker_fixture f;
    f.start();
    for (int i = 0; i < 200; ++i) {
        auto& c = f.client(static_cast<unsigned>(i % 2));
        c.connect("c" + std::to_string(i));
        c.subscribe("t/" + std::to_string(i));
        c.drop();
        f.clients.pop_front();
    }
    EXPECT_EQ(f.b->stats().sessions, 0U);
    EXPECT_EQ(f.b->stats().connections, 0U);
}

}  // namespace
}  // namespace tollgate::broker::test

namespace tollgate::broker::test {
namespace {

TEST(edge, qos0_fan_out_sends_identical_bytes_to_every_subscriber) {
    broker_fixture f;
    f.start();
    auto& a = f.client(1);
    a.connect("a");
    a.subscribe("t");
    auto& b = f.client(1);
    b.connect("b");
    b.subscribe("t");
    const auto a_before = a.transport->out.size();
    const auto b_before = b.transport->out.size();
    auto& p = f.client(0);
    p.connect("p");
    p.publish("t", "shared payload");
    const std::vector<std::uint8_t> a_bytes(a.transport->out.begin() + static_cast<std::ptrdiff_t>(a_before),
                                            a.transport->out.end());
    const std::vector<std::uint8_t> b_bytes(b.transport->out.begin() + static_cast<std::ptrdiff_t>(b_before),
                                            b.transport->out.end());
    EXPECT_FALSE(a_bytes.empty());
    EXPECT_EQ(a_bytes, b_bytes);
    EXPECT_EQ(a.publishes().size(), 1U);
}

TEST(edge, empty_client_id_refused_when_assignment_is_off_B1_16) {
    broker_fixture f;
    f.config.assign_client_ids = false;
    f.start();
    auto& c = f.client(0);
    EXPECT_EQ(c.connect("").reason_code, reason_code::client_identifier_not_valid);
}

TEST(edge, too_many_user_properties_in_connect_B1_20) {
    broker_fixture f;
    f.start();
    auto& c = f.client(0);
    auto conn = c.make_connect("c");
    for (int i = 0; i < 100; ++i) {
        conn.properties.user_properties.emplace_back("k", "v");
    }
    c.send(conn);
    auto ack = c.expect<mqtt::connack>();
    EXPECT_NE(ack.reason_code, reason_code::success);
    EXPECT_TRUE(c.closed());
}

TEST(edge, subscribe_unsubscribe_churn_of_shared_and_plain_leaves_nothing_B2_40) {
    broker_fixture f;
    f.start();
    auto& c = f.client(0);
    c.connect("c");
    for (int i = 0; i < 50; ++i) {
        c.subscribe("$share/g/t");
        c.subscribe("t");
        mqtt::unsubscribe u;
        u.packet_id = 9;
        u.filters = {i % 2 == 0 ? "t" : "$share/g/t", "$share/g/t", "t"};
        c.send(u);
        c.expect<mqtt::unsuback>();
    }
    auto& p = f.client(1);
    p.connect("p");
    p.publish("t", "x");
    EXPECT_TRUE(c.publishes().empty());
}

TEST(edge, disconnect_with_trailing_garbage_is_malformed_B2_47) {
    broker_fixture f;
    f.start();
    auto& c = f.client(0);
    c.connect("c");
    c.send_raw({0xE0, 0x03, 0x00, 0x00, 0xFF});
    const auto d = c.expect<mqtt::disconnect>();
    EXPECT_EQ(d.reason_code, reason_code::malformed_packet);
}

}  // namespace
}  // namespace tollgate::broker::test
