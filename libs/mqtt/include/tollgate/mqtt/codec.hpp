#pragma once
// Decoding frames into packets and encoding packets into bytes, MQTT 3.1.1 and 5.0.
//
// decode() is total: for any frame it returns a packet or a decode_error, never throws (bad_alloc
// aside) and never reads outside the frame. It enforces every normative statement about the form of a
// packet that a server must check: fixed-header flags [MQTT-2.1.3-1], QoS 3 [MQTT-3.3.1-4], DUP on
// QoS 0 [MQTT-3.3.1-2], non-zero packet identifiers [MQTT-2.2.1-3], CONNECT flags [MQTT-3.1.2-3]
// [MQTT-3.1.2-11..15] [MQTT-3.1.2-22], UTF-8 rules [MQTT-1.5.4-1..2], topic name and filter rules,
// property identifiers, types, duplicates and values, subscription options [MQTT-3.8.3-5], empty
// SUBSCRIBE/UNSUBSCRIBE [MQTT-3.8.3-3] [MQTT-3.10.3-2], trailing bytes, lengths past the end.
// What depends on session state (topic alias resolution and maximum, receive maximum, the first
// packet being CONNECT, a Subscription Identifier in a client's PUBLISH [MQTT-3.3.4-6], server-only
// packets sent by a client, ...) is the broker's job.
//
// Thread-safety: pure functions, callable from any thread.
#include <cstddef>
#include <cstdint>
#include <variant>
#include <vector>

#include <tollgate/mqtt/frame_reader.hpp>
#include <tollgate/mqtt/packets.hpp>

namespace tollgate::mqtt {

/// Limits applied by decode() beyond the maximum packet size (which frame_reader enforces).
struct decode_limits {
    /// User properties per property list (a packet's, or a will's): 32. Over → packet_too_large.
    /// Guards against CPU/memory amplification (CVE-2021-41039 style: thousands of tiny pairs).
    std::size_t max_user_properties = 32;
    /// Sum of key and value lengths of the user properties of one property list: 8 KiB.
    /// Over → packet_too_large.
    std::size_t max_user_property_bytes = 8192;
    /// When a PUBLISH or will says Payload Format Indicator 1, check that the payload is valid UTF-8
    /// (§3.3.2.3.2 allows it) → payload_format_invalid. A broker that wants to answer with PUBACK 0x99
    /// instead of DISCONNECT turns this off and checks with is_valid_utf8_string() itself.
    bool validate_payload_format = true;
};

/// Decodes any packet of a connection that negotiated `version`. A CONNECT frame is decoded with
/// decode_connect() and must carry the same version (otherwise protocol_error).
std::variant<packet, decode_error> decode(protocol_version version, const frame& f,
                                          const decode_limits& limits = {});

/// Decodes a CONNECT before the version is known: protocol name "MQTT" with level 4 → 3.1.1 rules,
/// level 5 → 5.0 rules; any other level, or the 3.1 name "MQIsdp" → unsupported_protocol_version
/// (a v5 server may answer CONNACK 0x84 [MQTT-3.1.2-2]); any other name → malformed_packet
/// [MQTT-3.1.2-1]. A frame that is not a CONNECT → protocol_error.
std::variant<connect, decode_error> decode_connect(const frame& f, const decode_limits& limits = {});

/// Appends the encoding of `p` for `version` to `out`. Fields the version does not have are ignored;
/// v5 reason codes pass through allowed_reason_code() for the packet's type; v3.1.1 CONNACK and SUBACK
/// codes through v311_connack_code() / v311_suback_code(). AUTH encoded as 3.1.1 writes nothing.
/// Precondition (not checked beyond what is needed to produce well-formed bytes): strings and byte
/// fields are at most 65535 bytes; the caller validates what it builds from untrusted input.
void encode(const packet& p, protocol_version version, std::vector<std::uint8_t>& out);

/// For zero-copy fan-out: appends the fixed header and variable header of `p` (topic, packet id,
/// properties) with a remaining length that counts p.payload.size(), but not the payload bytes; send
/// [these bytes, p.payload] as two buffers.
void encode_publish_header(const publish& p, protocol_version version, std::vector<std::uint8_t>& out);

/// The number of bytes encode() would append (for Maximum Packet Size checks without encoding).
std::size_t encoded_size(const packet& p, protocol_version version);

}  // namespace tollgate::mqtt
