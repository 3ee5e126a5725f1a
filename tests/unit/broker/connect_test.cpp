// CONNECT handling, client identifiers, connect timeout, keep alive.
#include "harness.hpp"

namespace tollgate::broker::test {
namespace {

using namespace std::chrono_literals;
using mqtt::protocol_version;
using mqtt::reason_code;

class connect_test : public ::testing::Test {
  protected:
    void SetUp() override { f.start(); }
    broker_fixture f;
};

TEST_F(connect_test, first_packet_not_connect_closes_MQTT_3_1_0_1) {
    auto& c = f.client(0);
    c.send_raw({0x40, 0x02, 0x00, 0x01});  // PUBACK before CONNECT (B1-3)
    EXPECT_TRUE(c.closed());
    EXPECT_TRUE(c.transport->out.empty());
}

TEST_F(connect_test, second_connect_is_a_protocol_error_MQTT_3_1_0_2) {
    auto& c = f.client(0);
    EXPECT_EQ(c.connect("a").reason_code, reason_code::success);
    c.send(c.make_connect("a"));
    EXPECT_EQ(c.expect<mqtt::disconnect>().reason_code, reason_code::protocol_error);
    EXPECT_TRUE(c.closed());
}

TEST_F(connect_test, second_connect_v311_closes) {
    auto& c = f.client(0, protocol_version::v311);
    c.connect("a");
    c.send(c.make_connect("a"));
    EXPECT_TRUE(c.inbox_empty());
    EXPECT_TRUE(c.closed());
}

TEST_F(connect_test, unsupported_level_6_gets_connack_0x84_MQTT_3_1_2_2) {
    auto& c = f.client(0);
    // CONNECT "MQTT" level 6, flags 02, keep alive 60, props 0, client id "a"
    c.send_raw({0x10, 0x0e, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x06, 0x02, 0x00, 0x3c, 0x00, 0x00, 0x01, 'a'});
    EXPECT_EQ(c.transport->out, (std::vector<std::uint8_t>{0x20, 0x03, 0x00, 0x84, 0x00}));
    EXPECT_TRUE(c.closed());
}

TEST_F(connect_test, unsupported_level_3_gets_v311_return_code_1) {
    auto& c = f.client(0);
    c.send_raw({0x10, 0x0d, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x03, 0x02, 0x00, 0x3c, 0x00, 0x01, 'a'});
    EXPECT_EQ(c.transport->out, (std::vector<std::uint8_t>{0x20, 0x02, 0x00, 0x01}));
    EXPECT_TRUE(c.closed());
}

TEST_F(connect_test, empty_client_id_v5_gets_an_assigned_identifier_MQTT_3_1_3_6) {
    auto& c = f.client(0);
    auto ack = c.connect("");
    EXPECT_EQ(ack.reason_code, reason_code::success);
    ASSERT_TRUE(ack.properties.assigned_client_identifier);
    EXPECT_FALSE(ack.properties.assigned_client_identifier->empty());
}

TEST_F(connect_test, empty_client_id_v311_needs_clean_session_MQTT_3_1_3_8) {
    auto& a = f.client(0, protocol_version::v311);
    EXPECT_EQ(a.connect("", false).reason_code, reason_code::client_identifier_not_valid);  // rc 2
    EXPECT_EQ(a.transport->out, (std::vector<std::uint8_t>{0x20, 0x02, 0x00, 0x02}));
    EXPECT_TRUE(a.closed());
    auto& b = f.client(0, protocol_version::v311);
    EXPECT_EQ(b.connect("", true).reason_code, reason_code::success);  // [MQTT-3.1.3-7]
}

TEST_F(connect_test, client_id_over_the_limit_is_refused_0x85) {
    auto& c = f.client(0);
    EXPECT_EQ(c.connect(std::string(300, 'x')).reason_code, reason_code::client_identifier_not_valid);
    EXPECT_TRUE(c.closed());
}

TEST_F(connect_test, connack_advertises_limits) {
    auto& c = f.client(0);
    auto ack = c.connect("a");
    EXPECT_EQ(ack.properties.maximum_packet_size, f.config.max_packet_size);
    EXPECT_EQ(ack.properties.receive_maximum, f.config.receive_maximum);
    EXPECT_EQ(ack.properties.topic_alias_maximum, f.config.topic_alias_maximum);
    EXPECT_FALSE(ack.session_present);
}

TEST_F(connect_test, connect_timeout_closes_a_silent_connection_B1_1) {
    auto& c = f.client(0);
    f.advance(9900ms);
    EXPECT_FALSE(c.closed());
    f.advance(200ms);
    EXPECT_TRUE(c.closed());
}

TEST_F(connect_test, connect_timeout_covers_a_trickled_connect_B1_2) {
    auto& c = f.client(0);
    const std::vector<std::uint8_t> bytes{0x10, 0x0d, 0x00, 0x04, 'M',  'Q', 'T',
                                          'T',  0x04, 0x02, 0x00, 0x3c, 0x00};
    for (std::size_t i = 0; i < bytes.size() && !c.closed(); ++i) {
        c.send_raw({bytes[i]});
        f.advance(1s);
    }
    EXPECT_TRUE(c.closed());
}

TEST_F(connect_test, keep_alive_closes_after_one_and_a_half_times_MQTT_3_1_2_24) {
    auto& c = f.client(0);
    c.connect("a", true, 0, 10);
    f.advance(14800ms);
    EXPECT_FALSE(c.closed());
    f.advance(400ms);
    EXPECT_EQ(c.expect<mqtt::disconnect>().reason_code, reason_code::keep_alive_timeout);  // 0x8D
    EXPECT_TRUE(c.closed());
}

TEST_F(connect_test, pingreq_keeps_the_connection_alive_MQTT_3_12_4_1) {
    auto& c = f.client(0);
    c.connect("a", true, 0, 10);
    for (int i = 0; i < 5; ++i) {
        f.advance(9s);
        c.send(mqtt::pingreq{});
        c.expect<mqtt::pingresp>();
    }
    EXPECT_FALSE(c.closed());
}

TEST_F(connect_test, server_keep_alive_caps_a_long_keep_alive_MQTT_3_2_2_21) {
    auto& c = f.client(0);
    auto ack = c.connect("a", true, 0, 1000);
    EXPECT_EQ(ack.properties.server_keep_alive, std::optional<std::uint16_t>(600));
    f.advance(899s);
    EXPECT_FALSE(c.closed());
    f.advance(2s);
    EXPECT_TRUE(c.closed());
}

TEST_F(connect_test, packet_over_maximum_packet_size_gets_0x95) {
    f.b.reset();
    f.config.max_packet_size = 1024;
    f.start();
    auto& c = f.client(0);
    c.connect("a");
    c.publish("t", std::string(2000, 'x'));
    EXPECT_EQ(c.expect<mqtt::disconnect>().reason_code, reason_code::packet_too_large);
    EXPECT_TRUE(c.closed());
}

TEST_F(connect_test, http_request_on_the_mqtt_port_closes_at_the_first_byte_MQTT_3_1_0_1) {
    auto& c = f.client(0);
    // "GET " reads as a fixed header declaring more bytes; the first byte alone settles it (B1-3).
    c.send_raw({'G', 'E', 'T', ' '});
    EXPECT_TRUE(c.closed());
    EXPECT_TRUE(c.transport->out.empty());
}

TEST_F(connect_test, oversized_v5_connect_gets_connack_0x95_before_close) {
    auto& c = f.client(0);
    // A v5 CONNECT declaring 100000 bytes, over the 64 KiB pre-CONNECT limit (§4.13.1 allows a
    // CONNACK with the reason before closing).
    c.send_raw({0x10, 0xa0, 0x8d, 0x06, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x05, 0x02, 0x00, 0x3c});
    ASSERT_GE(c.transport->out.size(), 4U);
    EXPECT_EQ(c.transport->out[0], 0x20);
    EXPECT_EQ(c.transport->out[3], 0x95);
    EXPECT_TRUE(c.closed());
}

TEST_F(connect_test, oversized_v311_connect_just_closes) {
    auto& c = f.client(0);
    c.send_raw({0x10, 0xa0, 0x8d, 0x06, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x02, 0x00, 0x3c});
    EXPECT_TRUE(c.closed());
    EXPECT_TRUE(c.transport->out.empty());
}

TEST_F(connect_test, huge_declared_length_before_connect_costs_nothing_B1_4) {
    auto& c = f.client(0);
    c.send_raw({0x10, 0xff, 0xff, 0xff, 0x7f});  // CONNECT declaring 268435455 bytes (B1-5)
    EXPECT_TRUE(c.closed());
}

}  // namespace
}  // namespace tollgate::broker::test
