#pragma once
// Small, allocation-free helpers over MQTT topic names and topic filters that the routing
// structures (subscription_index, retained_store) share. They do NOT validate: the codec
// (tollgate/mqtt) checks topic names and filters before they reach the broker. Every function is
// total, though: any input (empty, huge, malformed) gives a defined result and never reads past
// the end of its argument.
// Thread-safety: pure functions, safe from any thread.
#include <cstddef>
#include <functional>
#include <string_view>
#include <vector>

namespace tollgate::broker::topic {

/// Calls `fn(level)` for each '/'-separated level of `text`, in order. "a//b" gives "a", "", "b";
/// "" gives one empty level; "/x" gives "", "x". No allocation.
template <typename Fn>
void for_each_level(std::string_view text, Fn&& fn) {
    std::size_t start = 0;
    for (;;) {
        const std::size_t slash = text.find('/', start);
        if (slash == std::string_view::npos) {
            fn(text.substr(start));
            return;
        }
        fn(text.substr(start, slash - start));
        start = slash + 1;
    }
}

/// Replaces the contents of `out` with the levels of `text` (see for_each_level). `out` keeps its
/// capacity, so a reused vector costs no allocation once warm. The views point into `text`.
void split_levels(std::string_view text, std::vector<std::string_view>& out);

/// A "$share/<group>/<filter>" subscription, split. For any other input `is_shared` is false and
/// `filter` is the whole input.
struct shared_filter {
    bool is_shared = false;
    std::string_view group;   ///< the share name; empty when not shared
    std::string_view filter;  ///< the topic filter proper
};

/// Splits a shared subscription. Only "$share/" followed by a non-empty group and a '/' counts as
/// shared ([MQTT-4.8.2-1], [MQTT-4.8.2-2] are checked by the codec); anything else is returned
/// unchanged as a plain filter.
[[nodiscard]] shared_filter parse_shared(std::string_view text) noexcept;

/// Transparent hash for maps keyed by std::string that are looked up with std::string_view
/// (unordered_map<std::string, T, level_hash, std::equal_to<>>): no allocation per lookup.
struct level_hash {
    using is_transparent = void;
    [[nodiscard]] std::size_t operator()(std::string_view text) const noexcept {
        return std::hash<std::string_view>{}(text);
    }
};

/// True for a topic name that begins with '$' ([MQTT-4.7.2-1]: not matched by a filter starting
/// with a wildcard).
[[nodiscard]] inline bool is_dollar_topic(std::string_view topic) noexcept {
    return !topic.empty() && topic.front() == '$';
}

/// Reference matcher: does `filter` (a valid non-shared topic filter) match `name` (a valid topic
/// name)? Straightforward level-by-level walk, O(levels). The routing structures answer the same
/// question for many filters at once; this one exists for single checks and for tests.
[[nodiscard]] bool matches(std::string_view filter, std::string_view name) noexcept;

}  // namespace tollgate::broker::topic
