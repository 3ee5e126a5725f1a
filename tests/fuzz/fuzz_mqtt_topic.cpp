// libFuzzer target for the string and topic rules of the MQTT codec (libs/mqtt topic.hpp).
//   - is_well_formed_utf8() agrees with an independent code-point decoder written here;
//   - is_valid_utf8_string() is exactly "well-formed, no U+0000, at most 65535 bytes";
//   - topic names and filters: a valid name matches itself as a filter; "#" matches every valid name
//     not starting with '$'; a filter that matches is valid; a shared filter's parts are views into it.
// Input: the first byte splits the rest into a filter and a topic.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include <tollgate/mqtt/topic.hpp>

using namespace tollgate::mqtt;

namespace {

[[noreturn]] void fail(const char* what) {
    std::fprintf(stderr, "fuzz_mqtt_topic: %s\n", what);
    std::abort();
}

/// Reference: decode code points one by one, then judge the value (RFC 3629 §3-4).
bool reference_utf8(std::string_view s) {
    std::size_t i = 0;
    while (i < s.size()) {
        const auto lead = static_cast<std::uint8_t>(s[i]);
        std::size_t length = 0;
        std::uint32_t cp = 0;
        if (lead < 0x80) {
            length = 1;
            cp = lead;
        } else if ((lead >> 5) == 0x06) {
            length = 2;
            cp = lead & 0x1FU;
        } else if ((lead >> 4) == 0x0E) {
            length = 3;
            cp = lead & 0x0FU;
        } else if ((lead >> 3) == 0x1E) {
            length = 4;
            cp = lead & 0x07U;
        } else {
            return false;
        }
        if (s.size() - i < length) {
            return false;
        }
        for (std::size_t k = 1; k < length; ++k) {
            const auto b = static_cast<std::uint8_t>(s[i + k]);
            if ((b >> 6) != 0x02) {
                return false;
            }
            cp = (cp << 6) | (b & 0x3FU);
        }
        static constexpr std::uint32_t minimum[] = {0, 0, 0x80, 0x800, 0x10000};
        if (cp < minimum[length] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
            return false;
        }
        i += length;
    }
    return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) {
        return 0;
    }
    // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast): bytes viewed as chars
    const std::string_view all(reinterpret_cast<const char*>(data + 1), size - 1);
    if (is_well_formed_utf8(all) != reference_utf8(all)) {
        fail("UTF-8 check disagrees with the reference decoder");
    }
    const bool mqtt_string =
        reference_utf8(all) && all.find('\0') == std::string_view::npos && all.size() <= 65535;
    if (is_valid_utf8_string(all) != mqtt_string) {
        fail("is_valid_utf8_string is not well-formed && no U+0000 && <= 65535 bytes");
    }

    const std::size_t split = std::min<std::size_t>(data[0], all.size());
    const std::string_view filter = all.substr(0, split);
    const std::string_view topic = all.substr(split);
    const bool valid_filter = is_valid_topic_filter(filter);
    const bool valid_topic = is_valid_topic_name(topic);
    (void)topic_levels(all);
    (void)check_shared_subscription(filter);
    if (auto shared = parse_shared_subscription(filter)) {
        if (shared->group.data() < filter.data() ||
            shared->filter.data() + shared->filter.size() > filter.data() + filter.size()) {
            fail("shared subscription parts are not views into the filter");
        }
    }
    if (valid_topic) {
        if (!is_valid_topic_filter(topic) || !topic_matches(topic, topic)) {
            fail("a valid topic name does not match itself");
        }
        if (topic_matches("#", topic) == (topic.front() == '$')) {
            fail("'#' must match exactly the topics not starting with '$' [MQTT-4.7.2-1]");
        }
        if (valid_filter && topic_matches(filter, topic) && topic_levels(filter) > topic_levels(topic) + 1) {
            fail("a match cannot need more filter levels than topic levels + 1");
        }
    }
    if (valid_topic && valid_filter) {
        (void)topic_matches(filter, topic);
    }
    return 0;
}
