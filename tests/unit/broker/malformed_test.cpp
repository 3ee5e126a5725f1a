// Bad input after and before CONNECT (hostile-inputs.md B1, B2): the reason code the spec names,
// then close; never a crash or unbounded memory.
#include <random>

#include "harness.hpp"

namespace tollgate::broker::test {
namespace {

using mqtt::protocol_version;
using mqtt::reason_code;

class malformed_test : public ::testing::Test {
  protected:
    void SetUp() override { f.start(); }
    test_client& connected(protocol_version v = protocol_version::v5) {
        auto& c = f.client(0, v);
        c.connect("c" + std::to_string(n_++));
        return c;
    }
    reason_code disconnect_code(test_client& c) {
        auto d = c.expect<mqtt::disconnect>();
        EXPECT_TRUE(c.closed());
        return d.reason_code;
    }
    broker_fixture f;
    int n_ = 0;
};

TEST_F(malformed_test, publish_qos3_is_malformed_MQTT_3_3_1_4_B2_28) {
    auto& c = connected();
    c.send_raw({0x36, 0x05, 0x00, 0x01, 't', 0x00, 0x01});
    EXPECT_EQ(disconnect_code(c), reason_code::malformed_packet);
}

TEST_F(malformed_test, publish_qos1_with_packet_id_0_B2_29) {
    auto& c = connected();
    c.send_raw({0x32, 0x06, 0x00, 0x01, 't', 0x00, 0x00, 0x00});
    const auto code = disconnect_code(c);
    EXPECT_TRUE(code == reason_code::protocol_error || code == reason_code::malformed_packet);
}

TEST_F(malformed_test, publish_topic_with_wildcard_MQTT_3_3_2_2_B2_31) {
    auto& c = connected();
    c.send_raw({0x30, 0x05, 0x00, 0x02, 'a', '+', 0x00});
    const auto code = disconnect_code(c);
    EXPECT_TRUE(code == reason_code::topic_name_invalid || code == reason_code::malformed_packet);
}

TEST_F(malformed_test, reserved_fixed_header_flags_MQTT_2_1_3_1_B1_8) {
    auto& c = connected();
    c.send_raw({0x80, 0x06, 0x00, 0x01, 0x00, 0x01, 't', 0x00});  // SUBSCRIBE with flags 0 (must be 2)
    EXPECT_EQ(disconnect_code(c), reason_code::malformed_packet);
}

TEST_F(malformed_test, server_only_packets_from_a_client_are_protocol_errors_B2_42) {
    auto& a = connected();
    a.send_raw({0x20, 0x03, 0x00, 0x00, 0x00});  // CONNACK
    EXPECT_EQ(disconnect_code(a), reason_code::protocol_error);
    auto& b = connected();
    b.send_raw({0xD0, 0x00});  // PINGRESP
    EXPECT_EQ(disconnect_code(b), reason_code::protocol_error);
}

TEST_F(malformed_test, subscription_identifier_in_a_client_publish_MQTT_3_3_4_6) {
    auto& c = connected();
    auto p = make_publish("t", "x");
    p.properties.subscription_identifiers.push_back(5);
    c.send(p);
    const auto code = disconnect_code(c);
    EXPECT_TRUE(code == reason_code::protocol_error || code == reason_code::malformed_packet);
}

TEST_F(malformed_test, declared_length_over_the_limit_after_connect_gets_0x95_at_once_B2_44) {
    auto& c = connected();
    c.send_raw({0x30, 0xff, 0xff, 0xff, 0x7f});  // 256 MB declared, nothing sent
    EXPECT_EQ(disconnect_code(c), reason_code::packet_too_large);
}

TEST_F(malformed_test, five_byte_remaining_length_before_connect_closes_B1_6) {
    auto& c = f.client(0);
    c.send_raw({0x10, 0xff, 0xff, 0xff, 0xff, 0x7f});
    EXPECT_TRUE(c.closed());
    EXPECT_TRUE(c.transport->out.empty());
}

TEST_F(malformed_test, v5_connect_with_bad_flags_gets_connack_0x81_B1_11) {
    auto& c = f.client(0);
    // CONNECT v5 with reserved flag bit 0 set.
    c.send_raw({0x10, 0x0e, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x05, 0x03, 0x00, 0x3c, 0x00, 0x00, 0x01, 'a'});
    auto ack = c.expect<mqtt::connack>();
    EXPECT_EQ(ack.reason_code, reason_code::malformed_packet);
    EXPECT_TRUE(c.closed());
}

TEST_F(malformed_test, v311_malformed_connect_closes_without_connack_MQTT_3_1_4_1) {
    auto& c = f.client(0, protocol_version::v311);
    c.send_raw({0x10, 0x0d, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x03, 0x00, 0x3c, 0x00, 0x01, 'a'});
    EXPECT_TRUE(c.closed());
    EXPECT_TRUE(c.transport->out.empty());
}

TEST_F(malformed_test, v311_malformed_packet_after_connect_closes) {
    auto& c = connected(protocol_version::v311);
    c.send_raw({0x36, 0x05, 0x00, 0x01, 't', 0x00, 0x01});
    EXPECT_TRUE(c.closed());
    EXPECT_TRUE(c.inbox_empty());
}

TEST_F(malformed_test, packets_after_the_error_are_not_processed) {
    auto& s = f.client(1);
    s.connect("s");
    s.subscribe("t");
    auto& c = connected();
    std::vector<std::uint8_t> bytes{0x36, 0x05, 0x00, 0x01, 't', 0x00, 0x01};
    mqtt::encode(make_publish("t", "after"), protocol_version::v5, bytes);
    c.send_raw(bytes);
    EXPECT_TRUE(c.closed());
    EXPECT_TRUE(s.publishes().empty());
}

TEST_F(malformed_test, random_bytes_never_crash_the_broker) {
    std::mt19937 rng(12345);
    for (int round = 0; round < 300; ++round) {
        auto& c = f.client(static_cast<unsigned>(round % 2),
                           round % 3 == 0 ? protocol_version::v311 : protocol_version::v5);
        if (round % 2 == 0) {
            c.connect("r" + std::to_string(round));
        }
        std::vector<std::uint8_t> junk(static_cast<std::size_t>(rng() % 64));
        for (auto& b : junk) {
            b = static_cast<std::uint8_t>(rng());
        }
        c.send_raw(junk);
        f.clients.pop_front();
    }
    EXPECT_LE(f.b->stats().sessions, 300U);
}

}  // namespace
}  // namespace tollgate::broker::test
