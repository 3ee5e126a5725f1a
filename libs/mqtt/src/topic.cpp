#include <algorithm>
#include <cstdint>
#include <utility>

#include <tollgate/mqtt/topic.hpp>

namespace tollgate::mqtt {

namespace {

constexpr std::size_t max_string_bytes = 65535;
constexpr std::string_view share_prefix = "$share/";

bool is_continuation(std::uint8_t b) noexcept {
    return (b & 0xC0U) == 0x80U;
}

/// Length of the well-formed UTF-8 sequence starting at s[i] that is allowed in MQTT, or 0.
std::size_t sequence_length(std::string_view s, std::size_t i, bool allow_nul) noexcept {
    const auto b0 = static_cast<std::uint8_t>(s[i]);
    const std::size_t left = s.size() - i;
    if (b0 == 0x00 && !allow_nul) {
        return 0;  // U+0000 [MQTT-1.5.4-2]
    }
    if (b0 < 0x80) {
        return 1;
    }
    auto at = [&](std::size_t k) { return static_cast<std::uint8_t>(s[i + k]); };
    if (b0 >= 0xC2 && b0 <= 0xDF) {
        return left >= 2 && is_continuation(at(1)) ? 2 : 0;
    }
    if (b0 >= 0xE0 && b0 <= 0xEF) {
        if (left < 3 || !is_continuation(at(1)) || !is_continuation(at(2))) {
            return 0;
        }
        if (b0 == 0xE0 && at(1) < 0xA0) {
            return 0;  // overlong
        }
        if (b0 == 0xED && at(1) > 0x9F) {
            return 0;  // surrogates U+D800..U+DFFF [MQTT-1.5.4-1]
        }
        return 3;
    }
    if (b0 >= 0xF0 && b0 <= 0xF4) {
        if (left < 4 || !is_continuation(at(1)) || !is_continuation(at(2)) || !is_continuation(at(3))) {
            return 0;
        }
        if (b0 == 0xF0 && at(1) < 0x90) {
            return 0;  // overlong
        }
        if (b0 == 0xF4 && at(1) > 0x8F) {
            return 0;  // above U+10FFFF
        }
        return 4;
    }
    return 0;  // continuation byte first, C0/C1 overlong leads, F5..FF
}

/// The level of `s` starting at `pos` and the start of the next level (npos when it is the last).
std::pair<std::string_view, std::size_t> level_at(std::string_view s, std::size_t pos) noexcept {
    const std::size_t slash = s.find('/', pos);
    if (slash == std::string_view::npos) {
        return {s.substr(pos), std::string_view::npos};
    }
    return {s.substr(pos, slash - pos), slash + 1};
}

bool well_formed(std::string_view s, bool allow_nul) noexcept {
    std::size_t i = 0;
    while (i < s.size()) {
        const auto b = static_cast<std::uint8_t>(s[i]);
        if (b != 0 && b < 0x80) {  // ASCII fast path
            ++i;
            continue;
        }
        const std::size_t n = sequence_length(s, i, allow_nul);
        if (n == 0) {
            return false;
        }
        i += n;
    }
    return true;
}

bool has_wildcard(std::string_view s) noexcept {
    return std::any_of(s.begin(), s.end(), [](char c) { return c == '+' || c == '#'; });
}

}  // namespace

bool is_valid_utf8_string(std::string_view s) noexcept {
    return s.size() <= max_string_bytes && well_formed(s, false);
}

bool is_well_formed_utf8(std::string_view s) noexcept {
    return well_formed(s, true);
}

bool is_valid_topic_name(std::string_view s) noexcept {
    return !s.empty() && !has_wildcard(s) && is_valid_utf8_string(s);
}

bool is_valid_topic_filter(std::string_view s) noexcept {
    if (s.empty() || !is_valid_utf8_string(s)) {
        return false;
    }
    std::size_t pos = 0;
    while (true) {
        const auto [level, next] = level_at(s, pos);
        if (level.find('#') != std::string_view::npos && (level != "#" || next != std::string_view::npos)) {
            return false;  // [MQTT-4.7.1-2]
        }
        if (level.find('+') != std::string_view::npos && level != "+") {
            return false;  // [MQTT-4.7.1-3]
        }
        if (next == std::string_view::npos) {
            return true;
        }
        pos = next;
    }
}

std::optional<shared_filter> parse_shared_subscription(std::string_view s) noexcept {
    if (!s.starts_with(share_prefix)) {
        return std::nullopt;
    }
    const std::string_view rest = s.substr(share_prefix.size());
    const std::size_t slash = rest.find('/');
    if (slash == std::string_view::npos) {
        return shared_filter{rest, {}};
    }
    return shared_filter{rest.substr(0, slash), rest.substr(slash + 1)};
}

reason_code check_shared_subscription(std::string_view s) noexcept {
    const auto shared = parse_shared_subscription(s);
    if (!shared) {
        return reason_code::success;
    }
    if (shared->group.empty() || has_wildcard(shared->group)) {
        return reason_code::protocol_error;  // [MQTT-4.8.2-1]
    }
    if (shared->filter.empty()) {
        return reason_code::protocol_error;  // [MQTT-4.8.2-2]
    }
    if (!is_valid_topic_filter(shared->filter)) {
        return reason_code::malformed_packet;
    }
    return reason_code::success;
}

std::size_t topic_levels(std::string_view s) noexcept {
    return static_cast<std::size_t>(std::count(s.begin(), s.end(), '/')) + 1;
}

bool topic_matches(std::string_view filter, std::string_view topic) noexcept {
    if (!topic.empty() && topic.front() == '$' && !filter.empty() &&
        (filter.front() == '+' || filter.front() == '#')) {
        return false;  // [MQTT-4.7.2-1]
    }
    std::size_t fpos = 0;
    std::size_t tpos = 0;
    bool filter_done = false;
    bool topic_done = false;
    while (true) {
        if (filter_done) {
            return topic_done;
        }
        const auto [flevel, fnext] = level_at(filter, fpos);
        if (flevel == "#") {
            return true;  // the parent level and everything below [MQTT-4.7.1-2]
        }
        if (topic_done) {
            return false;
        }
        const auto [tlevel, tnext] = level_at(topic, tpos);
        if (flevel != "+" && flevel != tlevel) {
            return false;
        }
        filter_done = fnext == std::string_view::npos;
        topic_done = tnext == std::string_view::npos;
        fpos = fnext;
        tpos = tnext;
    }
}

}  // namespace tollgate::mqtt
