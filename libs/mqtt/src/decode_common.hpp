#pragma once
// Internal: checks shared by the packet decoders.
#include <cstdint>

#include <tollgate/mqtt/codec.hpp>

#include "wire.hpp"

namespace tollgate::mqtt::detail {

/// Fails with malformed_packet when bytes remain after the packet's last field.
bool expect_end(reader& r);

/// `byte` must be a reason code that MQTT 5 allows in `type` (protocol_error otherwise).
bool check_reason(reader& r, packet_type type, std::uint8_t byte, reason_code& out);

/// Payload Format Indicator 1 requires well-formed UTF-8 (§3.3.2.3.2) when the limits ask for the check.
bool check_payload_format(reader& r, const properties& props, const common::shared_bytes& payload,
                          const decode_limits& limits);

/// A non-zero packet identifier [MQTT-2.2.1-3].
bool read_packet_id(reader& r, std::uint16_t& out);

bool read_connack(reader& r, protocol_version version, const decode_limits& limits, connack& c);

}  // namespace tollgate::mqtt::detail
