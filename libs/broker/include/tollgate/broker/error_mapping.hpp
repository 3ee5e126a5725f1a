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
        connack,     ///< send CONNACK carrying `reason`, then close
        disconnect,  ///< send DISCONNECT carrying `reason` (v5 only), then close
        close,       ///< close without another packet
    } what = kind::close;
    /// The reason code to put in the packet (already one the packet allows). The codec turns it
    /// into the 3.1.1 CONNACK return code with mqtt::v311_connack_code().
    mqtt::reason_code reason = mqtt::reason_code::success;
    std::uint8_t wire_code = 0;  ///< the byte that appears on the wire (v5 reason or v3.1.1 return code)
    friend bool operator==(const refusal&, const refusal&) = default;
};

/// v5: CONNACK before the connection is established, DISCONNECT after, with the reason code made
/// legal for that packet (mqtt::allowed_reason_code). v3.1.1 before CONNACK: a CONNACK return code
/// for the refusals 3.1.1 has one for (unacceptable protocol level 1, identifier rejected 2, server
/// unavailable 3, bad user name or password 4, not authorized 5) and a plain close for malformed
/// or protocol-violating CONNECTs ([MQTT-3.1.4-1]: "close the Network Connection without sending a
/// CONNACK"); v3.1.1 after CONNACK: close (3.1.1 has no server DISCONNECT) [MQTT-4.8.0-1].
[[nodiscard]] refusal map_refusal(mqtt::reason_code reason, refusal_stage stage,
                                  mqtt::protocol_version version) noexcept;

/// The SUBACK entry for one filter: v5 the reason code itself, v3.1.1 0x00/0x01/0x02 or 0x80.
[[nodiscard]] std::uint8_t map_suback(mqtt::reason_code reason, mqtt::protocol_version version) noexcept;

/// Whether a refused QoS>0 PUBLISH can be answered with PUBACK/PUBREC carrying `reason` (v5) instead
/// of ending the connection. v3.1.1 acks carry no code: false.
[[nodiscard]] bool refusable_in_ack(mqtt::reason_code reason, mqtt::protocol_version version) noexcept;

}  // namespace tollgate::broker
