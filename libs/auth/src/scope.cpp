// Scope grammar, placeholder substitution and filter coverage (see scope.hpp).
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <tollgate/auth/scope.hpp>
#include <tollgate/mqtt/topic.hpp>

namespace tollgate::auth {
namespace {

/// RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ).
bool is_scope_char(unsigned char c) noexcept {
    return c == 0x21 || (c >= 0x23 && c <= 0x5B) || (c >= 0x5D && c <= 0x7E);
}

int hex_value(char c) noexcept {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

std::optional<pattern_part> parse_placeholder(std::string_view name) {
    pattern_part p;
    if (name == "client_id") {
        p.what = pattern_part::kind::client_id;
    } else if (name == "sub") {
        p.what = pattern_part::kind::subject;
    } else if (name == "username") {
        p.what = pattern_part::kind::username;
    } else if (name.starts_with("claim:") && name.size() > 6) {
        p.what = pattern_part::kind::claim;
        p.text = std::string(name.substr(6));
    } else {
        return std::nullopt;
    }
    return p;
}

void append_literal(std::vector<pattern_part>& parts, char c) {
    if (parts.empty() || parts.back().what != pattern_part::kind::literal) {
        parts.push_back(pattern_part{});
    }
    parts.back().text.push_back(c);
}

/// Parses the pattern after "mqtt:<action>:". Returns the error, or scope_error{} on success.
scope_error parse_parts(std::string_view text, std::vector<pattern_part>& parts) {
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (c == '%') {
            if (i + 2 >= text.size()) {
                return scope_error::bad_percent;
            }
            const int hi = hex_value(text[i + 1]);
            const int lo = hex_value(text[i + 2]);
            if (hi < 0 || lo < 0) {
                return scope_error::bad_percent;
            }
            append_literal(parts, static_cast<char>((hi << 4) | lo));
            i += 2;
        } else if (c == '{') {
            const std::size_t close = text.find('}', i + 1);
            if (close == std::string_view::npos) {
                return scope_error::bad_placeholder;
            }
            auto p = parse_placeholder(text.substr(i + 1, close - i - 1));
            if (!p) {
                return scope_error::bad_placeholder;
            }
            parts.push_back(std::move(*p));
            i = close;
        } else if (c == '}') {
            return scope_error::bad_placeholder;
        } else {
            append_literal(parts, c);
        }
    }
    return scope_error{};
}

std::optional<std::string> substitute(const scope_pattern& p, const substitution_values& v,
                                      std::string& why) {
    std::string out;
    for (const auto& part : p.parts) {
        std::optional<std::string> value;
        switch (part.what) {
            case pattern_part::kind::literal:
                out += part.text;
                continue;
            case pattern_part::kind::client_id:
                value = v.client_id;
                break;
            case pattern_part::kind::subject:
                value = v.subject;
                break;
            case pattern_part::kind::username:
                value = v.username;
                break;
            case pattern_part::kind::claim:
                value = v.claim ? v.claim(part.text) : std::nullopt;
                break;
        }
        if (!value || !is_safe_substitution(*value)) {
            why = "placeholder value is absent, empty or contains '+', '#', '/' or NUL";
            return std::nullopt;
        }
        out += *value;
    }
    return out;
}

bool is_wildcard(std::string_view level) noexcept {
    return level == "+" || level == "#";
}

/// Splits at '/' into views ("" gives one empty level).
void split(std::string_view s, std::vector<std::string_view>& out) {
    out.clear();
    std::size_t start = 0;
    for (;;) {
        const auto slash = s.find('/', start);
        if (slash == std::string_view::npos) {
            out.push_back(s.substr(start));
            return;
        }
        out.push_back(s.substr(start, slash - start));
        start = slash + 1;
    }
}

std::string_view action_name(grant_action a) noexcept {
    switch (a) {
        case grant_action::publish:
            return "pub";
        case grant_action::subscribe:
            return "sub";
        case grant_action::both:
            return "all";
    }
    return "all";
}

/// One structured entry: {"action": "pub"|"sub"|"all", "filter": "..."} and nothing else.
/// Returns the pattern, or sets `why`.
std::optional<scope_pattern> parse_entry(const boost::json::value& entry, const scope_limits& limits,
                                         std::string& why) {
    const auto* obj = entry.if_object();
    if (obj == nullptr) {
        why = "entry is not an object";
        return std::nullopt;
    }
    const boost::json::string* action = nullptr;
    const boost::json::string* filter = nullptr;
    for (const auto& member : *obj) {
        if (member.key() == "action") {
            action = member.value().if_string();
        } else if (member.key() == "filter") {
            filter = member.value().if_string();
        } else {
            why = "unknown member (only action and filter)";
            return std::nullopt;
        }
    }
    if (action == nullptr || filter == nullptr) {
        why = "needs string members action and filter";
        return std::nullopt;
    }
    grant_action a{};
    if (*action == "pub") {
        a = grant_action::publish;
    } else if (*action == "sub") {
        a = grant_action::subscribe;
    } else if (*action == "all") {
        a = grant_action::both;
    } else {
        why = std::string(to_string(scope_error::bad_action));
        return std::nullopt;
    }
    auto parsed = parse_pattern(std::string_view(filter->data(), filter->size()), a, limits);
    if (!parsed.pattern) {
        why = std::string(to_string(parsed.error));
        return std::nullopt;
    }
    return std::move(parsed.pattern);
}

bool action_allows(grant_action have, grant_action want) noexcept {
    return have == grant_action::both || have == want;
}

}  // namespace

std::string_view to_string(scope_error e) noexcept {
    switch (e) {
        case scope_error::not_mqtt:
            return "not an mqtt scope";
        case scope_error::bad_action:
            return "action must be pub, sub or all";
        case scope_error::empty_pattern:
            return "empty topic pattern";
        case scope_error::too_long:
            return "scope too long";
        case scope_error::bad_character:
            return "character not allowed in a scope (percent-encode it)";
        case scope_error::bad_percent:
            return "bad percent-encoding";
        case scope_error::bad_placeholder:
            return "unknown or unterminated placeholder";
    }
    return "unknown scope error";
}

parse_result parse_scope(std::string_view scope, const scope_limits& limits) {
    parse_result r;
    if (scope.size() > limits.max_scope_bytes) {
        r.error = scope_error::too_long;
        return r;
    }
    for (const char c : scope) {
        if (!is_scope_char(static_cast<unsigned char>(c))) {
            r.error = scope_error::bad_character;
            return r;
        }
    }
    if (!scope.starts_with("mqtt:")) {
        r.error = scope_error::not_mqtt;
        return r;
    }
    std::string_view rest = scope.substr(5);
    scope_pattern p;
    if (rest.starts_with("pub:")) {
        p.action = grant_action::publish;
    } else if (rest.starts_with("sub:")) {
        p.action = grant_action::subscribe;
    } else if (rest.starts_with("all:")) {
        p.action = grant_action::both;
    } else {
        r.error = scope_error::bad_action;
        return r;
    }
    rest.remove_prefix(4);
    if (rest.empty()) {
        r.error = scope_error::empty_pattern;
        return r;
    }
    if (auto e = parse_parts(rest, p.parts); e != scope_error{}) {
        r.error = e;
        return r;
    }
    p.source = std::string(scope);
    r.pattern = std::move(p);
    return r;
}

parse_result parse_pattern(std::string_view pattern, grant_action action, const scope_limits& limits) {
    parse_result r;
    if (pattern.size() > limits.max_filter_bytes) {
        r.error = scope_error::too_long;
        return r;
    }
    if (pattern.empty()) {
        r.error = scope_error::empty_pattern;
        return r;
    }
    scope_pattern p;
    p.action = action;
    if (auto e = parse_parts(pattern, p.parts); e != scope_error{}) {
        r.error = e;
        return r;
    }
    p.source = std::string(pattern);
    r.pattern = std::move(p);
    return r;
}

std::vector<scope_pattern> parse_permissions_claim(const boost::json::value& claim, std::string_view name,
                                                   const scope_limits& limits, dropped_list* dropped) {
    std::vector<scope_pattern> out;
    auto drop = [&](std::string label, std::string why) {
        if (dropped != nullptr && dropped->size() < limits.max_grants) {
            dropped->emplace_back(std::move(label), std::move(why));
        }
    };
    const auto* entries = claim.if_array();
    if (entries == nullptr) {
        drop(std::string(name), "claim is not an array of {action, filter} objects");
        return out;
    }
    for (std::size_t i = 0; i < entries->size(); ++i) {
        std::string label = std::string(name) + "[" + std::to_string(i) + "]";
        if (i >= limits.max_permission_entries) {
            drop(std::move(label) + ".." + std::to_string(entries->size() - 1), "too many entries");
            break;
        }
        std::string why;
        auto p = parse_entry((*entries)[i], limits, why);
        if (!p) {
            drop(std::move(label), std::move(why));
            continue;
        }
        p->source = label + " " + std::string(action_name(p->action)) + " " + p->source;
        out.push_back(std::move(*p));
    }
    return out;
}

bool is_safe_substitution(std::string_view value) noexcept {
    return !value.empty() && value.find_first_of(std::string_view("+#/\0", 4)) == std::string_view::npos;
}

bool filter_covers(std::string_view allowed, std::string_view requested) noexcept {
    thread_local std::vector<std::string_view> a;
    thread_local std::vector<std::string_view> f;
    split(allowed, a);
    split(requested, f);
    // [MQTT-4.7.2-1]: a wildcard first level never matches a '$' topic, so it cannot cover a
    // filter whose first level is a literal starting with '$'.
    if (!f[0].empty() && f[0].front() == '$' && !is_wildcard(f[0]) && is_wildcard(a[0])) {
        return false;
    }
    std::size_t i = 0;
    for (; i < f.size(); ++i) {
        if (i >= a.size()) {
            return false;  // requested is deeper than allowed, and allowed has no '#'
        }
        if (a[i] == "#") {
            return true;
        }
        if (f[i] == "#") {
            return false;  // requested reaches every depth here; allowed does not
        }
        if (f[i] == "+") {
            if (a[i] != "+") {
                return false;
            }
        } else if (a[i] != "+" && a[i] != f[i]) {
            return false;
        }
    }
    // requested ended: allowed must end too, or continue with exactly "#" ("a/#" matches "a").
    return i == a.size() || (i + 1 == a.size() && a[i] == "#");
}

void permission_set::add(const scope_pattern& pattern, const std::string& label,
                         const substitution_values& values, const scope_limits& limits,
                         dropped_list* dropped) {
    auto drop = [&](std::string why) {
        if (dropped != nullptr && dropped->size() < limits.max_grants) {
            dropped->emplace_back(label, std::move(why));
        }
    };
    std::string why;
    auto filter = substitute(pattern, values, why);
    if (!filter) {
        drop(why);
        return;
    }
    if (!mqtt::is_valid_topic_filter(*filter) || mqtt::parse_shared_subscription(*filter)) {
        drop("not a valid topic filter");
        return;
    }
    if (grants_.size() >= limits.max_grants) {
        drop("too many grants");
        return;
    }
    grants_.push_back(grant{pattern.action, std::move(*filter), pattern.source});
}

permission_set permission_set::compile(const std::vector<std::string>& scopes,
                                       const substitution_values& values, const scope_limits& limits,
                                       dropped_list* dropped) {
    permission_set set;
    for (const auto& s : scopes) {
        auto parsed = parse_scope(s, limits);
        if (!parsed.pattern) {
            if (parsed.error != scope_error::not_mqtt && dropped != nullptr &&
                dropped->size() < limits.max_grants) {
                dropped->emplace_back(s, std::string(to_string(parsed.error)));
            }
            continue;
        }
        set.add(*parsed.pattern, s, values, limits, dropped);
    }
    return set;
}

permission_set permission_set::compile(const std::vector<std::string>& scopes,
                                       const boost::json::object& claims, const substitution_values& values,
                                       const scope_limits& limits, dropped_list* dropped) {
    permission_set set = compile(scopes, values, limits, dropped);
    if (limits.permissions_claim.empty()) {
        return set;
    }
    const auto* claim = claims.if_contains(limits.permissions_claim);
    if (claim == nullptr) {
        return set;
    }
    const auto patterns = parse_permissions_claim(*claim, limits.permissions_claim, limits, dropped);
    for (const auto& p : patterns) {
        set.add(p, p.source, values, limits, dropped);
    }
    return set;
}

const grant* permission_set::find_publish(std::string_view topic) const noexcept {
    for (const auto& g : grants_) {
        if (action_allows(g.action, grant_action::publish) && mqtt::topic_matches(g.filter, topic)) {
            return &g;
        }
    }
    return nullptr;
}

namespace {
/// The filter a subscription is judged on: f of "$share/g/f", else the filter itself.
std::string_view proper_filter(std::string_view filter) noexcept {
    if (auto shared = mqtt::parse_shared_subscription(filter)) {
        return shared->filter;
    }
    return filter;
}
}  // namespace

const grant* permission_set::find_subscribe(std::string_view filter) const noexcept {
    const std::string_view proper = proper_filter(filter);
    if (proper.empty() || !mqtt::is_valid_topic_filter(proper)) {
        return nullptr;
    }
    for (const auto& g : grants_) {
        if (action_allows(g.action, grant_action::subscribe) && filter_covers(g.filter, proper)) {
            return &g;
        }
    }
    return nullptr;
}

decision permission_set::check_publish(std::string_view topic) const {
    if (const grant* g = find_publish(topic)) {
        return decision{true, g->source, "topic matches " + g->filter};
    }
    return decision{false, "default deny", "no publish scope matches the topic"};
}

decision permission_set::check_subscribe(std::string_view filter) const {
    const std::string_view proper = proper_filter(filter);
    if (proper.empty() || !mqtt::is_valid_topic_filter(proper)) {
        return decision{false, "default deny", "not a valid topic filter"};
    }
    if (const grant* g = find_subscribe(filter)) {
        return decision{true, g->source, "filter covered by " + g->filter};
    }
    return decision{false, "default deny", "no subscribe scope covers the filter"};
}

}  // namespace tollgate::auth
