#pragma once
// One struct per MQTT control packet, shared by MQTT 3.1.1 and 5.0 (docs/adr/0001). Fields that only
// MQTT 5 has (properties, most reason codes, subscription options beyond QoS) are ignored when a
// packet is encoded as 3.1.1 and left at their defaults when one is decoded from 3.1.1.
// Byte fields (payload, password, correlation data) are common::shared_bytes; a decoded PUBLISH
// payload is a slice of the frame it came from, so it is never copied again.
// Thread-safety: plain value types.
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include <tollgate/common/bytes.hpp>
#include <tollgate/mqtt/properties.hpp>
#include <tollgate/mqtt/reason_code.hpp>

namespace tollgate::mqtt {

/// The will message of a CONNECT (§3.1.2.5, §3.1.3.2).
struct will {
    std::string topic;
    common::shared_bytes payload;
    std::uint8_t qos = 0;
    bool retain = false;
    mqtt::properties properties;  ///< will properties (v5 only)

    friend bool operator==(const will&, const will&) = default;
};

struct connect {
    /// Set by the decoder from the protocol level byte. The encoder writes the version it is given.
    mqtt::protocol_version protocol_version = mqtt::protocol_version::v5;
    bool clean_start = true;  ///< "Clean Session" in 3.1.1
    std::uint16_t keep_alive = 0;
    std::string client_id;
    std::optional<mqtt::will> will;
    std::optional<std::string> username;
    std::optional<common::shared_bytes> password;
    mqtt::properties properties;

    friend bool operator==(const connect&, const connect&) = default;
};

struct connack {
    bool session_present = false;
    /// v3.1.1: decoded from the return code (1→0x84, 2→0x85, 3→0x88, 4→0x86, 5→0x87) and
    /// encoded with v311_connack_code().
    mqtt::reason_code reason_code = mqtt::reason_code::success;
    mqtt::properties properties;

    friend bool operator==(const connack&, const connack&) = default;
};

struct publish {
    std::string topic;  ///< may be empty in v5 when properties.topic_alias is set
    common::shared_bytes payload;
    std::uint8_t qos = 0;
    bool retain = false;
    bool dup = false;
    std::uint16_t packet_id = 0;  ///< only for QoS 1 and 2 (non-zero there)
    mqtt::properties properties;

    friend bool operator==(const publish&, const publish&) = default;
};

/// PUBACK, PUBREC, PUBREL and PUBCOMP have the same shape.
struct puback {
    std::uint16_t packet_id = 0;
    mqtt::reason_code reason_code = mqtt::reason_code::success;
    mqtt::properties properties;
    friend bool operator==(const puback&, const puback&) = default;
};
struct pubrec {
    std::uint16_t packet_id = 0;
    mqtt::reason_code reason_code = mqtt::reason_code::success;
    mqtt::properties properties;
    friend bool operator==(const pubrec&, const pubrec&) = default;
};
struct pubrel {
    std::uint16_t packet_id = 0;
    mqtt::reason_code reason_code = mqtt::reason_code::success;
    mqtt::properties properties;
    friend bool operator==(const pubrel&, const pubrel&) = default;
};
struct pubcomp {
    std::uint16_t packet_id = 0;
    mqtt::reason_code reason_code = mqtt::reason_code::success;
    mqtt::properties properties;
    friend bool operator==(const pubcomp&, const pubcomp&) = default;
};

/// One topic filter of a SUBSCRIBE with its subscription options (§3.8.3.1).
struct subscription {
    std::string filter;
    std::uint8_t max_qos = 0;
    bool no_local = false;             ///< v5
    bool retain_as_published = false;  ///< v5
    std::uint8_t retain_handling = 0;  ///< v5: 0 send retained, 1 only if new, 2 never
    friend bool operator==(const subscription&, const subscription&) = default;
};

struct subscribe {
    std::uint16_t packet_id = 0;
    mqtt::properties properties;  ///< at most one subscription identifier
    std::vector<subscription> subscriptions;
    friend bool operator==(const subscribe&, const subscribe&) = default;
};

struct suback {
    std::uint16_t packet_id = 0;
    mqtt::properties properties;
    /// One per filter; v3.1.1 encodes them with v311_suback_code() and decodes 0x80 as
    /// unspecified_error.
    std::vector<mqtt::reason_code> reason_codes;
    friend bool operator==(const suback&, const suback&) = default;
};

struct unsubscribe {
    std::uint16_t packet_id = 0;
    mqtt::properties properties;
    std::vector<std::string> filters;
    friend bool operator==(const unsubscribe&, const unsubscribe&) = default;
};

struct unsuback {
    std::uint16_t packet_id = 0;
    mqtt::properties properties;
    std::vector<mqtt::reason_code> reason_codes;  ///< v5 only; empty in 3.1.1
    friend bool operator==(const unsuback&, const unsuback&) = default;
};

struct pingreq {
    friend bool operator==(const pingreq&, const pingreq&) = default;
};
struct pingresp {
    friend bool operator==(const pingresp&, const pingresp&) = default;
};

struct disconnect {
    mqtt::reason_code reason_code = mqtt::reason_code::success;  ///< v5 only
    mqtt::properties properties;
    friend bool operator==(const disconnect&, const disconnect&) = default;
};

/// MQTT 5 only.
struct auth {
    mqtt::reason_code reason_code = mqtt::reason_code::success;
    mqtt::properties properties;
    friend bool operator==(const auth&, const auth&) = default;
};

using packet = std::variant<connect, connack, publish, puback, pubrec, pubrel, pubcomp, subscribe, suback,
                            unsubscribe, unsuback, pingreq, pingresp, disconnect, auth>;

/// The control packet type of a packet.
packet_type type_of(const packet& p) noexcept;

}  // namespace tollgate::mqtt
