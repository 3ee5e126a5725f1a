#pragma once
// MQTT 5 properties (§2.2.2), one typed optional per property. The decoder checks each property
// against the packet that carries it (or the will properties of CONNECT), rejects duplicates and
// out-of-range values; the encoder writes the properties that are set, in identifier order, then the
// user properties in their original order. MQTT 3.1.1 packets carry no properties: the encoder ignores
// them and the decoder leaves them empty.
// Thread-safety: a plain value type.
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <tollgate/common/bytes.hpp>

namespace tollgate::mqtt {

/// Property identifiers (§2.2.2.2).
enum class property_id : std::uint8_t {
    payload_format_indicator = 0x01,
    message_expiry_interval = 0x02,
    content_type = 0x03,
    response_topic = 0x08,
    correlation_data = 0x09,
    subscription_identifier = 0x0B,
    session_expiry_interval = 0x11,
    assigned_client_identifier = 0x12,
    server_keep_alive = 0x13,
    authentication_method = 0x15,
    authentication_data = 0x16,
    request_problem_information = 0x17,
    will_delay_interval = 0x18,
    request_response_information = 0x19,
    response_information = 0x1A,
    server_reference = 0x1C,
    reason_string = 0x1F,
    receive_maximum = 0x21,
    topic_alias_maximum = 0x22,
    topic_alias = 0x23,
    maximum_qos = 0x24,
    retain_available = 0x25,
    user_property = 0x26,
    maximum_packet_size = 0x27,
    wildcard_subscription_available = 0x28,
    subscription_identifier_available = 0x29,
    shared_subscription_available = 0x2A,
};

using user_property = std::pair<std::string, std::string>;

struct properties {
    std::optional<std::uint8_t> payload_format_indicator;  ///< 0x01 PUBLISH, will (0 or 1)
    std::optional<std::uint32_t> message_expiry_interval;  ///< 0x02 PUBLISH, will (seconds)
    std::optional<std::string> content_type;               ///< 0x03 PUBLISH, will
    std::optional<std::string> response_topic;             ///< 0x08 PUBLISH, will (a topic name)
    std::optional<common::shared_bytes> correlation_data;  ///< 0x09 PUBLISH, will
    /// 0x0B: PUBLISH may carry several (server to client), SUBSCRIBE at most one; 1..268435455.
    std::vector<std::uint32_t> subscription_identifiers;
    std::optional<std::uint32_t> session_expiry_interval;           ///< 0x11 CONNECT, CONNACK, DISCONNECT
    std::optional<std::string> assigned_client_identifier;          ///< 0x12 CONNACK
    std::optional<std::uint16_t> server_keep_alive;                 ///< 0x13 CONNACK
    std::optional<std::string> authentication_method;               ///< 0x15 CONNECT, CONNACK, AUTH
    std::optional<common::shared_bytes> authentication_data;        ///< 0x16 CONNECT, CONNACK, AUTH
    std::optional<std::uint8_t> request_problem_information;        ///< 0x17 CONNECT (0 or 1)
    std::optional<std::uint32_t> will_delay_interval;               ///< 0x18 will
    std::optional<std::uint8_t> request_response_information;       ///< 0x19 CONNECT (0 or 1)
    std::optional<std::string> response_information;                ///< 0x1A CONNACK
    std::optional<std::string> server_reference;                    ///< 0x1C CONNACK, DISCONNECT
    std::optional<std::string> reason_string;                       ///< 0x1F acks, DISCONNECT, AUTH
    std::optional<std::uint16_t> receive_maximum;                   ///< 0x21 CONNECT, CONNACK (not 0)
    std::optional<std::uint16_t> topic_alias_maximum;               ///< 0x22 CONNECT, CONNACK
    std::optional<std::uint16_t> topic_alias;                       ///< 0x23 PUBLISH (not 0)
    std::optional<std::uint8_t> maximum_qos;                        ///< 0x24 CONNACK (0 or 1)
    std::optional<std::uint8_t> retain_available;                   ///< 0x25 CONNACK (0 or 1)
    std::vector<user_property> user_properties;                     ///< 0x26 every packet, any number
    std::optional<std::uint32_t> maximum_packet_size;               ///< 0x27 CONNECT, CONNACK (not 0)
    std::optional<std::uint8_t> wildcard_subscription_available;    ///< 0x28 CONNACK (0 or 1)
    std::optional<std::uint8_t> subscription_identifier_available;  ///< 0x29 CONNACK (0 or 1)
    std::optional<std::uint8_t> shared_subscription_available;      ///< 0x2A CONNACK (0 or 1)

    friend bool operator==(const properties&, const properties&) = default;
};

}  // namespace tollgate::mqtt
