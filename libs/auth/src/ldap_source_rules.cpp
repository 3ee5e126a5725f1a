// ldap_source's pure parts: RFC 4515 escaping, filter templates, rule values, config validation.
#include <cctype>

#include <ldap.h>

#include <tollgate/auth/ldap_source.hpp>

#include "ldap_source_detail.hpp"

namespace tollgate::auth {
namespace {

bool is_blank(char c) noexcept {
    return c == ' ' || c == '\t';
}

/// The next blank-separated word of `s` from `pos`; pos ends on the blank after it (or the end).
std::string_view next_word(std::string_view s, std::size_t& pos) noexcept {
    while (pos < s.size() && is_blank(s[pos])) {
        ++pos;
    }
    const std::size_t start = pos;
    while (pos < s.size() && !is_blank(s[pos])) {
        ++pos;
    }
    return s.substr(start, pos - start);
}

bool iequals(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) {
        return false;
    }
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (std::tolower(static_cast<unsigned char>(a[i])) !=
            std::tolower(static_cast<unsigned char>(b[i]))) {
            return false;
        }
    }
    return true;
}

bool is_hex(char c) noexcept {
    return std::isxdigit(static_cast<unsigned char>(c)) != 0;
}

/// RFC 4512 §2.5 attribute description (without options): a descr (ALPHA *(ALPHA / DIGIT / "-"))
/// or a numeric OID.
bool is_attribute_name(std::string_view s) noexcept {
    if (s.empty() || s.size() > 128) {
        return false;
    }
    const auto c0 = static_cast<unsigned char>(s.front());
    if (std::isalpha(c0) != 0) {
        for (const char ch : s) {
            const auto c = static_cast<unsigned char>(ch);
            if (std::isalnum(c) == 0 && c != '-') {
                return false;
            }
        }
        return true;
    }
    bool digit_before = false;
    for (const char ch : s) {
        if (ch == '.') {
            if (!digit_before) {
                return false;
            }
            digit_before = false;
        } else if (std::isdigit(static_cast<unsigned char>(ch)) != 0) {
            digit_before = true;
        } else {
            return false;
        }
    }
    return digit_before;
}

bool is_loopback_host(std::string_view host) noexcept {
    return host == "localhost" || host == "::1" || host == "[::1]" || host.substr(0, 4) == "127.";
}

std::optional<std::string> check_template(std::string_view name, std::string_view templ, bool with_dn) {
    std::vector<std::pair<std::string_view, std::string_view>> values = {
        {"user", "x"}, {"username", "x"}, {"sub", "x"}, {"client_id", "x"}};
    if (with_dn) {
        values.emplace_back("dn", "cn=x");
    }
    std::string out;
    if (detail::expand_ldap_filter(templ, values, out) != detail::ldap_expand_status::ok) {
        return std::string(name) + ": unknown placeholder (use {user} {username} {sub} {client_id}" +
               (with_dn ? " {dn})" : ")");
    }
    if (!detail::ldap_filter_balanced(out)) {
        return std::string(name) + ": not a parenthesized LDAP filter";
    }
    return std::nullopt;
}

std::optional<std::string> check_url(const ldap_config& config) {
    LDAPURLDesc* desc = nullptr;
    if (config.url.empty() || ldap_url_parse(config.url.c_str(), &desc) != LDAP_URL_SUCCESS ||
        desc == nullptr) {
        return std::string("url: not an LDAP URL (ldap://host:port or ldaps://host:port)");
    }
    const std::string scheme = desc->lud_scheme != nullptr ? desc->lud_scheme : "";
    const std::string host = desc->lud_host != nullptr ? desc->lud_host : "";
    ldap_free_urldesc(desc);
    if (scheme != "ldap" && scheme != "ldaps") {
        return std::string("url: scheme must be ldap or ldaps");
    }
    if (host.empty()) {
        return std::string("url: a host is required");
    }
    if (scheme == "ldaps" && config.tls == ldap_tls::starttls) {
        return std::string("tls: starttls cannot be used with an ldaps:// URL");
    }
    if (scheme == "ldap" && config.tls == ldap_tls::ldaps) {
        return std::string("tls: ldaps needs an ldaps:// URL");
    }
    if (scheme == "ldap" && config.tls == ldap_tls::none && !config.bind_password.empty() &&
        !is_loopback_host(host)) {
        return std::string(
            "tls: a bind password would cross the network in clear (use ldaps:// or tls = starttls)");
    }
    return std::nullopt;
}

/// The client certificate and SASL EXTERNAL (RFC 4513 §5.2.3: the identity comes from the TLS
/// layer, so a TLS layer with a client certificate is required, and a DN or password would be unused).
std::optional<std::string> check_tls_identity(const ldap_config& config) {
    if (config.cert_file.empty() != config.key_file.empty()) {
        return std::string("cert_file and key_file: give both or neither");
    }
    const bool tls = config.tls != ldap_tls::none || config.url.rfind("ldaps://", 0) == 0;
    if (!config.cert_file.empty() && !tls) {
        return std::string("cert_file: a client certificate needs TLS (ldaps:// or tls = starttls)");
    }
    if (config.bind_method == ldap_bind_method::sasl_external) {
        if (!tls || config.cert_file.empty()) {
            return std::string(
                "bind_method: sasl_external needs TLS (ldaps:// or tls = starttls) and cert_file/key_file");
        }
        if (!config.bind_dn.empty() || !config.bind_password.empty()) {
            return std::string("bind_method: sasl_external takes no bind_dn or bind_password");
        }
    }
    return std::nullopt;
}

}  // namespace

std::string ldap_escape_filter_value(std::string_view value) {
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    out.reserve(value.size());
    for (const char ch : value) {
        const auto c = static_cast<unsigned char>(ch);
        if (c < 0x20 || c > 0x7E || c == '*' || c == '(' || c == ')' || c == '\\') {
            out.push_back('\\');
            out.push_back(hex[c >> 4]);
            out.push_back(hex[c & 0x0F]);
        } else {
            out.push_back(ch);
        }
    }
    return out;
}

std::optional<policy_rule> parse_ldap_rule(std::string_view value, std::string source, std::string* why) {
    auto fail = [why](std::string_view text) -> std::optional<policy_rule> {
        if (why != nullptr) {
            *why = text;
        }
        return std::nullopt;
    };
    std::size_t pos = 0;
    const std::string_view effect = next_word(value, pos);
    const std::string_view action = next_word(value, pos);
    while (pos < value.size() && is_blank(value[pos])) {
        ++pos;
    }
    const std::string_view filter = value.substr(pos);
    policy_rule rule{policy_effect::deny, grant_action::both, std::string(filter), std::move(source)};
    if (iequals(effect, "allow")) {
        rule.effect = policy_effect::allow;
    } else if (!iequals(effect, "deny")) {
        return fail("the effect must be allow or deny");
    }
    if (iequals(action, "pub")) {
        rule.action = grant_action::publish;
    } else if (iequals(action, "sub")) {
        rule.action = grant_action::subscribe;
    } else if (!iequals(action, "all")) {
        return fail("the action must be pub, sub or all");
    }
    if (filter.empty()) {
        return fail("no topic filter");
    }
    if (filter.find('\0') != std::string_view::npos) {
        return fail("the topic filter holds NUL");
    }
    // Compile it once with safe placeholder values: what cannot become a valid filter here never
    // will (policy_rules::compile is the same check the authorizer applies per session).
    substitution_values probe;
    probe.client_id = "x";
    probe.subject = "x";
    probe.username = "x";
    probe.claim = [](std::string_view) {
        return std::optional<std::string>("x");
    };  // {claim:NAME}: filled per session
    const auto compiled = policy_rules::compile({rule}, probe);
    if (compiled.rules().size() != 1) {
        return fail(compiled.dropped().empty() ? std::string_view("not a valid topic filter")
                                               : std::string_view(compiled.dropped().front().second));
    }
    return rule;
}

std::optional<std::string> validate_ldap_config(const ldap_config& config) {
    if (auto bad = check_url(config)) {
        return bad;
    }
    if (config.base_dn.empty()) {
        return std::string("base_dn: required");
    }
    if (!config.bind_dn.empty() && config.bind_password.empty()) {
        // RFC 4513 §5.1.2: a DN with an empty password is an unauthenticated bind, not a login.
        return std::string("bind_password: required with bind_dn");
    }
    if (config.user_filter.empty()) {
        return std::string("user_filter: required");
    }
    if (auto bad = check_template("user_filter", config.user_filter, false)) {
        return bad;
    }
    if (!config.group_filter.empty()) {
        if (auto bad = check_template("group_filter", config.group_filter, true)) {
            return bad;
        }
    }
    if (!is_attribute_name(config.rule_attribute)) {
        return std::string("rule_attribute: not an attribute name");
    }
    if (config.max_connections == 0 || config.max_groups == 0 || config.max_rules == 0 ||
        config.max_rule_bytes == 0) {
        return std::string("limits must be positive");
    }
    if (config.connect_timeout.count() <= 0 || config.operation_timeout.count() <= 0) {
        return std::string("timeouts must be positive");
    }
    if (config.max_group_depth == 0) {
        return std::string("max_group_depth: must be at least 1");
    }
    return check_tls_identity(config);
}

namespace detail {

ldap_expand_status expand_ldap_filter(
    std::string_view templ, const std::vector<std::pair<std::string_view, std::string_view>>& values,
    std::string& out) {
    out.clear();
    std::size_t pos = 0;
    while (pos < templ.size()) {
        const std::size_t open = templ.find('{', pos);
        out.append(templ.substr(pos, open == std::string_view::npos ? std::string_view::npos : open - pos));
        if (open == std::string_view::npos) {
            break;
        }
        const std::size_t close = templ.find('}', open);
        if (close == std::string_view::npos) {
            return ldap_expand_status::unknown_placeholder;
        }
        const std::string_view name = templ.substr(open + 1, close - open - 1);
        const std::string_view* value = nullptr;
        for (const auto& [key, v] : values) {
            if (key == name) {
                value = &v;
                break;
            }
        }
        if (value == nullptr) {
            return ldap_expand_status::unknown_placeholder;
        }
        if (value->empty()) {
            return ldap_expand_status::empty_value;
        }
        out += ldap_escape_filter_value(*value);
        pos = close + 1;
    }
    return ldap_expand_status::ok;
}

bool ldap_filter_balanced(std::string_view filter) noexcept {
    if (filter.size() < 2 || filter.front() != '(' || filter.back() != ')') {
        return false;
    }
    int depth = 0;
    for (std::size_t i = 0; i < filter.size(); ++i) {
        const char c = filter[i];
        if (c == '\\') {
            if (i + 2 >= filter.size() || !is_hex(filter[i + 1]) || !is_hex(filter[i + 2])) {
                return false;
            }
            i += 2;
        } else if (c == '(') {
            ++depth;
        } else if (c == ')') {
            if (--depth < 0) {
                return false;
            }
            if (depth == 0 && i + 1 != filter.size()) {
                return false;  // "(a=1)(b=2)": two filters side by side
            }
        } else if (c == '\0') {
            return false;
        }
    }
    return depth == 0;
}

}  // namespace detail
}  // namespace tollgate::auth
