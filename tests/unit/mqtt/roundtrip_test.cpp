// encode → decode equality for every packet type in both versions, encoded_size(), the split PUBLISH
// header for zero-copy fan-out, and truncation at every byte.
#include <string>

#include "test_support.hpp"

namespace tollgate::mqtt::test {
namespace {

class mqtt_roundtrip : public ::testing::TestWithParam<protocol_version> {};

std::string name_of(const packet& p) {
    return std::string(to_string(type_of(p)));
}

TEST_P(mqtt_roundtrip, EveryPacketTypeEncodesThenDecodesEqual) {
    const protocol_version v = GetParam();
    std::size_t types_seen = 0;
    std::uint32_t seen_mask = 0;
    for (const packet& p : sample_packets(v)) {
        SCOPED_TRACE(name_of(p));
        const bytes wire = encode_bytes(p, v);
        auto decoded = decode_bytes(v, wire);
        ASSERT_TRUE(std::holds_alternative<packet>(decoded))
            << std::get<decode_error>(decoded).message << " in " << hex(wire);
        EXPECT_TRUE(std::get<packet>(decoded) == p) << hex(wire);
        seen_mask |= 1U << static_cast<unsigned>(type_of(p));
    }
    for (unsigned t = 1; t <= 15; ++t) {
        types_seen += (seen_mask >> t) & 1U;
    }
    EXPECT_EQ(types_seen, v == protocol_version::v5 ? 15U : 14U);
}

TEST_P(mqtt_roundtrip, EncodedSizeMatchesEncoding) {
    const protocol_version v = GetParam();
    for (const packet& p : sample_packets(v)) {
        SCOPED_TRACE(name_of(p));
        EXPECT_EQ(encoded_size(p, v), encode_bytes(p, v).size());
    }
}

TEST_P(mqtt_roundtrip, EncodeAppendsWithoutTouchingExistingBytes) {
    const protocol_version v = GetParam();
    bytes out{0xAA, 0xBB};
    encode(pingreq{}, v, out);
    EXPECT_EQ(out, (bytes{0xAA, 0xBB, 0xC0, 0x00}));
}

TEST_P(mqtt_roundtrip, PublishHeaderPlusPayloadEqualsFullEncoding) {
    const protocol_version v = GetParam();
    for (const packet& p : sample_packets(v)) {
        const auto* pub = std::get_if<publish>(&p);
        if (pub == nullptr) {
            continue;
        }
        bytes split;
        encode_publish_header(*pub, v, split);
        split.insert(split.end(), pub->payload.data(), pub->payload.data() + pub->payload.size());
        EXPECT_EQ(split, encode_bytes(p, v));
    }
}

TEST(mqtt_roundtrip_payload, PublishHeaderWithLargePayloadUsesMultiByteRemainingLength) {
    publish p{"t", common::shared_bytes(std::vector<std::uint8_t>(200000, 0x41)), 1, false, false, 5, {}};
    bytes header;
    encode_publish_header(p, protocol_version::v5, header);
    // 0x32, remaining length 200000 + 3 (topic) + 2 (id) + 1 (properties) = 200006 in 3 bytes, then the
    // variable header.
    ASSERT_EQ(header.size(), 1U + 3U + 3U + 2U + 1U);
    EXPECT_EQ(header[0], 0x32);
    EXPECT_EQ(header[1], 0xC6);
    EXPECT_EQ(header[2], 0x9A);
    EXPECT_EQ(header[3], 0x0C);
}

TEST_P(mqtt_roundtrip, DecodedPublishPayloadIsASliceOfTheFrame) {
    const protocol_version v = GetParam();
    const bytes wire = encode_bytes(
        publish{"a/b", common::shared_bytes::copy_of(std::string_view("payload")), 0, false, false, 0, {}},
        v);
    auto f = std::get<frame>(frame_of(wire));
    auto decoded = decode(v, f);
    const auto& pub = std::get<publish>(std::get<packet>(decoded));
    EXPECT_EQ(pub.payload.as_string_view(), "payload");
    EXPECT_EQ(pub.payload.data(), f.body.data() + f.body.size() - 7);  // no copy
}

/// Cutting a packet anywhere must never crash or read past the cut; for a cut inside the fixed-size
/// part of any packet, or anywhere in a packet without a free-length tail, the result is an error.
TEST_P(mqtt_roundtrip, TruncatedAtEveryByteNeverDecodesToTheOriginal) {
    const protocol_version v = GetParam();
    for (const packet& p : sample_packets(v)) {
        SCOPED_TRACE(name_of(p));
        const bytes wire = encode_bytes(p, v);
        const frame whole = std::get<frame>(frame_of(wire));
        for (std::size_t cut = 0; cut < whole.body.size(); ++cut) {
            frame truncated{whole.first_byte, whole.body.slice(0, cut), 0};
            auto result = decode(v, truncated);
            if (auto* decoded = std::get_if<packet>(&result)) {
                EXPECT_FALSE(*decoded == p) << "cut at " << cut;
                // Only a PUBLISH payload, a trailing list entry or an optional tail may be cut cleanly.
                const packet_type t = type_of(p);
                EXPECT_TRUE(
                    t == packet_type::publish || t == packet_type::subscribe || t == packet_type::suback ||
                    t == packet_type::unsubscribe || t == packet_type::unsuback || t == packet_type::puback ||
                    t == packet_type::pubrec || t == packet_type::pubrel || t == packet_type::pubcomp ||
                    t == packet_type::disconnect || t == packet_type::auth)
                    << "cut at " << cut;
            }
        }
    }
}

/// Any byte appended inside the remaining length is rejected: packets are exactly as long as their
/// fields (3.1.1 fixed-length acks included).
TEST_P(mqtt_roundtrip, TrailingByteIsMalformed) {
    const protocol_version v = GetParam();
    for (const packet& p : sample_packets(v)) {
        if (std::holds_alternative<publish>(p) || std::holds_alternative<subscribe>(p) ||
            std::holds_alternative<unsubscribe>(p) || std::holds_alternative<suback>(p) ||
            (v == protocol_version::v5 && std::holds_alternative<unsuback>(p))) {
            continue;  // their last field is "the rest of the packet"
        }
        SCOPED_TRACE(name_of(p));
        const frame whole = std::get<frame>(frame_of(encode_bytes(p, v)));
        std::vector<std::uint8_t> longer(whole.body.data(), whole.body.data() + whole.body.size());
        longer.push_back(0x00);
        frame f{whole.first_byte, common::shared_bytes(longer), 0};
        auto result = decode(v, f);
        const bool ack = std::holds_alternative<puback>(p) || std::holds_alternative<pubrec>(p) ||
                         std::holds_alternative<pubrel>(p) || std::holds_alternative<pubcomp>(p);
        const bool tail = std::holds_alternative<disconnect>(p) || std::holds_alternative<auth>(p);
        if (v == protocol_version::v5 &&
            ((ack && whole.body.size() < 4) || (tail && whole.body.size() < 2))) {
            // A short-form v5 ack/DISCONNECT/AUTH plus 0x00 is the next longer valid form (§3.4.2.1).
            EXPECT_TRUE(std::holds_alternative<packet>(result));
            continue;
        }
        ASSERT_TRUE(std::holds_alternative<decode_error>(result));
    }
}

INSTANTIATE_TEST_SUITE_P(versions, mqtt_roundtrip,
                         ::testing::Values(protocol_version::v311, protocol_version::v5),
                         [](const auto& p) { return p.param == protocol_version::v5 ? "v5" : "v311"; });

}  // namespace
}  // namespace tollgate::mqtt::test
