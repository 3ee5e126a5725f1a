#include <gtest/gtest.h>

#include <tollgate/broker/error_mapping.hpp>

namespace tollgate::broker {
namespace {

using mqtt::protocol_version;
using mqtt::reason_code;
using kind = refusal::kind;

TEST(error_mapping, v5_before_connack_is_a_connack_with_the_code) {
    auto r = map_refusal(reason_code::client_identifier_not_valid, refusal_stage::before_connack,
                         protocol_version::v5);
    EXPECT_EQ(r.what, kind::connack);
    EXPECT_EQ(r.wire_code, 0x85);
    r = map_refusal(reason_code::packet_too_large, refusal_stage::before_connack, protocol_version::v5);
    EXPECT_EQ(r.wire_code, 0x95);
}

TEST(error_mapping, v5_connected_is_a_disconnect_with_a_code_disconnect_allows) {
    auto r = map_refusal(reason_code::topic_alias_invalid, refusal_stage::connected, protocol_version::v5);
    EXPECT_EQ(r.what, kind::disconnect);
    EXPECT_EQ(r.wire_code, 0x94);
    // 0x84 is not a DISCONNECT reason code: it is made legal (unspecified error).
    r = map_refusal(reason_code::unsupported_protocol_version, refusal_stage::connected,
                    protocol_version::v5);
    EXPECT_EQ(r.wire_code, 0x80);
}

TEST(error_mapping, v311_connack_return_codes_per_3_2_2_3) {
    auto code = [](reason_code c) {
        return map_refusal(c, refusal_stage::before_connack, protocol_version::v311);
    };
    EXPECT_EQ(code(reason_code::unsupported_protocol_version).wire_code, 1);  // [MQTT-3.1.2-2]
    EXPECT_EQ(code(reason_code::client_identifier_not_valid).wire_code, 2);   // [MQTT-3.1.3-9]
    EXPECT_EQ(code(reason_code::server_unavailable).wire_code, 3);
    EXPECT_EQ(code(reason_code::bad_user_name_or_password).wire_code, 4);
    EXPECT_EQ(code(reason_code::not_authorized).wire_code, 5);
    EXPECT_EQ(code(reason_code::not_authorized).what, kind::connack);
}

TEST(error_mapping, v311_malformed_connect_closes_without_connack) {
    // [MQTT-3.1.4-1]: a CONNECT that does not conform is answered by closing.
    EXPECT_EQ(
        map_refusal(reason_code::malformed_packet, refusal_stage::before_connack, protocol_version::v311)
            .what,
        kind::close);
    EXPECT_EQ(
        map_refusal(reason_code::protocol_error, refusal_stage::before_connack, protocol_version::v311).what,
        kind::close);
}

TEST(error_mapping, v311_connected_refusals_close) {
    EXPECT_EQ(
        map_refusal(reason_code::malformed_packet, refusal_stage::connected, protocol_version::v311).what,
        kind::close);
    EXPECT_EQ(
        map_refusal(reason_code::session_taken_over, refusal_stage::connected, protocol_version::v311).what,
        kind::close);
}

TEST(error_mapping, suback_codes_per_version) {
    EXPECT_EQ(map_suback(reason_code::granted_qos_1, protocol_version::v5), 0x01);
    EXPECT_EQ(map_suback(reason_code::not_authorized, protocol_version::v5), 0x87);
    EXPECT_EQ(map_suback(reason_code::quota_exceeded, protocol_version::v5), 0x97);
    EXPECT_EQ(map_suback(reason_code::not_authorized, protocol_version::v311), 0x80);
    EXPECT_EQ(map_suback(reason_code::granted_qos_2, protocol_version::v311), 0x02);
}

TEST(error_mapping, refusals_in_acks_only_in_v5) {
    EXPECT_TRUE(refusable_in_ack(reason_code::not_authorized, protocol_version::v5));
    EXPECT_TRUE(refusable_in_ack(reason_code::topic_name_invalid, protocol_version::v5));
    EXPECT_FALSE(refusable_in_ack(reason_code::not_authorized, protocol_version::v311));
    EXPECT_FALSE(refusable_in_ack(reason_code::topic_alias_invalid, protocol_version::v5));
}

}  // namespace
}  // namespace tollgate::broker
