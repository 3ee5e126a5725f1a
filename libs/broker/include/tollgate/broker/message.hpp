#pragma once
// An application message as the broker routes it: built once when a PUBLISH arrives (or a will
// fires), then shared read-only by the router, every subscriber queue and the retained store.
// Thread-safety: immutable after construction; share it as std::shared_ptr<const message>.
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <tollgate/common/bytes.hpp>
#include <tollgate/common/clock.hpp>

namespace tollgate::broker {

struct message {
    std::string topic;
    common::shared_bytes payload;
    std::uint8_t qos = 0;
    bool retain = false;

    // MQTT 5 application-message properties, forwarded unaltered ([MQTT-3.3.2-4] and others).
    std::optional<std::uint8_t> payload_format_indicator;
    std::optional<std::string> content_type;
    std::optional<std::string> response_topic;
    std::optional<common::shared_bytes> correlation_data;
    std::vector<std::pair<std::string, std::string>> user_properties;

    /// When the message expires (Message Expiry Interval added to the receive time); nullopt: never.
    std::optional<common::steady_time> expires_at;

    /// The session that published it (0 for messages the broker made itself), for No Local.
    std::uint64_t publisher_session_id = 0;
    std::string publisher_client_id;
};

}  // namespace tollgate::broker
