// MQTT 5 properties (§2.2.2): which packet allows which property, duplicates, values, limits.
#include <map>

#include "test_support.hpp"

namespace tollgate::mqtt::test {
namespace {

constexpr auto v5 = protocol_version::v5;

enum class where {
    connect,
    will,
    connack,
    publish,
    puback,
    pubrec,
    pubrel,
    pubcomp,
    subscribe,
    suback,
    unsubscribe,
    unsuback,
    disconnect,
    auth
};

const where all_places[] = {where::connect,    where::will,   where::connack,     where::publish,
                            where::puback,     where::pubrec, where::pubrel,      where::pubcomp,
                            where::subscribe,  where::suback, where::unsubscribe, where::unsuback,
                            where::disconnect, where::auth};

bytes with_length(std::uint8_t first, const bytes& body) {
    bytes out{first};
    std::size_t n = body.size();
    do {
        auto b = static_cast<std::uint8_t>(n & 0x7F);
        n >>= 7;
        out.push_back(static_cast<std::uint8_t>(b | (n > 0 ? 0x80 : 0)));
    } while (n > 0);
    out.insert(out.end(), body.begin(), body.end());
    return out;
}

bytes property_list(const bytes& props) {
    bytes out;
    std::size_t n = props.size();
    do {
        auto b = static_cast<std::uint8_t>(n & 0x7F);
        n >>= 7;
        out.push_back(static_cast<std::uint8_t>(b | (n > 0 ? 0x80 : 0)));
    } while (n > 0);
    out.insert(out.end(), props.begin(), props.end());
    return out;
}

bytes cat(bytes a, const bytes& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

/// A valid v5 packet whose (only non-empty) property list is `props`.
bytes packet_with(where w, const bytes& props) {
    const bytes list = property_list(props);
    const bytes connect_head{0, 4, 'M', 'Q', 'T', 'T', 5};
    switch (w) {
        case where::connect:
            return with_length(0x10, cat(cat(cat(connect_head, {0x02, 0, 0}), list), {0, 0}));
        case where::will:
            return with_length(0x10,
                               cat(cat(cat(connect_head, {0x06, 0, 0, 0, 0, 0}), list), {0, 1, 't', 0, 0}));
        case where::connack:
            return with_length(0x20, cat({0, 0}, list));
        case where::publish:
            return with_length(0x30, cat({0, 1, 't'}, list));
        case where::puback:
            return with_length(0x40, cat({0, 1, 0}, list));
        case where::pubrec:
            return with_length(0x50, cat({0, 1, 0}, list));
        case where::pubrel:
            return with_length(0x62, cat({0, 1, 0}, list));
        case where::pubcomp:
            return with_length(0x70, cat({0, 1, 0}, list));
        case where::subscribe:
            return with_length(0x82, cat(cat({0, 1}, list), {0, 1, 't', 0}));
        case where::suback:
            return with_length(0x90, cat(cat({0, 1}, list), {0}));
        case where::unsubscribe:
            return with_length(0xA2, cat(cat({0, 1}, list), {0, 1, 't'}));
        case where::unsuback:
            return with_length(0xB0, cat(cat({0, 1}, list), {0}));
        case where::disconnect:
            return with_length(0xE0, cat({0}, list));
        case where::auth:
            return with_length(0xF0, cat({0}, list));
    }
    return {};
}

struct property_case {
    std::uint8_t id;
    bytes value;                 // a valid value
    std::vector<where> allowed;  // from the table in §2.2.2.2, written out independently of the codec
};

const std::vector<property_case>& property_cases() {
    using enum where;
    static const std::vector<property_case> cases = {
        {0x01, {1}, {publish, will}},
        {0x02, {0, 0, 0, 10}, {publish, will}},
        {0x03, {0, 1, 'c'}, {publish, will}},
        {0x08, {0, 1, 'r'}, {publish, will}},
        {0x09, {0, 1, 'x'}, {publish, will}},
        {0x0B, {1}, {publish, subscribe}},
        {0x11, {0, 0, 0, 10}, {connect, connack, disconnect}},
        {0x12, {0, 1, 'a'}, {connack}},
        {0x13, {0, 10}, {connack}},
        {0x15, {0, 1, 'm'}, {connect, connack, auth}},
        {0x16, {0, 1, 'd'}, {connect, connack, auth}},
        {0x17, {1}, {connect}},
        {0x18, {0, 0, 0, 5}, {will}},
        {0x19, {1}, {connect}},
        {0x1A, {0, 1, 'i'}, {connack}},
        {0x1C, {0, 1, 's'}, {connack, disconnect}},
        {0x1F, {0, 1, 'r'}, {connack, puback, pubrec, pubrel, pubcomp, suback, unsuback, disconnect, auth}},
        {0x21, {0, 10}, {connect, connack}},
        {0x22, {0, 10}, {connect, connack}},
        {0x23, {0, 1}, {publish}},
        {0x24, {1}, {connack}},
        {0x25, {1}, {connack}},
        {0x26,
         {0, 1, 'k', 0, 1, 'v'},
         {connect, will, connack, publish, puback, pubrec, pubrel, pubcomp, subscribe, suback, unsubscribe,
          unsuback, disconnect, auth}},
        {0x27, {0, 0, 1, 0}, {connect, connack}},
        {0x28, {1}, {connack}},
        {0x29, {1}, {connack}},
        {0x2A, {1}, {connack}},
    };
    return cases;
}

bytes one_property(const property_case& c) {
    bytes out;
    if (c.id == 0x16) {  // authentication data needs a method
        out = {0x15, 0, 1, 'm'};
    }
    out.push_back(c.id);
    return cat(out, c.value);
}

TEST(mqtt_properties, EachPropertyIsAcceptedExactlyWhereTheSpecAllowsIt) {  // §2.2.2.2
    for (const auto& c : property_cases()) {
        for (const where w : all_places) {
            const bool allowed = std::find(c.allowed.begin(), c.allowed.end(), w) != c.allowed.end();
            auto result = decode_bytes(v5, packet_with(w, one_property(c)));
            if (allowed) {
                EXPECT_TRUE(std::holds_alternative<packet>(result))
                    << "property " << int{c.id} << " place " << int(w) << ": "
                    << std::get<decode_error>(result).message;
            } else {
                ASSERT_TRUE(std::holds_alternative<decode_error>(result))
                    << "property " << int{c.id} << " accepted in place " << int(w);
                EXPECT_EQ(std::get<decode_error>(result).code, reason_code::malformed_packet);
            }
        }
    }
}

TEST(mqtt_properties, DuplicatesAreProtocolErrors) {
    for (const auto& c : property_cases()) {
        const where w = c.allowed.front();
        bytes twice = one_property(c);
        twice.push_back(c.id);
        twice = cat(twice, c.value);
        auto result = decode_bytes(v5, packet_with(w, twice));
        if (c.id == 0x26 || (c.id == 0x0B && w == where::publish)) {
            EXPECT_TRUE(std::holds_alternative<packet>(result)) << int{c.id};
        } else {
            ASSERT_TRUE(std::holds_alternative<decode_error>(result)) << int{c.id};
            EXPECT_EQ(std::get<decode_error>(result).code, reason_code::protocol_error) << int{c.id};
        }
    }
    // subscription identifier twice in SUBSCRIBE
    EXPECT_DECODE_ERROR(v5, packet_with(where::subscribe, {0x0B, 1, 0x0B, 2}), reason_code::protocol_error);
}

TEST(mqtt_properties, ValueRules) {
    struct bad {
        where w;
        bytes props;
        reason_code code;
    };
    const bad cases[] = {
        {where::connect, {0x21, 0, 0}, reason_code::protocol_error},  // receive maximum 0
        {where::connack, {0x21, 0, 0}, reason_code::protocol_error},
        {where::connect, {0x27, 0, 0, 0, 0}, reason_code::protocol_error},  // maximum packet size 0
        {where::subscribe, {0x0B, 0}, reason_code::protocol_error},         // subscription identifier 0
        {where::publish, {0x0B, 0}, reason_code::protocol_error},
        {where::publish, {0x01, 2}, reason_code::protocol_error},  // payload format 2
        {where::will, {0x01, 2}, reason_code::protocol_error},
        {where::connack, {0x24, 2}, reason_code::protocol_error},  // maximum QoS 2
        {where::connack, {0x25, 2}, reason_code::protocol_error},
        {where::connack, {0x28, 2}, reason_code::protocol_error},
        {where::connack, {0x29, 2}, reason_code::protocol_error},
        {where::connack, {0x2A, 2}, reason_code::protocol_error},
        {where::connect, {0x17, 2}, reason_code::protocol_error},
        {where::connect, {0x19, 2}, reason_code::protocol_error},
        {where::publish, {0x23, 0, 0}, reason_code::topic_alias_invalid},  // [MQTT-3.3.2-8]
        {where::connect, {0x16, 0, 1, 'x'}, reason_code::protocol_error},  // data without method
    };
    for (const auto& c : cases) {
        EXPECT_DECODE_ERROR(v5, packet_with(c.w, c.props), c.code);
    }
}

TEST(mqtt_properties, MalformedEncodings) {
    const std::pair<where, bytes> cases[] = {
        {where::connect, {0x00}},                                // identifier 0
        {where::connect, {0x04, 0}},                             // unassigned identifier
        {where::connect, {0x80, 0x80, 0x80, 0x01}},              // multi-byte identifier
        {where::connect, {0x11, 0, 0}},                          // value truncated
        {where::connack, {0x12, 0, 5, 'a'}},                     // string past the end of the property list
        {where::connack, {0x12, 0, 2, 0xC0, 0x80}},              // overlong UTF-8
        {where::publish, {0x03, 0, 3, 0xED, 0xA0, 0x80}},        // surrogate
        {where::publish, {0x26, 0, 1, 'k', 0, 1, 0x00}},         // U+0000 in a user property value
        {where::publish, {0x26, 0, 1, 0x00, 0, 1, 'v'}},         // U+0000 in a user property key
        {where::publish, {0x26, 0, 1, 'k'}},                     // key without value
        {where::publish, {0x0B, 0x80, 0x00}},                    // non-minimal VBI [MQTT-1.5.5-1]
        {where::publish, {0x0B, 0xFF, 0xFF, 0xFF, 0xFF, 0x01}},  // 5-byte VBI
    };
    for (const auto& [w, props] : cases) {
        EXPECT_DECODE_ERROR(v5, packet_with(w, props), reason_code::malformed_packet);
    }
    // property length longer than the packet
    EXPECT_DECODE_ERROR(v5, (bytes{0x20, 0x03, 0x00, 0x00, 0x05}), reason_code::malformed_packet);
    // property length as a 5-byte VBI (CVE-2026-21888 shape)
    EXPECT_DECODE_ERROR(v5, (bytes{0x20, 0x07, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F}),
                        reason_code::malformed_packet);
    // property length non-minimal
    EXPECT_DECODE_ERROR(v5, (bytes{0x20, 0x04, 0x00, 0x00, 0x80, 0x00}), reason_code::malformed_packet);
}

bytes user_properties(std::size_t count, std::size_t value_size) {
    bytes out;
    for (std::size_t i = 0; i < count; ++i) {
        out.insert(out.end(), {0x26, 0, 1, 'k', 0, static_cast<std::uint8_t>(value_size)});
        out.insert(out.end(), value_size, 'v');
    }
    return out;
}

TEST(mqtt_properties, UserPropertyLimits) {
    // Default: 32 per list and 8 KiB of keys and values (CVE-2021-41039).
    EXPECT_TRUE(std::holds_alternative<packet>(
        decode_bytes(v5, packet_with(where::connect, user_properties(32, 1)))));
    EXPECT_DECODE_ERROR(v5, packet_with(where::connect, user_properties(33, 1)),
                        reason_code::packet_too_large);
    // 32 x (1 + 255) = 8192 bytes: exactly the default byte limit.
    EXPECT_TRUE(std::holds_alternative<packet>(
        decode_bytes(v5, packet_with(where::publish, user_properties(32, 255)))));
    decode_limits small;
    small.max_user_property_bytes = 100;
    EXPECT_TRUE(std::holds_alternative<packet>(
        decode_bytes(v5, packet_with(where::will, user_properties(1, 99)), small)));
    auto over = decode_bytes(v5, packet_with(where::will, user_properties(1, 100)), small);
    ASSERT_TRUE(std::holds_alternative<decode_error>(over));
    EXPECT_EQ(std::get<decode_error>(over).code, reason_code::packet_too_large);
    decode_limits more;
    more.max_user_properties = 1000;
    more.max_user_property_bytes = 1 << 20;
    EXPECT_TRUE(std::holds_alternative<packet>(
        decode_bytes(v5, packet_with(where::connect, user_properties(1000, 2)), more)));
    EXPECT_TRUE(std::holds_alternative<decode_error>(
        decode_bytes(v5, packet_with(where::connect, user_properties(1001, 2)), more)));
}

TEST(mqtt_properties, UserPropertiesKeepOrderAndDuplicates) {
    publish p;
    EXPECT_DECODES_AS(publish, v5,
                      packet_with(where::publish, {0x26, 0, 1,   'b',  0, 1, '1', 0x26, 0, 1,  'a',
                                                   0,    1, '2', 0x26, 0, 1, 'b', 0,    1, '3'}),
                      p);
    EXPECT_EQ(p.properties.user_properties, (std::vector<user_property>{{"b", "1"}, {"a", "2"}, {"b", "3"}}));
}

TEST(mqtt_properties, EncodedInIdentifierOrder) {
    properties props;
    props.reason_string = "r";
    props.session_expiry_interval = 1;
    const bytes wire = encode_bytes(disconnect{reason_code::success, props}, v5);
    EXPECT_EQ(wire, (bytes{0xE0, 0x0B, 0x00, 0x09, 0x11, 0, 0, 0, 1, 0x1F, 0, 1, 'r'}));
}

}  // namespace
}  // namespace tollgate::mqtt::test
