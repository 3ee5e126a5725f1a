// CONNECT (§3.1) and CONNACK (§3.2), both versions: spec examples and every malformed form.
#include "test_support.hpp"

namespace tollgate::mqtt::test {
namespace {

constexpr auto v311 = protocol_version::v311;
constexpr auto v5 = protocol_version::v5;

/// A CONNECT with the given variable-header-and-payload body (after the fixed header).
bytes connect_packet(const bytes& body) {
    bytes out{0x10, static_cast<std::uint8_t>(body.size())};
    out.insert(out.end(), body.begin(), body.end());
    return out;
}

bytes header(std::uint8_t level, std::uint8_t flags) {
    return {0, 4, 'M', 'Q', 'T', 'T', level, flags, 0, 60};
}

bytes cat(bytes a, const bytes& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

std::variant<connect, decode_error> decode_c(const bytes& data) {
    auto f = frame_of(data);
    if (auto* e = std::get_if<decode_error>(&f)) {
        return *e;
    }
    return decode_connect(std::get<frame>(f));
}

reason_code connect_error(const bytes& data) {
    auto r = decode_c(data);
    if (auto* e = std::get_if<decode_error>(&r)) {
        return e->code;
    }
    ADD_FAILURE() << "decoded: " << hex(data);
    return reason_code::success;
}

TEST(mqtt_connect, V311SpecExampleWithWillUserAndPassword) {
    // §3.1.2.10 example flags 0xCE: user name, password, will QoS 1, will flag, clean session.
    const bytes data = connect_packet(
        cat(header(4, 0xCE), {0, 3, 'c', 'i', 'd', 0, 2, 'w', 't', 0, 2, 'w', 'm', 0, 1, 'u', 0, 1, 'p'}));
    connect c;
    EXPECT_DECODES_AS(connect, v311, data, c);
    EXPECT_EQ(c.protocol_version, v311);
    EXPECT_TRUE(c.clean_start);
    EXPECT_EQ(c.keep_alive, 60);
    EXPECT_EQ(c.client_id, "cid");
    ASSERT_TRUE(c.will);
    EXPECT_EQ(c.will->topic, "wt");
    EXPECT_EQ(c.will->payload.as_string_view(), "wm");
    EXPECT_EQ(c.will->qos, 1);
    EXPECT_FALSE(c.will->retain);
    EXPECT_EQ(c.username, "u");
    ASSERT_TRUE(c.password);
    EXPECT_EQ(c.password->as_string_view(), "p");
    EXPECT_EQ(encode_bytes(c, v311), data);
}

TEST(mqtt_connect, V5SpecExampleWithSessionExpiry) {
    // §3.1.2.11 example: flags 0xC2, keep alive 10, properties length 5, Session Expiry Interval 10.
    const bytes data = connect_packet(
        {0, 4, 'M', 'Q', 'T', 'T', 5, 0xC2, 0, 10, 5, 0x11, 0, 0, 0, 10, 0, 1, 'c', 0, 1, 'u', 0, 1, 'p'});
    connect c;
    EXPECT_DECODES_AS(connect, v5, data, c);
    EXPECT_EQ(c.protocol_version, v5);
    EXPECT_EQ(c.keep_alive, 10);
    EXPECT_EQ(c.properties.session_expiry_interval, 10U);
    EXPECT_EQ(c.client_id, "c");
    EXPECT_EQ(encode_bytes(c, v5), data);
}

TEST(mqtt_connect, ReservedFlagIsMalformed_MQTT_3_1_2_3) {
    EXPECT_EQ(connect_error(connect_packet(cat(header(4, 0x03), {0, 1, 'c'}))),
              reason_code::malformed_packet);
    EXPECT_EQ(connect_error(connect_packet(cat(header(5, 0x03), {0, 0, 1, 'c'}))),
              reason_code::malformed_packet);
}

TEST(mqtt_connect, WillFlagConsistency_MQTT_3_1_2_11_to_15) {
    for (const std::uint8_t level : {4, 5}) {
        const bytes props = level == 5 ? bytes{0} : bytes{};
        const bytes tail = cat(props, {0, 1, 'c'});
        // Will QoS 1 without the will flag [MQTT-3.1.2-13]
        EXPECT_EQ(connect_error(connect_packet(cat(header(level, 0x0A), tail))),
                  reason_code::malformed_packet);
        // Will retain without the will flag [MQTT-3.1.2-15]
        EXPECT_EQ(connect_error(connect_packet(cat(header(level, 0x22), tail))),
                  reason_code::malformed_packet);
        // Will QoS 3 [MQTT-3.1.2-14]
        const bytes will_tail = cat(cat(tail, props), {0, 1, 't', 0, 0});
        EXPECT_EQ(connect_error(connect_packet(cat(header(level, 0x1E), will_tail))),
                  reason_code::malformed_packet);
        // Will flag set but the will topic is missing [MQTT-3.1.2-9]
        EXPECT_EQ(connect_error(connect_packet(cat(header(level, 0x06), tail))),
                  reason_code::malformed_packet);
        // Will QoS 2 with retain is fine
        auto ok = decode_c(connect_packet(cat(header(level, 0x36), will_tail)));
        ASSERT_TRUE(std::holds_alternative<connect>(ok));
        EXPECT_EQ(std::get<connect>(ok).will->qos, 2);
        EXPECT_TRUE(std::get<connect>(ok).will->retain);
    }
}

TEST(mqtt_connect, PasswordWithoutUserName_MQTT_3_1_2_22) {
    const bytes v311_data = connect_packet(cat(header(4, 0x42), {0, 1, 'c', 0, 2, 'p', 'w'}));
    EXPECT_EQ(connect_error(v311_data), reason_code::malformed_packet);
    // Allowed in 5.0 (§3.1.2.9).
    auto ok = decode_c(connect_packet(cat(header(5, 0x42), {0, 0, 1, 'c', 0, 2, 'p', 'w'})));
    ASSERT_TRUE(std::holds_alternative<connect>(ok));
    EXPECT_FALSE(std::get<connect>(ok).username);
    EXPECT_EQ(std::get<connect>(ok).password->as_string_view(), "pw");
}

TEST(mqtt_connect, ProtocolNameAndLevel_MQTT_3_1_2_1_and_2) {
    auto named = [](std::string_view name, std::uint8_t level) {
        bytes body{0, static_cast<std::uint8_t>(name.size())};
        body.insert(body.end(), name.begin(), name.end());
        body.insert(body.end(), {level, 0x02, 0, 60, 0, 1, 'c'});
        return connect_packet(body);
    };
    EXPECT_EQ(connect_error(named("MQIsdp", 3)), reason_code::unsupported_protocol_version);
    EXPECT_EQ(connect_error(named("MQIsdp", 4)), reason_code::unsupported_protocol_version);
    EXPECT_EQ(connect_error(named("MQTT", 3)), reason_code::unsupported_protocol_version);
    EXPECT_EQ(connect_error(named("MQTT", 2)), reason_code::unsupported_protocol_version);
    EXPECT_EQ(connect_error(named("MQTT", 6)), reason_code::unsupported_protocol_version);
    EXPECT_EQ(connect_error(named("MQTTT", 4)), reason_code::malformed_packet);
    EXPECT_EQ(connect_error(named("mqtt", 4)), reason_code::malformed_packet);
    EXPECT_EQ(connect_error(named("", 4)), reason_code::malformed_packet);
}

TEST(mqtt_connect, FieldsPastTheRemainingLengthAreMalformed) {
    // The "NanoMQ CWE-119" packet: flags claim user name and password but the remaining length is 7.
    EXPECT_EQ(connect_error(bytes{0x10, 0x07, 0, 4, 'M', 'Q', 'T', 'T', 4}), reason_code::malformed_packet);
    EXPECT_EQ(connect_error(connect_packet(header(4, 0xC2))), reason_code::malformed_packet);
    EXPECT_EQ(connect_error(connect_packet(cat(header(4, 0xC2), {0, 1, 'c', 0, 1, 'u', 0, 9, 'p'}))),
              reason_code::malformed_packet);
    EXPECT_EQ(connect_error(connect_packet(cat(header(4, 0x02), {0, 5, 'c'}))),
              reason_code::malformed_packet);
}

TEST(mqtt_connect, TrailingBytesAreMalformed) {
    EXPECT_EQ(connect_error(connect_packet(cat(header(4, 0x02), {0, 1, 'c', 0}))),
              reason_code::malformed_packet);
    EXPECT_EQ(connect_error(connect_packet(cat(header(5, 0x02), {0, 0, 1, 'c', 0}))),
              reason_code::malformed_packet);
}

TEST(mqtt_connect, InvalidUtf8InStrings_MQTT_1_5_4_1_and_2) {
    const bytes bad_strings[] = {{0, 2, 'a', 0x00}, {0, 3, 0xED, 0xA0, 0x80}, {0, 2, 0xC0, 0x80}};
    for (const bytes& bad : bad_strings) {
        // client identifier
        EXPECT_EQ(connect_error(connect_packet(cat(header(4, 0x02), bad))), reason_code::malformed_packet);
        // user name
        EXPECT_EQ(connect_error(connect_packet(cat(header(4, 0x82), cat({0, 1, 'c'}, bad)))),
                  reason_code::malformed_packet);
        // will topic
        EXPECT_EQ(
            connect_error(connect_packet(cat(header(5, 0x06), cat(cat({0, 0, 1, 'c', 0}, bad), {0, 0})))),
            reason_code::malformed_packet);
    }
}

TEST(mqtt_connect, EmptyClientIdWithPersistentSessionIn311_MQTT_3_1_3_8) {
    EXPECT_EQ(connect_error(connect_packet(cat(header(4, 0x00), {0, 0}))),
              reason_code::client_identifier_not_valid);
    EXPECT_TRUE(std::holds_alternative<connect>(decode_c(connect_packet(cat(header(4, 0x02), {0, 0})))));
    // 5.0: the server may assign one (§3.1.3.1)
    EXPECT_TRUE(std::holds_alternative<connect>(decode_c(connect_packet(cat(header(5, 0x00), {0, 0, 0})))));
}

TEST(mqtt_connect, WillTopicMustBeATopicName) {
    EXPECT_EQ(connect_error(connect_packet(cat(header(4, 0x06), {0, 1, 'c', 0, 3, 'a', '/', '#', 0, 0}))),
              reason_code::topic_name_invalid);
    EXPECT_EQ(connect_error(connect_packet(cat(header(4, 0x06), {0, 1, 'c', 0, 0, 0, 0}))),
              reason_code::topic_name_invalid);
}

TEST(mqtt_connect, WillPayloadFormatIndicatorIsChecked) {
    const bytes data =
        connect_packet(cat(header(5, 0x06), {0, 0, 1, 'c', 2, 0x01, 0x01, 0, 1, 't', 0, 2, 0xED, 0xA0}));
    EXPECT_EQ(connect_error(data), reason_code::payload_format_invalid);
}

TEST(mqtt_connect, WillPropertiesAreCheckedAgainstTheWillSet) {
    // Will Delay Interval is a will property, not a CONNECT property (§3.1.2.11 vs §3.1.3.2).
    EXPECT_EQ(connect_error(connect_packet(cat(header(5, 0x02), {5, 0x18, 0, 0, 0, 1, 0, 1, 'c'}))),
              reason_code::malformed_packet);
    auto ok =
        decode_c(connect_packet(cat(header(5, 0x06), {0, 0, 1, 'c', 5, 0x18, 0, 0, 0, 9, 0, 1, 't', 0, 0})));
    ASSERT_TRUE(std::holds_alternative<connect>(ok));
    EXPECT_EQ(std::get<connect>(ok).will->properties.will_delay_interval, 9U);
    // A user property key without its value inside the will properties (CVE-2023-3592 shape).
    EXPECT_EQ(connect_error(
                  connect_packet(cat(header(5, 0x06), {0, 0, 1, 'c', 4, 0x26, 0, 1, 'k', 0, 1, 't', 0, 0}))),
              reason_code::malformed_packet);
}

TEST(mqtt_connect, FixedHeaderFlagsMustBeZero_MQTT_2_1_3_1) {
    bytes data = connect_packet(cat(header(4, 0x02), {0, 1, 'c'}));
    data[0] = 0x11;
    EXPECT_EQ(connect_error(data), reason_code::malformed_packet);
    EXPECT_DECODE_ERROR(v311, data, reason_code::malformed_packet);
}

TEST(mqtt_connect, DecodeConnectRejectsOtherPacketsAndVersionMismatch) {
    EXPECT_EQ(connect_error(bytes{0xC0, 0x00}), reason_code::protocol_error);
    const bytes v311_connect = connect_packet(cat(header(4, 0x02), {0, 1, 'c'}));
    EXPECT_DECODE_ERROR(v5, v311_connect, reason_code::protocol_error);
    connect c;
    EXPECT_DECODES_AS(connect, v311, v311_connect, c);
}

TEST(mqtt_connack, V311) {
    connack c;
    EXPECT_DECODES_AS(connack, v311, (bytes{0x20, 0x02, 0x01, 0x00}), c);
    EXPECT_TRUE(c.session_present);
    EXPECT_EQ(c.reason_code, reason_code::success);
    const std::pair<std::uint8_t, reason_code> codes[] = {{1, reason_code::unsupported_protocol_version},
                                                          {2, reason_code::client_identifier_not_valid},
                                                          {3, reason_code::server_unavailable},
                                                          {4, reason_code::bad_user_name_or_password},
                                                          {5, reason_code::not_authorized}};
    for (const auto& [byte, code] : codes) {
        EXPECT_DECODES_AS(connack, v311, (bytes{0x20, 0x02, 0x00, byte}), c);
        EXPECT_EQ(c.reason_code, code);
        EXPECT_EQ(encode_bytes(c, v311), (bytes{0x20, 0x02, 0x00, byte}));
    }
    EXPECT_DECODE_ERROR(v311, (bytes{0x20, 0x02, 0x00, 0x06}),
                        reason_code::malformed_packet);  // reserved code
    EXPECT_DECODE_ERROR(v311, (bytes{0x20, 0x02, 0x02, 0x00}),
                        reason_code::malformed_packet);  // [MQTT-3.2.2-1]
    EXPECT_DECODE_ERROR(v311, (bytes{0x20, 0x03, 0x00, 0x00, 0x00}), reason_code::malformed_packet);
    EXPECT_DECODE_ERROR(v311, (bytes{0x20, 0x01, 0x00}), reason_code::malformed_packet);
    EXPECT_EQ(encode_bytes(connack{false, reason_code::banned, {}}, v311), (bytes{0x20, 0x02, 0x00, 0x05}));
}

TEST(mqtt_connack, V5) {
    connack c;
    EXPECT_DECODES_AS(connack, v5, (bytes{0x20, 0x03, 0x00, 0x00, 0x00}), c);
    EXPECT_FALSE(c.session_present);
    EXPECT_DECODES_AS(connack, v5, (bytes{0x20, 0x06, 0x00, 0x8C, 0x03, 0x13, 0x00, 0x1E}), c);
    EXPECT_EQ(c.reason_code, reason_code::bad_authentication_method);
    EXPECT_EQ(c.properties.server_keep_alive, 30);
    // 0x8E is not a CONNACK reason code (§3.2.2.2)
    EXPECT_DECODE_ERROR(v5, (bytes{0x20, 0x03, 0x00, 0x8E, 0x00}), reason_code::protocol_error);
    EXPECT_DECODE_ERROR(v5, (bytes{0x20, 0x03, 0x00, 0x07, 0x00}), reason_code::protocol_error);
    // the property length is not optional in CONNACK
    EXPECT_DECODE_ERROR(v5, (bytes{0x20, 0x02, 0x00, 0x00}), reason_code::malformed_packet);
    EXPECT_DECODE_ERROR(v5, (bytes{0x20, 0x03, 0x80, 0x00, 0x00}),
                        reason_code::malformed_packet);  // [MQTT-3.2.2-1]
    // topic alias is not a CONNACK property
    EXPECT_DECODE_ERROR(v5, (bytes{0x20, 0x06, 0x00, 0x00, 0x03, 0x23, 0x00, 0x01}),
                        reason_code::malformed_packet);
}

TEST(mqtt_connack, V5EncodesOnlyCodesConnackAllows) {
    const bytes wire = encode_bytes(connack{false, reason_code::session_taken_over, {}}, v5);
    EXPECT_EQ(wire, (bytes{0x20, 0x03, 0x00, 0x80, 0x00}));
}

}  // namespace
}  // namespace tollgate::mqtt::test
