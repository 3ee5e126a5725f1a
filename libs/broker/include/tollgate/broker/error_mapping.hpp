#pragma once
// The one place where an internal refusal (an MQTT 5 reason code, the broker's error vocabulary)
// becomes bytes on the wire for each protocol version (STYLE.md point 4).
// Thread-safety: pure functions.
#include <cstdint>

#include <tollgate/mqtt/reason_code.hpp>

namespace tollgate::broker {

/// Where in the connection's life the refusal happens.
enum class refusal_stage {
    before_connack,  ///< the CONNECT (or its AUTH exchange) is refused
    connected,       ///< the connection is established: the whole connection ends
};

/// What to put on the wire.
struct refusal {
    enum class kind {
        connack,     ///< send CONNACK with `code` (v5 reason code or v3.1.1 return code), then close
        disconnect,  ///< send DISCONNECT with `code` (v5), then close
        close,       ///< close without another packet
    } what = kind::close;
    std::uint8_t code = 0;
    friend bool operator==(const refusal&, const refusal&) = default;
};

/// v5: CONNACK / DISCONNECT with the reason code (made legal for that packet by
/// mqtt::allowed_reason_code). v3.1.1 before CONNACK: a CONNACK return code for the refusals
/// 3.1.1 has one for (unsupported version 1, client id 2, server unavailable 3, bad credentials 4,
/// not authorized 5) and a plain close for malformed or protocol-violating CONNECTs
/// ([MQTT-3.1.4-1], [MQTT-3.2.2-6]); v3.1.1 connected: close. `version` nullopt-like use: pass v5
/// for unsupported_protocol_version (the CONNACK 0x84 answer is v5-shaped per [MQTT-3.1.2-2]).
[[nodiscard]] refusal map_refusal(mqtt::reason_code reason, refusal_stage stage,
                                  mqtt::protocol_version version) noexcept;

/// The SUBACK entry for one filter: v5 the reason code itself, v3.1.1 0x00/0x01/0x02 or 0x80.
[[nodiscard]] std::uint8_t map_suback(mqtt::reason_code reason, mqtt::protocol_version version) noexcept;

/// Whether a refused QoS>0 PUBLISH can be answered with PUBACK/PUBREC carrying `reason` (v5) instead
/// of ending the connection. v3.1.1 acks carry no code: false.
[[nodiscard]] bool refusable_in_ack(mqtt::reason_code reason, mqtt::protocol_version version) noexcept;

}  // namespace tollgate::broker
