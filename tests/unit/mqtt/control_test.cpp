// PINGREQ, PINGRESP (§3.12, §3.13), DISCONNECT (§3.14), AUTH (§3.15), and fixed-header flags of every
// packet type [MQTT-2.1.3-1].
#include "test_support.hpp"

namespace tollgate::mqtt::test {
namespace {

constexpr auto v311 = protocol_version::v311;
constexpr auto v5 = protocol_version::v5;

TEST(mqtt_ping, BothVersions) {
    for (const auto v : {v311, v5}) {
        pingreq rq;
        EXPECT_DECODES_AS(pingreq, v, (bytes{0xC0, 0x00}), rq);
        pingresp rs;
        EXPECT_DECODES_AS(pingresp, v, (bytes{0xD0, 0x00}), rs);
        EXPECT_DECODE_ERROR(v, (bytes{0xC0, 0x01, 0x00}), reason_code::malformed_packet);
        EXPECT_DECODE_ERROR(v, (bytes{0xD0, 0x01, 0x00}), reason_code::malformed_packet);
        EXPECT_EQ(encode_bytes(pingreq{}, v), (bytes{0xC0, 0x00}));
        EXPECT_EQ(encode_bytes(pingresp{}, v), (bytes{0xD0, 0x00}));
    }
}

TEST(mqtt_disconnect, V311) {
    disconnect d;
    EXPECT_DECODES_AS(disconnect, v311, (bytes{0xE0, 0x00}), d);
    EXPECT_DECODE_ERROR(v311, (bytes{0xE0, 0x01, 0x00}), reason_code::malformed_packet);
    EXPECT_EQ(encode_bytes(disconnect{reason_code::server_shutting_down, {}}, v311), (bytes{0xE0, 0x00}));
}

TEST(mqtt_disconnect, V5) {
    disconnect d;
    EXPECT_DECODES_AS(disconnect, v5, (bytes{0xE0, 0x00}), d);
    EXPECT_EQ(d.reason_code, reason_code::success);
    EXPECT_DECODES_AS(disconnect, v5, (bytes{0xE0, 0x01, 0x04}), d);
    EXPECT_EQ(d.reason_code, reason_code::disconnect_with_will);
    EXPECT_DECODES_AS(disconnect, v5, (bytes{0xE0, 0x07, 0x00, 0x05, 0x11, 0x00, 0x00, 0x00, 0x05}), d);
    EXPECT_EQ(d.properties.session_expiry_interval, 5U);
    // 0x19 (re-authenticate) is not a DISCONNECT reason code
    EXPECT_DECODE_ERROR(v5, (bytes{0xE0, 0x01, 0x19}), reason_code::protocol_error);
    // a property DISCONNECT does not allow
    EXPECT_DECODE_ERROR(v5, (bytes{0xE0, 0x05, 0x00, 0x03, 0x23, 0x00, 0x01}), reason_code::malformed_packet);
    // trailing garbage inside the property list
    EXPECT_DECODE_ERROR(v5, (bytes{0xE0, 0x03, 0x00, 0x01, 0x26}), reason_code::malformed_packet);
    // trailing garbage after it
    EXPECT_DECODE_ERROR(v5, (bytes{0xE0, 0x03, 0x00, 0x00, 0x00}), reason_code::malformed_packet);
    EXPECT_EQ(encode_bytes(disconnect{}, v5), (bytes{0xE0, 0x00}));
    EXPECT_EQ(encode_bytes(disconnect{reason_code::server_shutting_down, {}}, v5), (bytes{0xE0, 0x01, 0x8B}));
}

TEST(mqtt_auth, ReservedIn311) {
    EXPECT_DECODE_ERROR(v311, (bytes{0xF0, 0x00}), reason_code::malformed_packet);
    EXPECT_TRUE(encode_bytes(auth{}, v311).empty());
    EXPECT_EQ(encoded_size(auth{}, v311), 0U);
}

TEST(mqtt_auth, V5) {
    auth a;
    EXPECT_DECODES_AS(auth, v5, (bytes{0xF0, 0x00}), a);
    EXPECT_EQ(a.reason_code, reason_code::success);
    const bytes continue_auth{0xF0, 0x0C, 0x18, 0x0A, 0x15, 0x00, 0x03, 'J', 'W', 'T', 0x16, 0x00, 0x01, 'x'};
    EXPECT_DECODES_AS(auth, v5, continue_auth, a);
    EXPECT_EQ(a.reason_code, reason_code::continue_authentication);
    EXPECT_EQ(a.properties.authentication_method, "JWT");
    EXPECT_EQ(a.properties.authentication_data->as_string_view(), "x");
    EXPECT_EQ(encode_bytes(a, v5), continue_auth);
    EXPECT_DECODE_ERROR(v5, (bytes{0xF0, 0x02, 0x87, 0x00}), reason_code::protocol_error);
    // With a reason code, AUTH is written with its property length; a reason code alone is accepted.
    EXPECT_EQ(encode_bytes(auth{reason_code::reauthenticate, {}}, v5), (bytes{0xF0, 0x02, 0x19, 0x00}));
    EXPECT_DECODES_AS(auth, v5, (bytes{0xF0, 0x01, 0x19}), a);
    EXPECT_EQ(a.reason_code, reason_code::reauthenticate);
    // authentication data without a method (§3.15.2.2.3 with §3.1.2.11.10)
    EXPECT_DECODE_ERROR(v5, (bytes{0xF0, 0x06, 0x18, 0x04, 0x16, 0x00, 0x01, 'x'}),
                        reason_code::protocol_error);
    EXPECT_DECODE_ERROR(v5, (bytes{0xF1, 0x00}), reason_code::malformed_packet);
}

TEST(mqtt_fixed_header, EveryTypeRejectsWrongFlags_MQTT_2_1_3_1) {
    // A minimal valid body per type; flags other than the required ones must be malformed.
    struct kind {
        std::uint8_t type;
        std::uint8_t required;
        bytes body;
    };
    const kind kinds[] = {
        {2, 0, {0, 0, 0}},     {4, 0, {0, 1}},
        {5, 0, {0, 1}},        {6, 2, {0, 1}},
        {7, 0, {0, 1}},        {8, 2, {0, 1, 0, 0, 1, 't', 0}},
        {9, 0, {0, 1, 0, 0}},  {10, 2, {0, 1, 0, 0, 1, 't'}},
        {11, 0, {0, 1, 0, 0}}, {12, 0, {}},
        {13, 0, {}},           {14, 0, {}},
        {15, 0, {}},
    };
    for (const auto& k : kinds) {
        for (std::uint8_t flags = 0; flags < 16; ++flags) {
            bytes data{static_cast<std::uint8_t>((k.type << 4) | flags),
                       static_cast<std::uint8_t>(k.body.size())};
            data.insert(data.end(), k.body.begin(), k.body.end());
            auto result = decode_bytes(v5, data);
            if (flags == k.required) {
                EXPECT_TRUE(std::holds_alternative<packet>(result)) << int{k.type};
            } else {
                ASSERT_TRUE(std::holds_alternative<decode_error>(result))
                    << int{k.type} << " flags " << int{flags};
                EXPECT_EQ(std::get<decode_error>(result).code, reason_code::malformed_packet);
            }
        }
    }
}

TEST(mqtt_fixed_header, ReservedTypeZeroIsMalformed) {
    const frame f{0x00, {}, 2};
    for (const auto v : {v311, v5}) {
        auto result = decode(v, f);
        ASSERT_TRUE(std::holds_alternative<decode_error>(result));
        EXPECT_EQ(std::get<decode_error>(result).code, reason_code::malformed_packet);
    }
}

}  // namespace
}  // namespace tollgate::mqtt::test
