// Reason codes: names, the per-packet allowed sets (§2.4) and the MQTT 3.1.1 mappings.
#include "test_support.hpp"

namespace tollgate::mqtt::test {
namespace {

TEST(mqtt_reason_code, EveryCodeHasANameAndIsRecognised) {
    int known = 0;
    for (int b = 0; b < 256; ++b) {
        const auto code = static_cast<reason_code>(b);
        if (is_reason_code(static_cast<std::uint8_t>(b))) {
            ++known;
            EXPECT_NE(to_string(code), "unknown") << b;
        } else {
            EXPECT_EQ(to_string(code), "unknown") << b;
        }
    }
    EXPECT_EQ(known, 43);  // §2.4 lists 43 distinct values
    EXPECT_EQ(to_string(reason_code::malformed_packet), "malformed_packet");
    EXPECT_EQ(to_string(reason_code::wildcard_subscriptions_not_supported),
              "wildcard_subscriptions_not_supported");
    EXPECT_EQ(to_string(packet_type::auth), "AUTH");
    EXPECT_EQ(to_string(static_cast<packet_type>(0)), "RESERVED");
}

TEST(mqtt_reason_code, AllowedSetsFollowThePacketTables) {
    // §3.2.2.2 CONNACK
    EXPECT_TRUE(is_allowed_reason_code(packet_type::connack, reason_code::bad_authentication_method));
    EXPECT_FALSE(is_allowed_reason_code(packet_type::connack, reason_code::session_taken_over));
    EXPECT_FALSE(is_allowed_reason_code(packet_type::connack, reason_code::granted_qos_1));
    // §3.4.2.1 PUBACK / §3.5.2.1 PUBREC
    EXPECT_TRUE(is_allowed_reason_code(packet_type::puback, reason_code::no_matching_subscribers));
    EXPECT_TRUE(is_allowed_reason_code(packet_type::pubrec, reason_code::payload_format_invalid));
    EXPECT_FALSE(is_allowed_reason_code(packet_type::puback, reason_code::packet_identifier_not_found));
    // §3.6.2.1 PUBREL / §3.7.2.1 PUBCOMP
    EXPECT_TRUE(is_allowed_reason_code(packet_type::pubrel, reason_code::packet_identifier_not_found));
    EXPECT_FALSE(is_allowed_reason_code(packet_type::pubcomp, reason_code::unspecified_error));
    // §3.9.3 SUBACK, §3.11.3 UNSUBACK
    EXPECT_TRUE(is_allowed_reason_code(packet_type::suback, reason_code::granted_qos_2));
    EXPECT_TRUE(
        is_allowed_reason_code(packet_type::suback, reason_code::wildcard_subscriptions_not_supported));
    EXPECT_FALSE(is_allowed_reason_code(packet_type::suback, reason_code::no_subscription_existed));
    EXPECT_TRUE(is_allowed_reason_code(packet_type::unsuback, reason_code::no_subscription_existed));
    EXPECT_FALSE(is_allowed_reason_code(packet_type::unsuback, reason_code::granted_qos_1));
    // §3.14.2.1 DISCONNECT, §3.15.2.1 AUTH
    EXPECT_TRUE(is_allowed_reason_code(packet_type::disconnect, reason_code::disconnect_with_will));
    EXPECT_FALSE(is_allowed_reason_code(packet_type::disconnect, reason_code::banned));
    EXPECT_TRUE(is_allowed_reason_code(packet_type::auth, reason_code::reauthenticate));
    EXPECT_FALSE(is_allowed_reason_code(packet_type::auth, reason_code::not_authorized));
    // packets without reason codes
    EXPECT_FALSE(is_allowed_reason_code(packet_type::publish, reason_code::success));
}

TEST(mqtt_reason_code, NearestAllowedCodeForEncoding) {
    EXPECT_EQ(allowed_reason_code(packet_type::connack, reason_code::session_taken_over),
              reason_code::unspecified_error);
    EXPECT_EQ(allowed_reason_code(packet_type::connack, reason_code::banned), reason_code::banned);
    EXPECT_EQ(allowed_reason_code(packet_type::suback, reason_code::no_subscription_existed),
              reason_code::success);
    EXPECT_EQ(allowed_reason_code(packet_type::pubrel, reason_code::not_authorized),
              reason_code::packet_identifier_not_found);
    EXPECT_EQ(allowed_reason_code(packet_type::auth, reason_code::not_authorized),
              reason_code::continue_authentication);
    EXPECT_EQ(allowed_reason_code(packet_type::unsuback, reason_code::banned),
              reason_code::unspecified_error);
}

TEST(mqtt_reason_code, V311ConnackReturnCodes) {  // §3.2.2.3
    EXPECT_EQ(v311_connack_code(reason_code::success), 0);
    EXPECT_EQ(v311_connack_code(reason_code::unsupported_protocol_version), 1);
    EXPECT_EQ(v311_connack_code(reason_code::client_identifier_not_valid), 2);
    EXPECT_EQ(v311_connack_code(reason_code::server_unavailable), 3);
    EXPECT_EQ(v311_connack_code(reason_code::server_busy), 3);
    EXPECT_EQ(v311_connack_code(reason_code::server_shutting_down), 3);
    EXPECT_EQ(v311_connack_code(reason_code::use_another_server), 3);
    EXPECT_EQ(v311_connack_code(reason_code::connection_rate_exceeded), 3);
    EXPECT_EQ(v311_connack_code(reason_code::unspecified_error), 3);
    EXPECT_EQ(v311_connack_code(reason_code::bad_user_name_or_password), 4);
    EXPECT_EQ(v311_connack_code(reason_code::not_authorized), 5);
    EXPECT_EQ(v311_connack_code(reason_code::banned), 5);
    EXPECT_EQ(v311_connack_code(reason_code::bad_authentication_method), 5);
    EXPECT_EQ(v311_connack_code(reason_code::malformed_packet), 5);
    EXPECT_EQ(v311_connack_code(reason_code::packet_too_large), 5);
    for (int b = 0; b < 256; ++b) {
        EXPECT_LE(v311_connack_code(static_cast<reason_code>(b)), 5);  // never a reserved code
    }
}

TEST(mqtt_reason_code, V311SubackReturnCodes) {  // §3.9.3, [MQTT-3.9.3-2]
    EXPECT_EQ(v311_suback_code(reason_code::success), 0x00);
    EXPECT_EQ(v311_suback_code(reason_code::granted_qos_1), 0x01);
    EXPECT_EQ(v311_suback_code(reason_code::granted_qos_2), 0x02);
    EXPECT_EQ(v311_suback_code(reason_code::not_authorized), 0x80);
    EXPECT_EQ(v311_suback_code(reason_code::topic_filter_invalid), 0x80);
    EXPECT_EQ(v311_suback_code(reason_code::quota_exceeded), 0x80);
}

}  // namespace
}  // namespace tollgate::mqtt::test
