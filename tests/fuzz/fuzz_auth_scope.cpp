// Fuzzes the scope grammar (libs/auth scope.hpp). Input: "<scope>\n<client id>\n<filter>".
// Properties checked:
//  - parse_scope and permission_set::compile never crash, never read out of bounds;
//  - every compiled grant is a valid, non-shared topic filter;
//  - a client id that is unsafe to substitute ('+', '#', '/', NUL, empty) never yields a grant from
//    a scope that uses {client_id} (CVE-2017-7650);
//  - filter_covers is reflexive on valid filters, and when it says A covers F, A matches a topic
//    built from F (wildcards replaced by a literal level).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include <tollgate/auth/scope.hpp>
#include <tollgate/mqtt/topic.hpp>

#include "fuzz_text.hpp"

namespace {

using tollgate::fuzz::instance_of;
using tollgate::fuzz::next_line;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view in(reinterpret_cast<const char*>(data), size);
    const auto scope = next_line(in);
    const auto client_id = next_line(in);
    const auto filter = next_line(in);

    using namespace tollgate::auth;
    auto parsed = parse_scope(scope);
    substitution_values v;
    v.client_id = std::string(client_id);
    v.subject = "s";
    v.claim = [&](std::string_view) { return std::optional<std::string>(std::string(client_id)); };
    auto set = permission_set::compile({std::string(scope)}, v);
    for (const auto& g : set.grants()) {
        if (!tollgate::mqtt::is_valid_topic_filter(g.filter) ||
            tollgate::mqtt::parse_shared_subscription(g.filter)) {
            std::abort();
        }
    }
    if (parsed.pattern && !is_safe_substitution(client_id)) {
        for (const auto& part : parsed.pattern->parts) {
            if (part.what != pattern_part::kind::literal && part.what != pattern_part::kind::subject &&
                part.what != pattern_part::kind::username && !set.grants().empty()) {
                std::abort();
            }
        }
    }
    (void)set.check_publish(filter);
    (void)set.check_subscribe(filter);
    if (tollgate::mqtt::is_valid_topic_filter(filter) && !tollgate::mqtt::parse_shared_subscription(filter)) {
        if (!filter_covers(filter, filter)) {
            std::abort();
        }
        for (const auto& g : set.grants()) {
            if (filter_covers(g.filter, filter)) {
                const auto topic = instance_of(filter);
                if (tollgate::mqtt::is_valid_topic_name(topic) &&
                    !tollgate::mqtt::topic_matches(g.filter, topic)) {
                    std::abort();
                }
            }
        }
    }
    return 0;
}
