#pragma once
// Internal: decoding and encoding of a property list (§2.2.2) against the packet that carries it.
#include <cstdint>

#include <tollgate/mqtt/codec.hpp>
#include <tollgate/mqtt/properties.hpp>

#include "wire.hpp"

namespace tollgate::mqtt::detail {

/// Where a property list sits: a packet type, or the will properties of CONNECT.
enum class property_context : std::uint8_t {
    connect = 1,
    connack = 2,
    publish = 3,
    puback = 4,
    pubrec = 5,
    pubrel = 6,
    pubcomp = 7,
    subscribe = 8,
    suback = 9,
    unsubscribe = 10,
    unsuback = 11,
    disconnect = 14,
    auth = 15,
    will = 16,
};

inline property_context context_of(packet_type t) noexcept {
    return static_cast<property_context>(t);
}

/// Reads Property Length and the properties into `out` (which must be empty). Errors: malformed for a
/// length past the end, an unknown identifier, an identifier not allowed in `ctx` (§2.2.2.2), a
/// truncated value or invalid UTF-8; protocol_error for duplicates and out-of-range values;
/// topic_alias_invalid for Topic Alias 0 [MQTT-3.3.2-8]; packet_too_large over the user property
/// limits.
bool decode_properties(reader& r, property_context ctx, const decode_limits& limits, properties& out);

/// Writes Property Length and every property that is set.
void encode_properties(writer& w, const properties& p);

}  // namespace tollgate::mqtt::detail
