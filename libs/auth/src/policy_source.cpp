// Policy rules: compilation with the scope grammar's placeholder substitution, evaluation and
// topic-filter overlap (see policy_source.hpp).
#include <tollgate/auth/policy_source.hpp>
#include <tollgate/mqtt/topic.hpp>

namespace tollgate::auth {
namespace {

/// Longest rule pattern accepted (a topic filter is at most 65535 bytes; placeholders add a little).
constexpr std::size_t max_pattern_bytes = 65535 + 1024;

bool is_scope_char(unsigned char c) noexcept {
    return c == 0x21 || (c >= 0x23 && c <= 0x5B) || (c >= 0x5D && c <= 0x7E);
}

/// A rule pattern (raw bytes, '{' '}' delimiting placeholders) as an "mqtt:all:" scope token: every
/// byte a scope token cannot hold literally ('%' included) is percent-encoded, braces are kept.
std::string as_scope_token(std::string_view pattern) {
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out = "mqtt:all:";
    out.reserve(out.size() + pattern.size());
    for (const char ch : pattern) {
        const auto c = static_cast<unsigned char>(ch);
        if (c == '{' || c == '}' || (is_scope_char(c) && c != '%')) {
            out.push_back(ch);
        } else {
            out.push_back('%');
            out.push_back(hex[c >> 4]);
            out.push_back(hex[c & 0x0F]);
        }
    }
    return out;
}

bool action_applies(grant_action have, grant_action want) noexcept {
    return have == grant_action::both || have == want;
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

std::string label_of(const policy_rule& r) {
    std::string out = r.source.empty() ? std::string("policy") : r.source;
    out += r.effect == policy_effect::allow ? ": allow " : ": deny ";
    out += action_name(r.action);
    out += ' ';
    out += r.filter;
    return out;
}

/// The next level of `s` from `pos` (advances pos past the '/'; npos once the last level is taken).
std::string_view next_level(std::string_view s, std::size_t& pos) noexcept {
    const std::size_t slash = s.find('/', pos);
    std::string_view level;
    if (slash == std::string_view::npos) {
        level = s.substr(pos);
        pos = std::string_view::npos;
    } else {
        level = s.substr(pos, slash - pos);
        pos = slash + 1;
    }
    return level;
}

bool is_wildcard(std::string_view level) noexcept {
    return level == "+" || level == "#";
}

bool is_dollar_literal(std::string_view level) noexcept {
    return !level.empty() && level.front() == '$';
}

/// A deny rule whose placeholder has no safe value for this principal still applies: to every value.
/// Each level holding a placeholder becomes '+' ("t/{claim:tenant}/admin" -> "t/+/admin"), which
/// matches whatever a safe value (non-empty, no '/', '+', '#') could have made of that level.
/// Returns nullopt when the rule does not compile even with safe values (a grammar error: dropped).
std::optional<std::string> widened_deny(const std::string& token, const scope_limits& limits) {
    substitution_values probe;
    probe.client_id = probe.subject = "x";
    probe.username = "x";
    probe.claim = [](std::string_view) { return std::optional<std::string>("x"); };
    if (permission_set::compile({token}, probe, limits).grants().empty()) {
        return std::nullopt;
    }
    const auto parsed = parse_scope(token, limits);
    if (!parsed.pattern) {
        return std::nullopt;
    }
    std::string out;
    std::string level;
    bool placeholder = false;
    auto flush = [&] {
        out += placeholder ? std::string("+") : level;
        level.clear();
        placeholder = false;
    };
    for (const auto& part : parsed.pattern->parts) {
        if (part.what != pattern_part::kind::literal) {
            placeholder = true;
            continue;
        }
        for (const char c : part.text) {
            if (c == '/') {
                flush();
                out.push_back('/');
            } else {
                level.push_back(c);
            }
        }
    }
    flush();
    if (!mqtt::is_valid_topic_filter(out) || mqtt::parse_shared_subscription(out)) {
        return std::nullopt;
    }
    return out;
}

}  // namespace

policy_source::~policy_source() = default;

std::optional<policy_effect> parse_policy_effect(std::string_view text) noexcept {
    if (text == "allow") {
        return policy_effect::allow;
    }
    if (text == "deny") {
        return policy_effect::deny;
    }
    return std::nullopt;
}

std::optional<grant_action> parse_policy_action(std::string_view text) noexcept {
    if (text == "pub") {
        return grant_action::publish;
    }
    if (text == "sub") {
        return grant_action::subscribe;
    }
    if (text == "all") {
        return grant_action::both;
    }
    return std::nullopt;
}

bool filters_overlap(std::string_view a, std::string_view b) noexcept {
    std::size_t pa = 0;
    std::size_t pb = 0;
    bool first = true;
    while (pa != std::string_view::npos && pb != std::string_view::npos) {
        const std::string_view la = next_level(a, pa);
        const std::string_view lb = next_level(b, pb);
        if (first) {
            // [MQTT-4.7.2-1]: a wildcard first level matches no topic starting with '$', and a '$'
            // literal first level matches only such topics.
            if ((is_wildcard(la) && is_dollar_literal(lb)) || (is_wildcard(lb) && is_dollar_literal(la))) {
                return false;
            }
            first = false;
        }
        if (la == "#" || lb == "#") {
            return true;  // '#' matches every continuation of the other filter
        }
        if (la != "+" && lb != "+" && la != lb) {
            return false;
        }
    }
    if (pa == std::string_view::npos && pb == std::string_view::npos) {
        return true;  // same depth, every level compatible
    }
    // One filter ended; the other overlaps only if what remains is exactly "#" (which also matches
    // its parent level: "a/#" matches "a").
    const std::string_view rest = pa == std::string_view::npos ? b.substr(pb) : a.substr(pa);
    return rest == "#";
}

policy_rules policy_rules::compile(const std::vector<policy_rule>& rules, const substitution_values& values) {
    policy_rules out;
    scope_limits limits;
    limits.max_scope_bytes = max_pattern_bytes + 3 * max_pattern_bytes;
    limits.max_grants = 1;
    std::vector<std::pair<std::string, std::string>> dropped;
    for (const auto& r : rules) {
        std::string label = label_of(r);
        if (r.filter.empty() || r.filter.size() > max_pattern_bytes) {
            out.dropped_.emplace_back(std::move(label), "empty or too long topic filter");
            continue;
        }
        dropped.clear();
        // The scope grammar's own compile substitutes the placeholders, refuses unsafe values
        // (CVE-2017-7650) and checks the result is a valid, non-shared topic filter.
        const std::string token = as_scope_token(r.filter);
        const auto set = permission_set::compile({token}, values, limits, &dropped);
        if (set.grants().empty() && r.effect == policy_effect::deny) {
            // Dropping a deny would widen what the principal may do: widen the deny instead.
            if (auto wide = widened_deny(token, limits)) {
                out.dropped_.emplace_back(label, "placeholder value absent or unsafe: the deny applies to " +
                                                     *wide + " (every value)");
                out.rules_.push_back(compiled_rule{r.effect, r.action, std::move(*wide), std::move(label)});
                continue;
            }
        }
        if (set.grants().empty()) {
            out.dropped_.emplace_back(
                std::move(label), dropped.empty() ? std::string("not a valid rule") : dropped.front().second);
            continue;
        }
        out.rules_.push_back(
            compiled_rule{r.effect, r.action, set.grants().front().filter, std::move(label)});
    }
    return out;
}

policy_decision policy_rules::check_publish(std::string_view topic) const {
    for (const auto& r : rules_) {
        if (r.effect == policy_effect::deny && action_applies(r.action, grant_action::publish) &&
            mqtt::topic_matches(r.filter, topic)) {
            return policy_decision{policy_answer::deny, r.label, "denied by policy"};
        }
    }
    for (const auto& r : rules_) {
        if (r.effect == policy_effect::allow && action_applies(r.action, grant_action::publish) &&
            mqtt::topic_matches(r.filter, topic)) {
            return policy_decision{policy_answer::allow, r.label, "topic matches " + r.filter};
        }
    }
    return policy_decision{policy_answer::abstain, {}, "no policy rule matches the topic"};
}

policy_decision policy_rules::check_subscribe(std::string_view filter) const {
    std::string_view proper = filter;
    if (auto shared = mqtt::parse_shared_subscription(filter)) {
        proper = shared->filter;
    }
    if (proper.empty() || !mqtt::is_valid_topic_filter(proper) || mqtt::parse_shared_subscription(proper)) {
        return policy_decision{policy_answer::deny, "policy: invalid filter", "not a valid topic filter"};
    }
    for (const auto& r : rules_) {
        if (r.effect == policy_effect::deny && action_applies(r.action, grant_action::subscribe) &&
            filters_overlap(r.filter, proper)) {
            return policy_decision{policy_answer::deny, r.label, "denied by policy"};
        }
    }
    for (const auto& r : rules_) {
        if (r.effect == policy_effect::allow && action_applies(r.action, grant_action::subscribe) &&
            filter_covers(r.filter, proper)) {
            return policy_decision{policy_answer::allow, r.label, "filter covered by " + r.filter};
        }
    }
    return policy_decision{policy_answer::abstain, {}, "no policy rule covers the filter"};
}

}  // namespace tollgate::auth
