// PUBLISH (§3.3) and PUBACK / PUBREC / PUBREL / PUBCOMP (§3.4-§3.7), both versions.
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

TEST(mqtt_publish, V311QoS0) {
    publish p;
    EXPECT_DECODES_AS(publish, v311, with_length(0x31, {0, 3, 'a', '/', 'b', 'h', 'e', 'l', 'l', 'o'}), p);
    EXPECT_EQ(p.topic, "a/b");
    EXPECT_EQ(p.payload.as_string_view(), "hello");
    EXPECT_EQ(p.qos, 0);
    EXPECT_TRUE(p.retain);
    EXPECT_FALSE(p.dup);
}

TEST(mqtt_publish, V5QoS1WithProperties) {
    publish p;
    // topic "a", packet id 10, properties: message expiry 60, then payload "x"
    EXPECT_DECODES_AS(publish, v5, with_length(0x3A, {0, 1, 'a', 0, 10, 5, 0x02, 0, 0, 0, 60, 'x'}), p);
    EXPECT_EQ(p.qos, 1);
    EXPECT_TRUE(p.dup);
    EXPECT_EQ(p.packet_id, 10);
    EXPECT_EQ(p.properties.message_expiry_interval, 60U);
    EXPECT_EQ(p.payload.as_string_view(), "x");
}

TEST(mqtt_publish, QoS3IsMalformed_MQTT_3_3_1_4) {
    for (const auto v : {v311, v5}) {
        EXPECT_DECODE_ERROR(v, with_length(0x36, {0, 1, 'a', 0, 1, 0}), reason_code::malformed_packet);
    }
}

TEST(mqtt_publish, DupOnQoS0IsMalformed_MQTT_3_3_1_2) {
    for (const auto v : {v311, v5}) {
        EXPECT_DECODE_ERROR(v, with_length(0x38, {0, 1, 'a', 0}), reason_code::malformed_packet);
    }
}

TEST(mqtt_publish, PacketIdentifierZero_MQTT_2_2_1_3) {
    EXPECT_DECODE_ERROR(v311, with_length(0x32, {0, 1, 'a', 0, 0}), reason_code::protocol_error);
    EXPECT_DECODE_ERROR(v5, with_length(0x34, {0, 1, 'a', 0, 0, 0}), reason_code::protocol_error);
}

TEST(mqtt_publish, WildcardsInTopicName_MQTT_3_3_2_2) {
    for (const auto v : {v311, v5}) {
        const bytes props = v == v5 ? bytes{0} : bytes{};
        bytes plus{0, 3, 'a', '/', '+'};
        plus.insert(plus.end(), props.begin(), props.end());
        EXPECT_DECODE_ERROR(v, with_length(0x30, plus), reason_code::topic_name_invalid);
        bytes hash{0, 1, '#'};
        hash.insert(hash.end(), props.begin(), props.end());
        EXPECT_DECODE_ERROR(v, with_length(0x30, hash), reason_code::topic_name_invalid);
    }
}

TEST(mqtt_publish, EmptyTopicName) {
    // 3.1.1: topic names are at least one character [MQTT-4.7.3-1]
    EXPECT_DECODE_ERROR(v311, with_length(0x30, {0, 0, 'x'}), reason_code::malformed_packet);
    // 5.0: only with a Topic Alias (§3.3.2.1)
    EXPECT_DECODE_ERROR(v5, with_length(0x30, {0, 0, 0, 'x'}), reason_code::protocol_error);
    publish p;
    EXPECT_DECODES_AS(publish, v5, with_length(0x30, {0, 0, 3, 0x23, 0, 7, 'x'}), p);
    EXPECT_EQ(p.properties.topic_alias, 7);
}

TEST(mqtt_publish, TopicAliasZero_MQTT_3_3_2_8) {
    EXPECT_DECODE_ERROR(v5, with_length(0x30, {0, 1, 'a', 3, 0x23, 0, 0}), reason_code::topic_alias_invalid);
}

TEST(mqtt_publish, TopicLengthPastTheEnd) {
    EXPECT_DECODE_ERROR(v311, with_length(0x30, {0, 9, 'a'}), reason_code::malformed_packet);
    EXPECT_DECODE_ERROR(v311, with_length(0x30, {0}), reason_code::malformed_packet);
    EXPECT_DECODE_ERROR(v311, with_length(0x32, {0, 1, 'a', 0}),
                        reason_code::malformed_packet);  // half a packet id
    EXPECT_DECODE_ERROR(v5, with_length(0x30, {0, 1, 'a'}),
                        reason_code::malformed_packet);  // no property length
    EXPECT_DECODE_ERROR(v5, with_length(0x30, {0, 1, 'a', 4, 0x02, 0}), reason_code::malformed_packet);
}

TEST(mqtt_publish, TopicMustBeValidUtf8_MQTT_1_5_4_1) {
    EXPECT_DECODE_ERROR(v311, with_length(0x30, {0, 3, 0xED, 0xA0, 0x80}), reason_code::malformed_packet);
    EXPECT_DECODE_ERROR(v5, with_length(0x30, {0, 2, 'a', 0x00, 0}), reason_code::malformed_packet);
}

TEST(mqtt_publish, PayloadFormatIndicator) {
    const bytes bad = with_length(0x30, {0, 1, 'a', 2, 0x01, 0x01, 0xC0, 0x80});
    EXPECT_DECODE_ERROR(v5, bad, reason_code::payload_format_invalid);
    decode_limits lenient;
    lenient.validate_payload_format = false;
    EXPECT_TRUE(std::holds_alternative<packet>(decode_bytes(v5, bad, lenient)));
    // Format 0 (unspecified bytes): anything goes.
    publish p;
    EXPECT_DECODES_AS(publish, v5, with_length(0x30, {0, 1, 'a', 2, 0x01, 0x00, 0xC0, 0x80}), p);
}

TEST(mqtt_publish, SeveralSubscriptionIdentifiersAreAllowed) {
    publish p;
    EXPECT_DECODES_AS(publish, v5, with_length(0x30, {0, 1, 'a', 5, 0x0B, 0x01, 0x0B, 0x80, 0x01}), p);
    EXPECT_EQ(p.properties.subscription_identifiers, (std::vector<std::uint32_t>{1, 128}));
}

TEST(mqtt_publish, ResponseTopicMustBeATopicName) {
    EXPECT_DECODE_ERROR(v5, with_length(0x30, {0, 1, 'a', 4, 0x08, 0, 1, '#'}), reason_code::protocol_error);
    EXPECT_DECODE_ERROR(v5, with_length(0x30, {0, 1, 'a', 3, 0x08, 0, 0}), reason_code::protocol_error);
}

TEST(mqtt_publish, V311IgnoresPropertiesWhenEncoding) {
    publish p{"t", common::shared_bytes::copy_of(std::string_view("x")), 0, false, false, 0, {}};
    p.properties.message_expiry_interval = 5;
    EXPECT_EQ(encode_bytes(p, v311), (bytes{0x30, 0x04, 0, 1, 't', 'x'}));
}

struct ack_kind {
    std::uint8_t first_byte;
    packet_type type;
};
const ack_kind ack_kinds[] = {{0x40, packet_type::puback},
                              {0x50, packet_type::pubrec},
                              {0x62, packet_type::pubrel},
                              {0x70, packet_type::pubcomp}};

TEST(mqtt_ack, V311ExactlyTwoBytes) {
    for (const auto& k : ack_kinds) {
        auto ok = decode_bytes(v311, {k.first_byte, 0x02, 0x12, 0x34});
        ASSERT_TRUE(std::holds_alternative<packet>(ok)) << to_string(k.type);
        EXPECT_EQ(type_of(std::get<packet>(ok)), k.type);
        EXPECT_DECODE_ERROR(v311, (bytes{k.first_byte, 0x03, 0x12, 0x34, 0x00}),
                            reason_code::malformed_packet);
        EXPECT_DECODE_ERROR(v311, (bytes{k.first_byte, 0x01, 0x12}), reason_code::malformed_packet);
        EXPECT_DECODE_ERROR(v311, (bytes{k.first_byte, 0x02, 0x00, 0x00}), reason_code::protocol_error);
    }
    puback a;
    EXPECT_DECODES_AS(puback, v311, (bytes{0x40, 0x02, 0x12, 0x34}), a);
    EXPECT_EQ(a.packet_id, 0x1234);
}

TEST(mqtt_ack, FixedHeaderFlags_MQTT_2_1_3_1) {
    // PUBREL must be 0110 0010 [MQTT-3.6.1-1]; the others 0000.
    for (const auto v : {v311, v5}) {
        EXPECT_DECODE_ERROR(v, (bytes{0x60, 0x02, 0x00, 0x01}), reason_code::malformed_packet);
        EXPECT_DECODE_ERROR(v, (bytes{0x63, 0x02, 0x00, 0x01}), reason_code::malformed_packet);
        EXPECT_DECODE_ERROR(v, (bytes{0x64, 0x02, 0x00, 0x01}), reason_code::malformed_packet);
        EXPECT_DECODE_ERROR(v, (bytes{0x42, 0x02, 0x00, 0x01}), reason_code::malformed_packet);
        EXPECT_DECODE_ERROR(v, (bytes{0x51, 0x02, 0x00, 0x01}), reason_code::malformed_packet);
        EXPECT_DECODE_ERROR(v, (bytes{0x72, 0x02, 0x00, 0x01}), reason_code::malformed_packet);
    }
}

TEST(mqtt_ack, V5ShortAndLongForms) {  // §3.4.2.1: reason code and property length may be omitted
    puback a;
    EXPECT_DECODES_AS(puback, v5, (bytes{0x40, 0x02, 0x00, 0x07}), a);
    EXPECT_EQ(a.reason_code, reason_code::success);
    EXPECT_DECODES_AS(puback, v5, (bytes{0x40, 0x03, 0x00, 0x07, 0x10}), a);
    EXPECT_EQ(a.reason_code, reason_code::no_matching_subscribers);
    EXPECT_DECODES_AS(puback, v5, (bytes{0x40, 0x08, 0x00, 0x07, 0x87, 0x04, 0x1F, 0x00, 0x01, 'n'}), a);
    EXPECT_EQ(a.reason_code, reason_code::not_authorized);
    EXPECT_EQ(a.properties.reason_string, "n");

    EXPECT_EQ(encode_bytes(puback{7, reason_code::success, {}}, v5), (bytes{0x40, 0x02, 0x00, 0x07}));
    EXPECT_EQ(encode_bytes(puback{7, reason_code::no_matching_subscribers, {}}, v5),
              (bytes{0x40, 0x03, 0x00, 0x07, 0x10}));
    EXPECT_EQ(encode_bytes(pubrel{7, reason_code::success, {}}, v5), (bytes{0x62, 0x02, 0x00, 0x07}));
}

TEST(mqtt_ack, V5ReasonCodeMustBeAllowed) {
    EXPECT_DECODE_ERROR(v5, (bytes{0x40, 0x03, 0x00, 0x01, 0x05}),
                        reason_code::protocol_error);  // not a code
    EXPECT_DECODE_ERROR(v5, (bytes{0x40, 0x03, 0x00, 0x01, 0x92}), reason_code::protocol_error);  // PUBREL's
    EXPECT_DECODE_ERROR(v5, (bytes{0x62, 0x03, 0x00, 0x01, 0x10}), reason_code::protocol_error);  // PUBACK's
    EXPECT_DECODE_ERROR(v5, (bytes{0x70, 0x03, 0x00, 0x01, 0x80}), reason_code::protocol_error);
    pubcomp c;
    EXPECT_DECODES_AS(pubcomp, v5, (bytes{0x70, 0x03, 0x00, 0x01, 0x92}), c);
    EXPECT_EQ(c.reason_code, reason_code::packet_identifier_not_found);
    // encoding clamps to the allowed set
    EXPECT_EQ(encode_bytes(pubrel{1, reason_code::not_authorized, {}}, v5),
              (bytes{0x62, 0x03, 0x00, 0x01, 0x92}));
}

TEST(mqtt_ack, V5PropertiesAreChecked) {
    // topic alias is not allowed in PUBACK
    EXPECT_DECODE_ERROR(v5, (bytes{0x40, 0x07, 0x00, 0x01, 0x00, 0x03, 0x23, 0x00, 0x01}),
                        reason_code::malformed_packet);
    // property length past the end
    EXPECT_DECODE_ERROR(v5, (bytes{0x50, 0x05, 0x00, 0x01, 0x00, 0x09, 0x1F}), reason_code::malformed_packet);
    // garbage after the properties
    EXPECT_DECODE_ERROR(v5, (bytes{0x70, 0x05, 0x00, 0x01, 0x00, 0x00, 0x00}), reason_code::malformed_packet);
    EXPECT_DECODE_ERROR(v5, (bytes{0x40, 0x02, 0x00, 0x00}), reason_code::protocol_error);
}

}  // namespace
}  // namespace tollgate::mqtt::test
