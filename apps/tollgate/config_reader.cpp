#include "config_reader.hpp"

#include <algorithm>

namespace tollgate::app::detail {
namespace {

// Edit distance between two short key names, for "did you mean" hints.
std::size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) {
        row[j] = j;
    }
    for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t diagonal = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const std::size_t above = row[j];
            const std::size_t substitution = diagonal + (a[i - 1] == b[j - 1] ? 0 : 1);
            row[j] = std::min({above + 1, row[j - 1] + 1, substitution});
            diagonal = above;
        }
    }
    return row[b.size()];
}

}  // namespace

void fail(std::string_view path, std::string_view problem) {
    throw config_error(std::string(path) + ": " + std::string(problem));
}

std::string_view describe(const toml::node& node) {
    switch (node.type()) {
        case toml::node_type::table:
            return "a table";
        case toml::node_type::array:
            return "an array";
        case toml::node_type::string:
            return "a string";
        case toml::node_type::integer:
            return "an integer";
        case toml::node_type::floating_point:
            return "a float";
        case toml::node_type::boolean:
            return "a boolean";
        case toml::node_type::date:
        case toml::node_type::time:
        case toml::node_type::date_time:
            return "a date/time";
        case toml::node_type::none:
            break;
    }
    return "nothing";
}

table_reader::table_reader(const toml::table& table, std::string path)
    : table_(table), path_(std::move(path)) {}

std::string table_reader::path_of(std::string_view key) const {
    return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
}

const toml::node* table_reader::lookup(std::string_view key) {
    known_.emplace_back(key);
    return table_.get(key);
}

bool table_reader::has(std::string_view key) {
    return lookup(key) != nullptr;
}

bool table_reader::read_integer(std::string_view key, std::int64_t& out, std::int64_t min, std::int64_t max) {
    const toml::node* node = lookup(key);
    if (node == nullptr) {
        return false;
    }
    const auto* value = node->as_integer();
    if (value == nullptr) {
        fail(path_of(key), "must be an integer (got " + std::string(describe(*node)) + ")");
    }
    const std::int64_t v = value->get();
    if (v < min || v > max) {
        fail(path_of(key), "must be between " + std::to_string(min) + " and " + std::to_string(max) +
                               " (got " + std::to_string(v) + ")");
    }
    out = v;
    return true;
}

void table_reader::boolean(std::string_view key, bool& out) {
    const toml::node* node = lookup(key);
    if (node == nullptr) {
        return;
    }
    const auto* value = node->as_boolean();
    if (value == nullptr) {
        fail(path_of(key), "must be true or false (got " + std::string(describe(*node)) + ")");
    }
    out = value->get();
}

void table_reader::string(std::string_view key, std::string& out, bool non_empty) {
    const toml::node* node = lookup(key);
    if (node == nullptr) {
        return;
    }
    const auto* value = node->as_string();
    if (value == nullptr) {
        fail(path_of(key), "must be a string (got " + std::string(describe(*node)) + ")");
    }
    if (non_empty && value->get().empty()) {
        fail(path_of(key), "must not be empty");
    }
    out = value->get();
}

bool table_reader::read_choice_text(std::string_view key, std::string& out) {
    const toml::node* node = lookup(key);
    if (node == nullptr) {
        return false;
    }
    const auto* value = node->as_string();
    if (value == nullptr) {
        fail(path_of(key), "must be a string (got " + std::string(describe(*node)) + ")");
    }
    out = value->get();
    return true;
}

void table_reader::duration(std::string_view key, std::chrono::milliseconds& out,
                            std::chrono::milliseconds min, std::chrono::milliseconds max) {
    const toml::node* node = lookup(key);
    if (node == nullptr) {
        return;
    }
    std::chrono::milliseconds value{};
    bool ok = false;
    std::string shown;
    if (const auto* seconds = node->as_integer()) {
        shown = std::to_string(seconds->get());
        ok = seconds->get() >= 0 && seconds->get() <= 100'000'000;
        value = std::chrono::seconds(ok ? seconds->get() : 0);
    } else if (const auto* text = node->as_string()) {
        shown = "\"" + text->get() + "\"";
        ok = parse_duration(text->get(), value);
    } else {
        fail(path_of(key),
             "must be a duration such as \"10s\" or \"250ms\" (got " + std::string(describe(*node)) + ")");
    }
    if (!ok) {
        fail(path_of(key),
             "must be a duration such as \"10s\", \"250ms\", \"5m\" or a number of seconds (got " + shown +
                 ")");
    }
    if (value < min || value > max) {
        fail(path_of(key), "must be between " + std::to_string(min.count()) + "ms and " +
                               std::to_string(max.count()) + "ms (got " + shown + ")");
    }
    out = value;
}

void table_reader::seconds(std::string_view key, std::chrono::seconds& out, std::chrono::seconds min,
                           std::chrono::seconds max) {
    std::chrono::milliseconds value{-1};
    duration(key, value, min, max);
    if (value.count() < 0) {
        return;
    }
    if (value.count() % 1000 != 0) {
        fail(path_of(key), "must be a whole number of seconds (got " + std::to_string(value.count()) + "ms)");
    }
    out = std::chrono::duration_cast<std::chrono::seconds>(value);
}

const toml::table* table_reader::table(std::string_view key) {
    const toml::node* node = lookup(key);
    if (node == nullptr) {
        return nullptr;
    }
    const auto* t = node->as_table();
    if (t == nullptr) {
        fail(path_of(key), "must be a table (got " + std::string(describe(*node)) + ")");
    }
    return t;
}

const toml::array* table_reader::table_array(std::string_view key) {
    const toml::node* node = lookup(key);
    if (node == nullptr) {
        return nullptr;
    }
    const auto* a = node->as_array();
    if (a == nullptr) {
        fail(path_of(key), "must be an array of tables, written [[" + path_of(key) + "]] (got " +
                               std::string(describe(*node)) + ")");
    }
    return a;
}

void table_reader::finish() const {
    for (const auto& [key, node] : table_) {
        const std::string_view name = key.str();
        if (std::find(known_.begin(), known_.end(), name) != known_.end()) {
            continue;
        }
        std::string hint;
        std::size_t best = 3;  // suggest only close names
        for (const auto& candidate : known_) {
            const std::size_t d = edit_distance(name, candidate);
            if (d < best) {
                best = d;
                hint = " (did you mean " + candidate + "?)";
            }
        }
        fail(path_of(name), "unknown key" + hint);
    }
}

}  // namespace tollgate::app::detail
