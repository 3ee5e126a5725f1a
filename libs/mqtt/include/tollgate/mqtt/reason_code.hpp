#pragma once
// Protocol versions, packet types and MQTT 5 reason codes, with the one place where a reason code
// is mapped to its MQTT 3.1.1 CONNACK return code or SUBACK return code.
// Thread-safety: pure functions, callable from any thread.
#include <cstdint>
#include <string_view>

namespace tollgate::mqtt {

/// The protocol level byte of CONNECT.
enum class protocol_version : std::uint8_t { v311 = 4, v5 = 5 };

/// Control packet types (the high nibble of the fixed header's first byte).
enum class packet_type : std::uint8_t {
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
    pingreq = 12,
    pingresp = 13,
    disconnect = 14,
    auth = 15,  ///< MQTT 5 only; reserved (malformed) in 3.1.1
};

/// Every MQTT 5 reason code (§2.4). 0x00 is named `success`; it also means Normal disconnection and
/// Granted QoS 0 where those packets use it.
enum class reason_code : std::uint8_t {
    success = 0x00,
    granted_qos_1 = 0x01,
    granted_qos_2 = 0x02,
    disconnect_with_will = 0x04,
    no_matching_subscribers = 0x10,
    no_subscription_existed = 0x11,
    continue_authentication = 0x18,
    reauthenticate = 0x19,
    unspecified_error = 0x80,
    malformed_packet = 0x81,
    protocol_error = 0x82,
    implementation_specific_error = 0x83,
    unsupported_protocol_version = 0x84,
    client_identifier_not_valid = 0x85,
    bad_user_name_or_password = 0x86,
    not_authorized = 0x87,
    server_unavailable = 0x88,
    server_busy = 0x89,
    banned = 0x8A,
    server_shutting_down = 0x8B,
    bad_authentication_method = 0x8C,
    keep_alive_timeout = 0x8D,
    session_taken_over = 0x8E,
    topic_filter_invalid = 0x8F,
    topic_name_invalid = 0x90,
    packet_identifier_in_use = 0x91,
    packet_identifier_not_found = 0x92,
    receive_maximum_exceeded = 0x93,
    topic_alias_invalid = 0x94,
    packet_too_large = 0x95,
    message_rate_too_high = 0x96,
    quota_exceeded = 0x97,
    administrative_action = 0x98,
    payload_format_invalid = 0x99,
    retain_not_supported = 0x9A,
    qos_not_supported = 0x9B,
    use_another_server = 0x9C,
    server_moved = 0x9D,
    shared_subscriptions_not_supported = 0x9E,
    connection_rate_exceeded = 0x9F,
    maximum_connect_time = 0xA0,
    subscription_identifiers_not_supported = 0xA1,
    wildcard_subscriptions_not_supported = 0xA2,
};

/// The spec's name of a reason code in snake_case ("malformed_packet"); "unknown" for a byte that
/// is not a reason code (only reachable through a cast).
std::string_view to_string(reason_code code) noexcept;
/// "CONNECT", "PUBLISH", ...
std::string_view to_string(packet_type type) noexcept;

/// True when `byte` is one of the reason codes above.
bool is_reason_code(std::uint8_t byte) noexcept;

/// True when MQTT 5 allows `code` in a packet of type `type` (§2.4 table, and the reason-code
/// tables of CONNACK §3.2.2.2, PUBACK §3.4.2.1, PUBREC §3.5.2.1, PUBREL §3.6.2.1, PUBCOMP §3.7.2.1,
/// SUBACK §3.9.3, UNSUBACK §3.11.3, DISCONNECT §3.14.2.1, AUTH §3.15.2.1). False for packet types
/// that carry no reason code.
bool is_allowed_reason_code(packet_type type, reason_code code) noexcept;

/// The reason code actually encoded for `code` in a v5 packet of type `type`: `code` itself when
/// allowed, otherwise the nearest allowed one (an error becomes unspecified_error 0x80, or 0x92 in
/// PUBREL/PUBCOMP; a non-error becomes success). The encoder applies this, so a v5 CONNACK, SUBACK,
/// UNSUBACK, ... never carries a code its packet does not allow.
reason_code allowed_reason_code(packet_type type, reason_code code) noexcept;

/// MQTT 3.1.1 CONNACK return code (§3.2.2.3) for a reason code:
///   success→0; unsupported_protocol_version→1; client_identifier_not_valid→2;
///   server conditions (server_unavailable, server_busy, server_shutting_down, use_another_server,
///   server_moved, connection_rate_exceeded, quota_exceeded, maximum_connect_time,
///   unspecified_error, implementation_specific_error)→3 "server unavailable";
///   bad_user_name_or_password→4;
///   every other refusal (not_authorized, banned, bad_authentication_method, administrative_action,
///   and client faults such as malformed_packet, protocol_error, packet_too_large,
///   topic_name_invalid, payload_format_invalid, qos/retain not supported)→5 "not authorized":
///   the client cannot fix them by retrying later. (3.1.1 closes without CONNACK on a malformed
///   CONNECT; when a CONNACK is sent anyway, 5 is the honest answer.)
std::uint8_t v311_connack_code(reason_code code) noexcept;

/// MQTT 3.1.1 SUBACK return code (§3.9.3): success/granted_qos_1/granted_qos_2 → 0/1/2; anything
/// else → 0x80 (Failure).
std::uint8_t v311_suback_code(reason_code code) noexcept;

}  // namespace tollgate::mqtt
