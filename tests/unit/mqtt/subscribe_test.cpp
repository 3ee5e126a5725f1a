// SUBSCRIBE (§3.8), SUBACK (§3.9), UNSUBSCRIBE (§3.10), UNSUBACK (§3.11), both versions.
#include "test_support.hpp"

namespace tollgate::mqtt::test {
namespace {

constexpr auto v311 = protocol_version::v311;
constexpr auto v5 = protocol_version::v5;

bytes with_length(std::uint8_t first, const bytes& body) {
    bytes out{first, static_cast<std::uint8_t>(body.size())};
    out.insert(out.end(), body.begin(), body.end());
    return out;
}

/// SUBSCRIBE with packet id 1 and one filter with the given options (v5 adds an empty property list).
bytes subscribe_one(protocol_version v, std::string_view filter, std::uint8_t options) {
    bytes body{0, 1};
    if (v == v5) {
        body.push_back(0);
    }
    body.push_back(0);
    body.push_back(static_cast<std::uint8_t>(filter.size()));
    body.insert(body.end(), filter.begin(), filter.end());
    body.push_back(options);
    return with_length(0x82, body);
}

TEST(mqtt_subscribe, V311SpecExample) {  // §3.8.3 example: "a/b" QoS 1, "c/d" QoS 2
    subscribe s;
    EXPECT_DECODES_AS(subscribe, v311,
                      with_length(0x82, {0, 10, 0, 3, 'a', '/', 'b', 0x01, 0, 3, 'c', '/', 'd', 0x02}), s);
    EXPECT_EQ(s.packet_id, 10);
    ASSERT_EQ(s.subscriptions.size(), 2U);
    EXPECT_EQ(s.subscriptions[0].filter, "a/b");
    EXPECT_EQ(s.subscriptions[0].max_qos, 1);
    EXPECT_EQ(s.subscriptions[1].filter, "c/d");
    EXPECT_EQ(s.subscriptions[1].max_qos, 2);
}

TEST(mqtt_subscribe, V5SubscriptionOptions) {
    subscribe s;
    // QoS 2, no local, retain as published, retain handling 2, subscription identifier 5
    EXPECT_DECODES_AS(subscribe, v5, with_length(0x82, {0, 1, 2, 0x0B, 5, 0, 1, 't', 0x2E}), s);
    ASSERT_EQ(s.subscriptions.size(), 1U);
    EXPECT_EQ(s.subscriptions[0].max_qos, 2);
    EXPECT_TRUE(s.subscriptions[0].no_local);
    EXPECT_TRUE(s.subscriptions[0].retain_as_published);
    EXPECT_EQ(s.subscriptions[0].retain_handling, 2);
    EXPECT_EQ(s.properties.subscription_identifiers, (std::vector<std::uint32_t>{5}));
}

TEST(mqtt_subscribe, FixedHeaderFlagsMustBe0010_MQTT_3_8_1_1) {
    for (const auto v : {v311, v5}) {
        bytes data = subscribe_one(v, "t", 0);
        data[0] = 0x80;
        EXPECT_DECODE_ERROR(v, data, reason_code::malformed_packet);
        data[0] = 0x83;
        EXPECT_DECODE_ERROR(v, data, reason_code::malformed_packet);
    }
}

TEST(mqtt_subscribe, NoTopicFilters_MQTT_3_8_3_3) {
    EXPECT_DECODE_ERROR(v311, with_length(0x82, {0, 1}), reason_code::malformed_packet);
    // 5.0 [MQTT-3.8.3-2]: a Protocol Error
    EXPECT_DECODE_ERROR(v5, with_length(0x82, {0, 1, 0}), reason_code::protocol_error);
}

TEST(mqtt_subscribe, V311ReservedOptionBitsAndQoS3_MQTT_3_8_3_4) {
    EXPECT_DECODE_ERROR(v311, subscribe_one(v311, "t", 0x04), reason_code::malformed_packet);
    EXPECT_DECODE_ERROR(v311, subscribe_one(v311, "t", 0x80), reason_code::malformed_packet);
    EXPECT_DECODE_ERROR(v311, subscribe_one(v311, "t", 0x03), reason_code::malformed_packet);
}

TEST(mqtt_subscribe, V5ReservedOptionBits_MQTT_3_8_3_5) {
    EXPECT_DECODE_ERROR(v5, subscribe_one(v5, "t", 0x40), reason_code::malformed_packet);
    EXPECT_DECODE_ERROR(v5, subscribe_one(v5, "t", 0x80), reason_code::malformed_packet);
}

TEST(mqtt_subscribe, V5QoS3AndRetainHandling3AreProtocolErrors) {  // §3.8.3.1
    EXPECT_DECODE_ERROR(v5, subscribe_one(v5, "t", 0x03), reason_code::protocol_error);
    EXPECT_DECODE_ERROR(v5, subscribe_one(v5, "t", 0x30), reason_code::protocol_error);
}

TEST(mqtt_subscribe, NoLocalOnASharedSubscription_MQTT_3_8_3_4) {
    EXPECT_DECODE_ERROR(v5, subscribe_one(v5, "$share/g/t", 0x04), reason_code::protocol_error);
    subscribe s;
    EXPECT_DECODES_AS(subscribe, v5, subscribe_one(v5, "$share/g/t", 0x00), s);
}

TEST(mqtt_subscribe, InvalidTopicFilters_MQTT_4_7_1_2_and_3_and_4_7_3_1) {
    for (const auto v : {v311, v5}) {
        for (const char* bad : {"", "a/#/b", "a/b#", "+a", "a+"}) {
            EXPECT_DECODE_ERROR(v, subscribe_one(v, bad, 0), reason_code::malformed_packet);
        }
    }
}

TEST(mqtt_subscribe, InvalidSharedSubscriptions_MQTT_4_8_2_1_and_2) {
    for (const char* bad : {"$share/", "$share//t", "$share/g+/t", "$share/g#/t", "$share/g", "$share/g/"}) {
        EXPECT_DECODE_ERROR(v5, subscribe_one(v5, bad, 0), reason_code::protocol_error);
    }
    // In 3.1.1 there are no shared subscriptions; "$share//t" is an ordinary valid filter.
    subscribe s;
    EXPECT_DECODES_AS(subscribe, v311, subscribe_one(v311, "$share//t", 0), s);
}

TEST(mqtt_subscribe, TruncatedEntries) {
    // filter without its options byte
    EXPECT_DECODE_ERROR(v311, with_length(0x82, {0, 1, 0, 1, 't'}), reason_code::malformed_packet);
    EXPECT_DECODE_ERROR(v5, with_length(0x82, {0, 1, 0, 0, 1, 't'}), reason_code::malformed_packet);
    // filter length past the end
    EXPECT_DECODE_ERROR(v311, with_length(0x82, {0, 1, 0, 5, 't', 0}), reason_code::malformed_packet);
    // half a length
    EXPECT_DECODE_ERROR(v311, with_length(0x82, {0, 1, 0, 1, 't', 0, 0}), reason_code::malformed_packet);
    EXPECT_DECODE_ERROR(v311, with_length(0x82, {0}), reason_code::malformed_packet);
}

TEST(mqtt_subscribe, PacketIdentifierZero_MQTT_2_2_1_3) {
    EXPECT_DECODE_ERROR(v311, with_length(0x82, {0, 0, 0, 1, 't', 0}), reason_code::protocol_error);
}

TEST(mqtt_subscribe, SubscriptionIdentifierRules) {
    // 0 is a Protocol Error (§3.8.2.1.2)
    EXPECT_DECODE_ERROR(v5, with_length(0x82, {0, 1, 2, 0x0B, 0, 0, 1, 't', 0}), reason_code::protocol_error);
    // at most one in SUBSCRIBE
    EXPECT_DECODE_ERROR(v5, with_length(0x82, {0, 1, 4, 0x0B, 1, 0x0B, 2, 0, 1, 't', 0}),
                        reason_code::protocol_error);
    // the maximum, 268,435,455
    subscribe s;
    EXPECT_DECODES_AS(subscribe, v5, with_length(0x82, {0, 1, 5, 0x0B, 0xFF, 0xFF, 0xFF, 0x7F, 0, 1, 't', 0}),
                      s);
    EXPECT_EQ(s.properties.subscription_identifiers, (std::vector<std::uint32_t>{268435455}));
    // non-minimal and 5-byte encodings are malformed [MQTT-1.5.5-1]
    EXPECT_DECODE_ERROR(v5, with_length(0x82, {0, 1, 3, 0x0B, 0x81, 0x00, 0, 1, 't', 0}),
                        reason_code::malformed_packet);
    EXPECT_DECODE_ERROR(v5, with_length(0x82, {0, 1, 6, 0x0B, 0x81, 0x81, 0x81, 0x81, 0x01, 0, 1, 't', 0}),
                        reason_code::malformed_packet);
}

TEST(mqtt_suback, V311) {
    suback s;
    EXPECT_DECODES_AS(suback, v311, with_length(0x90, {0, 10, 0x01, 0x80, 0x02, 0x00}), s);
    EXPECT_EQ(s.reason_codes,
              (std::vector<reason_code>{reason_code::granted_qos_1, reason_code::unspecified_error,
                                        reason_code::granted_qos_2, reason_code::success}));
    // [MQTT-3.9.3-2]: other return codes are reserved
    EXPECT_DECODE_ERROR(v311, with_length(0x90, {0, 10, 0x03}), reason_code::malformed_packet);
    EXPECT_DECODE_ERROR(v311, with_length(0x90, {0, 10, 0x87}), reason_code::malformed_packet);
    EXPECT_DECODE_ERROR(v311, with_length(0x90, {0, 10}), reason_code::malformed_packet);
    EXPECT_DECODE_ERROR(v311, with_length(0x91, {0, 10, 0x00}), reason_code::malformed_packet);
    EXPECT_EQ(encode_bytes(suback{10, {}, {reason_code::not_authorized, reason_code::granted_qos_1}}, v311),
              (bytes{0x90, 0x04, 0, 10, 0x80, 0x01}));
}

TEST(mqtt_suback, V5) {
    suback s;
    EXPECT_DECODES_AS(suback, v5, with_length(0x90, {0, 10, 0, 0x8F, 0x9E, 0xA2, 0x02}), s);
    EXPECT_EQ(s.reason_codes.front(), reason_code::topic_filter_invalid);
    EXPECT_DECODE_ERROR(v5, with_length(0x90, {0, 10, 0, 0x11}), reason_code::protocol_error);
    EXPECT_DECODE_ERROR(v5, with_length(0x90, {0, 10, 0}), reason_code::protocol_error);
    EXPECT_DECODE_ERROR(v5, with_length(0x90, {0, 10, 2, 0x0B, 1, 0x00}), reason_code::malformed_packet);
    EXPECT_EQ(encode_bytes(suback{10, {}, {reason_code::session_taken_over}}, v5),
              (bytes{0x90, 0x04, 0, 10, 0, 0x80}));
}

TEST(mqtt_unsubscribe, BothVersions) {
    unsubscribe u;
    EXPECT_DECODES_AS(unsubscribe, v311, with_length(0xA2, {0, 2, 0, 1, 'a', 0, 3, 'b', '/', '#'}), u);
    EXPECT_EQ(u.filters, (std::vector<std::string>{"a", "b/#"}));
    EXPECT_DECODES_AS(unsubscribe, v5, with_length(0xA2, {0, 2, 0, 0, 1, 'a'}), u);
    EXPECT_EQ(u.filters, (std::vector<std::string>{"a"}));
}

TEST(mqtt_unsubscribe, Malformed) {
    // flags must be 0010 [MQTT-3.10.1-1]
    EXPECT_DECODE_ERROR(v311, with_length(0xA0, {0, 2, 0, 1, 'a'}), reason_code::malformed_packet);
    // at least one filter [MQTT-3.10.3-2]
    EXPECT_DECODE_ERROR(v311, with_length(0xA2, {0, 2}), reason_code::malformed_packet);
    EXPECT_DECODE_ERROR(v5, with_length(0xA2, {0, 2, 0}), reason_code::protocol_error);
    // invalid filter, length past end, packet id 0
    EXPECT_DECODE_ERROR(v311, with_length(0xA2, {0, 2, 0, 2, 'a', '#'}), reason_code::malformed_packet);
    EXPECT_DECODE_ERROR(v311, with_length(0xA2, {0, 2, 0, 4, 'a'}), reason_code::malformed_packet);
    EXPECT_DECODE_ERROR(v311, with_length(0xA2, {0, 0, 0, 1, 'a'}), reason_code::protocol_error);
    EXPECT_DECODE_ERROR(v5, with_length(0xA2, {0, 2, 0, 0, 8, '$', 's', 'h', 'a', 'r', 'e', '/', 'g'}),
                        reason_code::protocol_error);
    // subscription identifier is not an UNSUBSCRIBE property
    EXPECT_DECODE_ERROR(v5, with_length(0xA2, {0, 2, 2, 0x0B, 1, 0, 1, 'a'}), reason_code::malformed_packet);
}

TEST(mqtt_unsuback, BothVersions) {
    unsuback u;
    EXPECT_DECODES_AS(unsuback, v311, with_length(0xB0, {0, 3}), u);
    EXPECT_EQ(u.packet_id, 3);
    EXPECT_DECODE_ERROR(v311, with_length(0xB0, {0, 3, 0}), reason_code::malformed_packet);
    EXPECT_DECODES_AS(unsuback, v5, with_length(0xB0, {0, 3, 0, 0x00, 0x11}), u);
    EXPECT_EQ(u.reason_codes,
              (std::vector<reason_code>{reason_code::success, reason_code::no_subscription_existed}));
    EXPECT_DECODE_ERROR(v5, with_length(0xB0, {0, 3, 0, 0x8E}), reason_code::protocol_error);
    EXPECT_DECODE_ERROR(v5, with_length(0xB0, {0, 3, 0}), reason_code::protocol_error);
    EXPECT_DECODE_ERROR(v5, with_length(0xB2, {0, 3, 0, 0}), reason_code::malformed_packet);
}

}  // namespace
}  // namespace tollgate::mqtt::test
