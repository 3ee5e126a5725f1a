#pragma once
// UTF-8 string, topic name and topic filter rules (§1.5.4, §4.7, §4.8.2), shared by the codec and the
// broker. Thread-safety: pure functions, callable from any thread. Each is linear in its input and
// non-recursive.
#include <cstddef>
#include <optional>
#include <string_view>

#include <tollgate/mqtt/reason_code.hpp>

namespace tollgate::mqtt {

/// Well-formed UTF-8 with no U+0000 [MQTT-1.5.4-2], no surrogates U+D800..U+DFFF and no overlong or
/// out-of-range forms [MQTT-1.5.4-1], at most 65535 bytes. Non-characters and control characters
/// (which the spec says SHOULD NOT appear and a receiver MAY reject) are accepted.
bool is_valid_utf8_string(std::string_view s) noexcept;

/// Well-formed UTF-8 of any length (RFC 3629), U+0000 allowed: what a PUBLISH or will payload with
/// Payload Format Indicator 1 must be (§3.3.2.3.2).
bool is_well_formed_utf8(std::string_view s) noexcept;

/// A topic name for PUBLISH: valid UTF-8, at least one character [MQTT-4.7.3-1], no '+' or '#'
/// [MQTT-3.3.2-2] [MQTT-4.7.1-1].
bool is_valid_topic_name(std::string_view s) noexcept;

/// A topic filter: valid UTF-8, non-empty [MQTT-4.7.3-1], '#' only as the whole last level
/// [MQTT-4.7.1-2], '+' only as a whole level [MQTT-4.7.1-3]. A `$share/...` filter is checked as a
/// whole here; use check_shared_subscription() for the shared form itself.
bool is_valid_topic_filter(std::string_view s) noexcept;

/// The parts of `$share/{group}/{filter}` (views into the argument). nullopt when `s` does not start
/// with "$share/". The parts may be empty or invalid; check_shared_subscription() judges them.
struct shared_filter {
    std::string_view group;
    std::string_view filter;
};
std::optional<shared_filter> parse_shared_subscription(std::string_view s) noexcept;

/// success for a filter that is not shared or a well-formed shared one; protocol_error when a
/// `$share/` filter has an empty group, a group containing '+' '#' or '/', or no filter after the
/// group ([MQTT-4.8.2-1] [MQTT-4.8.2-2]); malformed_packet when the filter after the group breaks the
/// wildcard rules.
reason_code check_shared_subscription(std::string_view s) noexcept;

/// Number of levels ("a/b" → 2, "" → 1, "/" → 2).
std::size_t topic_levels(std::string_view s) noexcept;

/// Whether `filter` (valid, not `$share/`) matches `topic` (valid name). '+' matches one level, '#' the
/// parent and every level below; a filter starting with a wildcard does not match a topic starting
/// with '$' [MQTT-4.7.2-1].
bool topic_matches(std::string_view filter, std::string_view topic) noexcept;

}  // namespace tollgate::mqtt
