// Fuzzes the text handling of libs/auth that takes untrusted input: the structured permissions claim
// (scope.hpp parse_permissions_claim), LDAP filter-value escaping and rule values (ldap_source.hpp),
// and audit records built from client-chosen strings (audit.hpp). Input: one selector byte, then
// the text. Properties checked:
//  - nothing crashes or reads out of bounds, whatever the bytes;
//  - permissions claim: at most max_permission_entries patterns, each parsed entry labelled;
//  - RFC 4515 escaping: the result holds only printable ASCII, never a bare '*', '(' or ')', and
//    every '\' starts a two-hex-digit escape; unescaping gives back the input exactly;
//  - an LDAP rule that parses has an effect, an action and a non-empty filter;
//  - an audit record whose topic, client id and reason are arbitrary bytes is one line of valid
//    JSON (boost::json parses it) that keeps the topic's valid UTF-8 unchanged.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include <boost/json/parse.hpp>

#include <tollgate/auth/audit.hpp>
#include <tollgate/auth/ldap_source.hpp>
#include <tollgate/auth/scope.hpp>
#include <tollgate/mqtt/topic.hpp>

namespace {

int hex_value(char c) {
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

void fuzz_claim(std::string_view text) {
    boost::system::error_code ec;
    const auto value = boost::json::parse(text, ec);
    if (ec) {
        return;
    }
    tollgate::auth::scope_limits limits;
    tollgate::auth::dropped_list dropped;
    const auto patterns =
        tollgate::auth::parse_permissions_claim(value, "mqtt_permissions", limits, &dropped);
    if (patterns.size() > limits.max_permission_entries) {
        std::abort();
    }
    for (const auto& p : patterns) {
        if (p.source.empty() || p.parts.empty()) {
            std::abort();
        }
    }
}

void fuzz_ldap_escape(std::string_view text) {
    const auto escaped = tollgate::auth::ldap_escape_filter_value(text);
    std::string back;
    for (std::size_t i = 0; i < escaped.size(); ++i) {
        const char c = escaped[i];
        if (c < 0x20 || c > 0x7E || c == '*' || c == '(' || c == ')') {
            std::abort();  // unescaped special or non-printable byte
        }
        if (c == '\\') {
            if (i + 2 >= escaped.size()) {
                std::abort();  // truncated escape
            }
            const int hi = hex_value(escaped[i + 1]);
            const int lo = hex_value(escaped[i + 2]);
            if (hi < 0 || lo < 0) {
                std::abort();  // '\' not followed by two hex digits
            }
            back += static_cast<char>(hi * 16 + lo);
            i += 2;
            continue;
        }
        back += c;
    }
    if (back != text) {
        std::abort();  // escaping lost or changed bytes
    }
}

void fuzz_ldap_rule(std::string_view text) {
    std::string why;
    const auto rule = tollgate::auth::parse_ldap_rule(text, "ldap fuzz", &why);
    if (rule && rule->filter.empty()) {
        std::abort();
    }
    if (!rule && why.empty()) {
        std::abort();  // refused without a reason
    }
}

void fuzz_audit(std::string_view text) {
    tollgate::auth::audit_record r;
    r.time = tollgate::common::system_time{};
    r.event = "authz";
    r.outcome = "deny";
    r.client_id = text;
    r.subject = text.substr(0, text.size() / 2);
    r.topic = text;
    r.reason = text;
    r.rule = "default deny";
    r.action = tollgate::broker::action::publish;
    r.qos = 1;
    r.retain = false;
    const auto line = tollgate::auth::format_audit_record(r);
    if (line.find('\n') != std::string::npos) {
        std::abort();  // not one line
    }
    boost::system::error_code ec;
    const auto parsed = boost::json::parse(line, ec);
    if (ec || !parsed.is_object()) {
        std::abort();  // not valid JSON
    }
    const auto* topic = parsed.as_object().if_contains("topic");
    if (topic == nullptr || !topic->is_string()) {
        std::abort();
    }
    if (tollgate::mqtt::is_well_formed_utf8(text) && topic->as_string() != text) {
        std::abort();  // valid UTF-8 must survive unchanged
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) {
        return 0;
    }
    const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
    switch (data[0] % 4) {
        case 0:
            fuzz_claim(text);
            break;
        case 1:
            fuzz_ldap_escape(text);
            break;
        case 2:
            fuzz_ldap_rule(text);
            break;
        default:
            fuzz_audit(text);
            break;
    }
    return 0;
}
