#pragma once
// A strict reader over one TOML table. Every key the schema knows is asked for through this
// reader (present or not); finish() then rejects any key of the table that nobody asked for,
// suggesting the closest known name. Every error names the full key path.
//
// Thread-safety: none; a reader lives for one parse on one thread.
#include <chrono>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <toml++/toml.h>

#include "config.hpp"

namespace tollgate::app::detail {

/// Throws config_error("<path>: <problem>").
[[noreturn]] void fail(std::string_view path, std::string_view problem);

/// "an integer", "a string", ... for error messages.
[[nodiscard]] std::string_view describe(const toml::node& node);

class table_reader {
  public:
    table_reader(const toml::table& table, std::string path);

    /// The full path of a key of this table ("mqtt.limits.max_packet_size").
    [[nodiscard]] std::string path_of(std::string_view key) const;
    [[nodiscard]] bool has(std::string_view key);

    /// An integer in [min, max]; absent keys leave `out` unchanged.
    template <typename Int>
    void integer(std::string_view key, Int& out, std::int64_t min = std::numeric_limits<Int>::min(),
                 std::int64_t max = static_cast<std::int64_t>(std::numeric_limits<Int>::max())) {
        std::int64_t value = 0;
        if (read_integer(key, value, min, max)) {
            out = static_cast<Int>(value);
        }
    }
    void boolean(std::string_view key, bool& out);
    /// A string; `non_empty` rejects "".
    void string(std::string_view key, std::string& out, bool non_empty = true);
    /// A duration (see parse_duration) in [min, max].
    void duration(std::string_view key, std::chrono::milliseconds& out, std::chrono::milliseconds min,
                  std::chrono::milliseconds max);
    /// A duration in [min, max] that is a whole number of seconds.
    void seconds(std::string_view key, std::chrono::seconds& out, std::chrono::seconds min,
                 std::chrono::seconds max);
    /// A string that must be one of `names`; stores the matching value.
    template <typename Enum>
    void choice(std::string_view key, Enum& out, std::span<const std::pair<std::string_view, Enum>> names) {
        std::string text;
        if (!read_choice_text(key, text)) {
            return;
        }
        std::string allowed;
        for (const auto& [name, value] : names) {
            if (name == text) {
                out = value;
                return;
            }
            allowed += allowed.empty() ? "" : ", ";
            allowed += name;
        }
        fail(path_of(key), "must be one of " + allowed + " (got \"" + text + "\")");
    }
    /// A sub-table, or nullptr when absent. Anything else than a table is an error.
    const toml::table* table(std::string_view key);
    /// An array of tables (`[[key]]`), or nullptr when absent.
    const toml::array* table_array(std::string_view key);

    /// Rejects every key of the table that was not asked for.
    void finish() const;

  private:
    const toml::node* lookup(std::string_view key);
    bool read_integer(std::string_view key, std::int64_t& out, std::int64_t min, std::int64_t max);
    bool read_choice_text(std::string_view key, std::string& out);

    const toml::table& table_;
    std::string path_;
    std::vector<std::string> known_;
};

}  // namespace tollgate::app::detail
