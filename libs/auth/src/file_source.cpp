// Static policy rules from a TOML file (see file_source.hpp).
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <toml++/toml.h>

#include <tollgate/auth/file_source.hpp>
#include <tollgate/common/secret.hpp>

namespace tollgate::auth {
namespace {

[[noreturn]] void fail(const std::string& where, const std::string& problem) {
    throw std::invalid_argument(where + ": " + problem);
}

std::string_view kind_of(const toml::node& n) {
    if (n.is_string()) {
        return "a string";
    }
    if (n.is_integer() || n.is_floating_point()) {
        return "a number";
    }
    if (n.is_boolean()) {
        return "a boolean";
    }
    if (n.is_table()) {
        return "a table";
    }
    if (n.is_array()) {
        return "an array";
    }
    return "a date or time";
}

/// The string at `key`, or nullopt when absent. Wrong type or empty: error naming the key.
std::optional<std::string> string_key(const toml::table& t, std::string_view key, const std::string& where) {
    const toml::node* n = t.get(key);
    if (n == nullptr) {
        return std::nullopt;
    }
    const auto* s = n->as_string();
    if (s == nullptr) {
        fail(where + "." + std::string(key), "must be a string (got " + std::string(kind_of(*n)) + ")");
    }
    if (s->get().empty()) {
        fail(where + "." + std::string(key), "must not be empty");
    }
    return s->get();
}

std::string required(const toml::table& t, std::string_view key, const std::string& where) {
    auto v = string_key(t, key, where);
    if (!v) {
        fail(where + "." + std::string(key), "is required");
    }
    return std::move(*v);
}

/// A match key: absent or "*" is nullopt (any).
std::optional<std::string> match_key(const toml::table& t, std::string_view key, const std::string& where) {
    auto v = string_key(t, key, where);
    if (v && *v == "*") {
        return std::nullopt;
    }
    return v;
}

bool matches(const std::optional<std::string>& want, std::string_view have) {
    return !want || *want == have;
}

}  // namespace

file_source::rule_list file_source::parse_rules(std::string_view text, const std::string& origin,
                                                const std::string& name) {
    if (text.size() > max_file_bytes) {
        fail(origin, "larger than " + std::to_string(max_file_bytes) + " bytes");
    }
    toml::table doc;
    try {
        doc = toml::parse(text, origin);
    } catch (const toml::parse_error& e) {
        const auto& where = e.source().begin;
        fail(origin + ":" + std::to_string(where.line) + ":" + std::to_string(where.column),
             std::string(e.description()));
    }
    rule_list out;
    for (const auto& [key, node] : doc) {
        if (key.str() != "rule") {
            fail(origin + ": " + std::string(key.str()), "unknown key (rules are [[rule]] tables)");
        }
        static_cast<void>(node);
    }
    const toml::node* rules = doc.get("rule");
    if (rules == nullptr) {
        return out;
    }
    const auto* arr = rules->as_array();
    if (arr == nullptr) {
        fail(origin + ": rule", "must be an array of tables ([[rule]])");
    }
    if (arr->size() > max_rules) {
        fail(origin + ": rule", "more than " + std::to_string(max_rules) + " rules");
    }
    for (std::size_t i = 0; i < arr->size(); ++i) {
        const std::string where = origin + ": rule[" + std::to_string(i) + "]";
        const auto* t = (*arr)[i].as_table();
        if (t == nullptr) {
            fail(where, "must be a table");
        }
        for (const auto& [key, node] : *t) {
            static_cast<void>(node);
            const std::string_view k = key.str();
            if (k != "effect" && k != "action" && k != "filter" && k != "username" && k != "client_id" &&
                k != "sub") {
                fail(where + "." + std::string(k),
                     "unknown key (known: effect, action, filter, username, client_id, sub)");
            }
        }
        entry e;
        const std::string effect = required(*t, "effect", where);
        const std::string action = required(*t, "action", where);
        auto eff = parse_policy_effect(effect);
        if (!eff) {
            fail(where + ".effect", "must be \"allow\" or \"deny\" (got \"" + effect + "\")");
        }
        auto act = parse_policy_action(action);
        if (!act) {
            fail(where + ".action", "must be \"pub\", \"sub\" or \"all\" (got \"" + action + "\")");
        }
        e.rule = policy_rule{*eff, *act, required(*t, "filter", where), name};
        // The pattern must compile for some principal: check its grammar with neutral values.
        substitution_values probe;
        probe.client_id = probe.subject = "x";
        probe.username = "x";
        probe.claim = [](std::string_view) { return std::optional<std::string>("x"); };
        const auto compiled = policy_rules::compile({e.rule}, probe);
        if (!compiled.dropped().empty()) {
            fail(where + ".filter", "not a valid topic filter pattern: " + compiled.dropped().front().second);
        }
        e.username = match_key(*t, "username", where);
        e.client_id = match_key(*t, "client_id", where);
        e.subject = match_key(*t, "sub", where);
        out.push_back(std::move(e));
    }
    return out;
}

file_source file_source::parse(std::string_view text, const std::string& origin, std::string label) {
    file_source out;
    out.name_ = label.empty() ? "file" : "file " + label;
    out.state_->rules = std::make_shared<const rule_list>(parse_rules(text, origin, out.name_));
    out.state_->digest = common::sha256(text);
    return out;
}

std::string file_source::read_text(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        fail(path, "cannot read the policy file");
    }
    std::string text;
    text.resize(max_file_bytes + 1);
    in.read(text.data(), static_cast<std::streamsize>(text.size()));
    text.resize(static_cast<std::size_t>(in.gcount()));
    return text;
}

file_source file_source::from_file(const std::string& path, std::string label) {
    file_source out = parse(read_text(path), path, std::move(label));
    out.path_ = path;
    return out;
}

std::size_t file_source::rule_count() const {
    std::lock_guard lock(state_->mutex);
    return state_->rules->size();
}

file_reload_result file_source::reload() {
    std::lock_guard serial(state_->reloading);
    file_reload_result out;
    out.rules_before = out.rules_after = rule_count();
    if (path_.empty()) {
        out.error = name_ + ": made from text, there is no file to reload";
        return out;
    }
    try {
        const std::string text = read_text(path_);
        auto rules = std::make_shared<const rule_list>(parse_rules(text, path_, name_));
        auto digest = common::sha256(text);
        out.rules_after = rules->size();
        std::lock_guard lock(state_->mutex);
        out.changed = digest != state_->digest;
        state_->rules = std::move(rules);
        state_->digest = std::move(digest);
        out.ok = true;
    } catch (const std::exception& e) {
        out.error = e.what();
    }
    return out;
}

std::vector<policy_rule> file_source::load(const broker::principal& who) {
    std::shared_ptr<const rule_list> rules;
    {
        std::lock_guard lock(state_->mutex);
        rules = state_->rules;
    }
    std::vector<policy_rule> out;
    for (const auto& e : *rules) {
        if (e.username && (!who.username || *who.username != *e.username)) {
            continue;
        }
        if (!matches(e.client_id, who.client_id) || !matches(e.subject, who.subject)) {
            continue;
        }
        out.push_back(e.rule);
    }
    return out;
}

}  // namespace tollgate::auth
