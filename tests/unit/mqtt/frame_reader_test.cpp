// frame_reader: streaming, bounded framing (§2.1, §1.5.5 Variable Byte Integer).
#include "test_support.hpp"

namespace tollgate::mqtt::test {
namespace {

std::vector<frame> drain(frame_reader& r) {
    std::vector<frame> out;
    while (true) {
        auto n = r.next();
        if (auto* f = std::get_if<frame>(&n)) {
            out.push_back(std::move(*f));
            continue;
        }
        EXPECT_TRUE(std::holds_alternative<std::monostate>(n)) << std::get<decode_error>(n).message;
        return out;
    }
}

decode_error error_after(frame_reader& r, const bytes& data) {
    r.feed(data);
    auto n = r.next();
    if (auto* e = std::get_if<decode_error>(&n)) {
        return *e;
    }
    ADD_FAILURE() << "no error for " << hex(data);
    return {};
}

bytes stream_of_samples() {
    bytes all;
    for (const packet& p : sample_packets(protocol_version::v5)) {
        const bytes one = encode_bytes(p, protocol_version::v5);
        all.insert(all.end(), one.begin(), one.end());
    }
    return all;
}

TEST(mqtt_frame_reader, ManyPacketsInOneFeed) {
    const bytes all = stream_of_samples();
    frame_reader r(1U << 20);
    r.feed(all);
    EXPECT_EQ(r.buffered(), all.size());
    const auto frames = drain(r);
    EXPECT_EQ(frames.size(), sample_packets(protocol_version::v5).size());
    EXPECT_EQ(r.buffered(), 0U);
    std::size_t total = 0;
    for (const frame& f : frames) {
        total += f.total_size;
    }
    EXPECT_EQ(total, all.size());
}

TEST(mqtt_frame_reader, ByteByByteFeedingGivesTheSameFrames) {
    const bytes all = stream_of_samples();
    frame_reader whole(1U << 20);
    whole.feed(all);
    const auto expected = drain(whole);

    frame_reader r(1U << 20);
    std::vector<frame> got;
    for (const std::uint8_t b : all) {
        r.feed(std::span<const std::uint8_t>(&b, 1));
        auto more = drain(r);
        got.insert(got.end(), more.begin(), more.end());
    }
    ASSERT_EQ(got.size(), expected.size());
    for (std::size_t i = 0; i < got.size(); ++i) {
        EXPECT_EQ(got[i].first_byte, expected[i].first_byte);
        EXPECT_EQ(got[i].body, expected[i].body);
        EXPECT_EQ(got[i].total_size, expected[i].total_size);
    }
}

TEST(mqtt_frame_reader, EmptyFeedAndZeroLengthBody) {
    frame_reader r(16);
    r.feed({});
    EXPECT_TRUE(std::holds_alternative<std::monostate>(r.next()));
    r.feed(bytes{0xC0, 0x00});
    auto n = r.next();
    ASSERT_TRUE(std::holds_alternative<frame>(n));
    EXPECT_EQ(std::get<frame>(n).type(), packet_type::pingreq);
    EXPECT_EQ(std::get<frame>(n).total_size, 2U);
    EXPECT_TRUE(std::get<frame>(n).body.empty());
}

TEST(mqtt_frame_reader, RemainingLengthBoundaries) {  // §1.5.5 table
    struct boundary {
        bytes length;
        std::size_t value;
    };
    const boundary cases[] = {{{0x00}, 0},
                              {{0x7F}, 127},
                              {{0x80, 0x01}, 128},
                              {{0xFF, 0x7F}, 16383},
                              {{0x80, 0x80, 0x01}, 16384},
                              {{0xFF, 0xFF, 0x7F}, 2097151},
                              {{0x80, 0x80, 0x80, 0x01}, 2097152}};
    for (const auto& c : cases) {
        frame_reader r(268435460U);
        bytes data{0x30};
        data.insert(data.end(), c.length.begin(), c.length.end());
        data.resize(data.size() + c.value, 0x61);
        r.feed(data);
        auto n = r.next();
        ASSERT_TRUE(std::holds_alternative<frame>(n)) << c.value;
        EXPECT_EQ(std::get<frame>(n).body.size(), c.value);
        EXPECT_EQ(std::get<frame>(n).total_size, 1 + c.length.size() + c.value);
    }
}

TEST(mqtt_frame_reader, DeclaredLengthCostsNothingUntilBytesArrive) {
    // 268,435,455 declared (the maximum), then ten bytes and silence (CVE-2017-7651, CVE-2023-0809).
    frame_reader r(268435460U);
    r.feed(bytes{0x10, 0xFF, 0xFF, 0xFF, 0x7F, 0, 4, 'M', 'Q', 'T', 'T', 5, 0, 0, 60});
    EXPECT_TRUE(std::holds_alternative<std::monostate>(r.next()));
    EXPECT_EQ(r.buffered(), 15U);
    EXPECT_LT(r.memory_held(), 1024U);
}

TEST(mqtt_frame_reader, GrowthFollowsArrivingBytesNotTheDeclaredLength) {
    frame_reader r(268435460U);
    r.feed(bytes{0x30, 0x80, 0x80, 0x80, 0x40});  // 128 MiB declared
    const bytes chunk(1000, 0x41);
    for (int i = 0; i < 100; ++i) {
        r.feed(chunk);
    }
    EXPECT_EQ(r.buffered(), 5U + 100000U);
    EXPECT_LE(r.memory_held(), 2U * 100000U + 64U);
}

TEST(mqtt_frame_reader, OversizedPacketIsRejectedAsSoonAsTheHeaderIsComplete) {
    frame_reader r(100);
    r.feed(bytes{0x30, 0x80});
    EXPECT_TRUE(std::holds_alternative<std::monostate>(r.next()));
    const decode_error e = error_after(r, bytes{0x01});  // 128 declared, nothing of it sent
    EXPECT_EQ(e.code, reason_code::packet_too_large);
    r.feed(bytes(200, 0x00));  // ignored after the error
    EXPECT_EQ(std::get<decode_error>(r.next()).code, reason_code::packet_too_large);
    EXPECT_LT(r.memory_held(), 64U);
}

TEST(mqtt_frame_reader, MaximumCountsTheWholePacket) {
    frame_reader exact(10);  // 1 + 1 + 8 = 10
    bytes ten{0x30, 0x08, 0, 1, 'a', 'x', 'x', 'x', 'x', 'x'};
    exact.feed(ten);
    EXPECT_TRUE(std::holds_alternative<frame>(exact.next()));
    frame_reader over(9);
    EXPECT_EQ(error_after(over, ten).code, reason_code::packet_too_large);
}

TEST(mqtt_frame_reader, LoweredMaximumAppliesToTheNextPacket) {
    frame_reader r(1000);
    r.feed(bytes{0xC0, 0x00});
    r.set_max_packet_size(3);
    EXPECT_EQ(r.max_packet_size(), 3U);
    EXPECT_TRUE(std::holds_alternative<frame>(r.next()));
    EXPECT_EQ(error_after(r, bytes{0x30, 0x05}).code, reason_code::packet_too_large);
}

TEST(mqtt_frame_reader, FiveByteRemainingLengthIsMalformed) {
    frame_reader r(268435460U);
    const decode_error e = error_after(r, bytes{0x10, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F});
    EXPECT_EQ(e.code, reason_code::malformed_packet);
}

TEST(mqtt_frame_reader, NonMinimalRemainingLengthIsMalformed_MQTT_1_5_5_1) {
    frame_reader a(1000);
    EXPECT_EQ(error_after(a, bytes{0x10, 0x80, 0x00}).code, reason_code::malformed_packet);
    frame_reader b(1000);
    EXPECT_EQ(error_after(b, bytes{0x30, 0x81, 0x80, 0x00}).code, reason_code::malformed_packet);
}

TEST(mqtt_frame_reader, ReservedPacketTypeZeroIsMalformed) {
    frame_reader r(1000);
    EXPECT_EQ(error_after(r, bytes{0x00, 0x00}).code, reason_code::malformed_packet);
}

TEST(mqtt_frame_reader, FramesBeforeAnErrorAreDeliveredFirst) {
    frame_reader r(1000);
    r.feed(bytes{0xC0, 0x00, 0xD0, 0x00, 0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x01, 0xC0, 0x00});
    EXPECT_EQ(std::get<frame>(r.next()).type(), packet_type::pingreq);
    EXPECT_EQ(std::get<frame>(r.next()).type(), packet_type::pingresp);
    EXPECT_EQ(std::get<decode_error>(r.next()).code, reason_code::malformed_packet);
    EXPECT_EQ(std::get<decode_error>(r.next()).code, reason_code::malformed_packet);
}

TEST(mqtt_frame_reader, FrameBodyIsOneBufferThatOutlivesTheReader) {
    common::shared_bytes body;
    {
        frame_reader r(1000);
        r.feed(bytes{0x30, 0x06, 0x00, 0x01, 't', 'a', 'b', 'c'});
        body = std::get<frame>(r.next()).body;
    }
    EXPECT_EQ(body.as_string_view(), std::string_view("\0\x01tabc", 6));
}

}  // namespace
}  // namespace tollgate::mqtt::test
