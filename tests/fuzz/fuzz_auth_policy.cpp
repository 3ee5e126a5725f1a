// Fuzzes the policy rules of libs/auth (policy_source.hpp): rule compilation with placeholder
// substitution, filters_overlap and the publish/subscribe decisions.
// Input: "<filter a>\n<filter b>\n<client id>\n<effect> <action> <pattern>" (the last line optional).
// Properties checked:
//  - nothing crashes or reads out of bounds, whatever the bytes;
//  - filters_overlap is symmetric, and reflexive on valid filters;
//  - it is sound: when a topic built from one filter (wildcards replaced by a literal level) is
//    matched by the other, the two overlap; and when one filter covers the other, they overlap;
//  - a compiled rule is always a valid, non-shared topic filter, and an allow rule using {client_id}
//    with an unsafe client id ('+', '#', '/', NUL, empty) is dropped (CVE-2017-7650; a deny rule
//    is widened instead);
//  - a deny rule matching a topic always wins over an allow rule matching it.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include <tollgate/auth/policy_source.hpp>
#include <tollgate/mqtt/topic.hpp>

#include "fuzz_text.hpp"

namespace {

using tollgate::fuzz::instance_of;
using tollgate::fuzz::next_line;

bool usable_filter(std::string_view f) {
    return tollgate::mqtt::is_valid_topic_filter(f) && !tollgate::mqtt::parse_shared_subscription(f);
}

void check_overlap(std::string_view a, std::string_view b) {
    using tollgate::auth::filters_overlap;
    const bool ab = filters_overlap(a, b);
    if (ab != filters_overlap(b, a)) {
        std::abort();  // not symmetric
    }
    if (!usable_filter(a) || !usable_filter(b)) {
        return;
    }
    if (!filters_overlap(a, a)) {
        std::abort();  // not reflexive
    }
    const auto topic = instance_of(a);
    if (tollgate::mqtt::is_valid_topic_name(topic) && tollgate::mqtt::topic_matches(a, topic) &&
        tollgate::mqtt::topic_matches(b, topic) && !ab) {
        std::abort();  // a common topic exists, yet "no overlap"
    }
    if (tollgate::auth::filter_covers(a, b) && !ab) {
        std::abort();  // a covers b, yet "no overlap"
    }
}

void check_rules(std::string_view client_id, std::string_view rule_line, std::string_view topic) {
    using namespace tollgate::auth;
    const auto sp1 = rule_line.find(' ');
    const auto sp2 = sp1 == std::string_view::npos ? sp1 : rule_line.find(' ', sp1 + 1);
    if (sp2 == std::string_view::npos) {
        return;
    }
    const auto effect = parse_policy_effect(rule_line.substr(0, sp1));
    const auto action = parse_policy_action(rule_line.substr(sp1 + 1, sp2 - sp1 - 1));
    if (!effect || !action) {
        return;
    }
    const std::string pattern(rule_line.substr(sp2 + 1));
    substitution_values v;
    v.client_id = std::string(client_id);
    v.subject = "s";
    v.claim = [&](std::string_view) { return std::optional<std::string>(std::string(client_id)); };
    // The fuzzed rule, plus an allow-all rule it competes with.
    const auto compiled =
        policy_rules::compile({policy_rule{*effect, *action, pattern, "fuzz"},
                               policy_rule{policy_effect::allow, grant_action::both, "#", "fuzz"}},
                              v);
    for (const auto& r : compiled.rules()) {
        if (!usable_filter(r.filter)) {
            std::abort();
        }
    }
    if (pattern.find("{client_id}") != std::string::npos && !is_safe_substitution(client_id)) {
        for (const auto& r : compiled.rules()) {
            // A deny is widened instead of dropped (its placeholder levels become '+'), never an allow.
            if (r.filter != "#" && r.effect == policy_effect::allow) {
                std::abort();  // an unsafe client id produced an allow rule
            }
        }
    }
    if (!tollgate::mqtt::is_valid_topic_name(topic)) {
        return;
    }
    const auto pub = compiled.check_publish(topic);
    for (const auto& r : compiled.rules()) {
        if (r.effect == policy_effect::deny && r.action != grant_action::subscribe &&
            tollgate::mqtt::topic_matches(r.filter, topic) && pub.answer != policy_answer::deny) {
            std::abort();  // a matching deny did not win
        }
    }
    if (usable_filter(topic)) {
        (void)compiled.check_subscribe(topic);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view in(reinterpret_cast<const char*>(data), size);
    const auto a = next_line(in);
    const auto b = next_line(in);
    const auto client_id = next_line(in);
    const auto rule_line = next_line(in);
    check_overlap(a, b);
    check_rules(client_id, rule_line, b);
    return 0;
}
