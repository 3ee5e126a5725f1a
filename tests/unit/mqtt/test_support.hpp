#pragma once
// Helpers for the codec tests: bytes → frame → packet, packet → bytes, and a set of sample packets of
// every type for both protocol versions (also used to generate the fuzz seed corpus).
#include <cstdint>
#include <string_view>
#include <variant>
#include <vector>

#include <gtest/gtest.h>

#include <tollgate/mqtt/mqtt.hpp>

namespace tollgate::mqtt::test {

using bytes = std::vector<std::uint8_t>;

/// Frames `data` (which must hold exactly one packet) with a generous maximum packet size.
std::variant<frame, decode_error> frame_of(const bytes& data);

/// frame_of + decode (or decode_connect when `connect_path`).
std::variant<packet, decode_error> decode_bytes(protocol_version v, const bytes& data,
                                                const decode_limits& limits = {});

bytes encode_bytes(const packet& p, protocol_version v);

/// Every packet type with rich contents (all properties the packet allows, for v5).
std::vector<packet> sample_packets(protocol_version v);

/// A string of the bytes, for readable failure messages.
std::string hex(const bytes& data);

}  // namespace tollgate::mqtt::test

/// Decodes and expects a packet of type T.
#define EXPECT_DECODES_AS(T, version, data, out)                                                            \
    do {                                                                                                    \
        auto result_ = ::tollgate::mqtt::test::decode_bytes(version, data);                                 \
        if (auto* err_ = std::get_if<::tollgate::mqtt::decode_error>(&result_)) {                           \
            FAIL() << "decode failed: " << err_->message << " (" << ::tollgate::mqtt::to_string(err_->code) \
                   << ")";                                                                                  \
        }                                                                                                   \
        auto& packet_ = std::get<::tollgate::mqtt::packet>(result_);                                        \
        ASSERT_TRUE(std::holds_alternative<T>(packet_)) << "decoded another packet type";                   \
        (out) = std::get<T>(packet_);                                                                       \
    } while (0)

/// Decodes and expects a decode_error with the given reason code.
#define EXPECT_DECODE_ERROR(version, data, expected_code)                                              \
    do {                                                                                               \
        auto result_ = ::tollgate::mqtt::test::decode_bytes(version, data);                            \
        auto* err_ = std::get_if<::tollgate::mqtt::decode_error>(&result_);                            \
        ASSERT_NE(err_, nullptr) << "decoded although invalid: " << ::tollgate::mqtt::test::hex(data); \
        EXPECT_EQ(err_->code, expected_code)                                                           \
            << ::tollgate::mqtt::to_string(err_->code) << ": " << err_->message;                       \
    } while (0)
