#pragma once
// External authorization sources (docs/auth.md "Policy sources"): rules that allow or deny MQTT
// actions on topic filters, loaded per principal from a SQL table, an LDAP directory or a static
// file, and combined with the token's scopes by policy_authorizer.
//
// A policy_rule is what a source returns: an effect (allow / deny), an action (publish, subscribe or
// both) and a topic filter pattern that may hold the scope placeholders {client_id} {sub} {username}
// {claim:NAME} (same substitution and safety rules as scope.hpp: a substitution value that is absent,
// empty or holds '+', '#', '/' or NUL — or a claim that is not a JSON string — never widens a rule; a
// result that is not a valid topic filter drops it). Such an allow rule is dropped. Such a deny rule
// is not dropped (that would widen what the principal may do): it is widened instead, every level
// holding a placeholder becoming '+' ("deny pub t/{claim:tenant}/admin" without a tenant claim
// denies t/+/admin). A '+' first level does not match '$' topics ([MQTT-4.7.2-1]).
// Unlike a scope token the filter is raw text (no percent-encoding): '{' and '}' only delimit
// placeholders, every other byte is literal.
//
// policy_rules is the compiled form for one principal: a flat vector of (effect, action, filter,
// label), evaluated by a linear scan — deny rules first (any match wins), then allow rules.
//  - PUBLISH of a topic name: deny when a deny rule's filter matches it; allow when an allow rule's
//    filter matches it; otherwise abstain.
//  - SUBSCRIBE to a filter ("$share/g/f" judged on f): deny when a deny rule's filter can match some
//    topic the requested filter can match (filters_overlap); allow when an allow rule covers the
//    filter (filter_covers); otherwise abstain.
//  - '$' topics: a leading wildcard never matches a topic starting with '$' ([MQTT-4.7.2-1]), in
//    both matching and overlap.
// Thread-safety: policy_rules is immutable after compile() and may be shared between threads.
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <tollgate/auth/scope.hpp>
#include <tollgate/broker/auth.hpp>

namespace tollgate::auth {

enum class policy_effect { allow, deny };

/// One rule: effect, action (grant_action from scope.hpp: publish/subscribe/both) and a topic filter
/// pattern that may hold the scope placeholders {client_id} {sub} {username} {claim:NAME}.
/// `source` names where the rule came from (the source's name, optionally with a detail such as
/// "ldap cn=ops,ou=groups"); a decision's rule label is "<source>: <effect> <action> <pattern>",
/// e.g. "sql: allow pub devices/+/x" (action: pub, sub or all).
struct policy_rule {
    policy_effect effect;
    grant_action action;
    std::string filter;
    std::string source;
};

enum class policy_answer { allow, deny, abstain };

/// rule: the deciding rule's label (empty when abstaining); reason: human-readable.
struct policy_decision {
    policy_answer answer = policy_answer::abstain;
    std::string rule;
    std::string reason;
};

/// The compiled rules of one principal from one source (placeholders substituted, unsafe
/// substitutions dropped as in permission_set). Immutable; evaluate() is inline and cheap.
class policy_rules {
  public:
    /// Never throws on rule content: rules whose pattern does not parse, allow rules whose
    /// substitution is unsafe and rules whose result is not a valid topic filter are dropped; deny
    /// rules whose substitution is unsafe are widened (see above). Both are listed in dropped().
    static policy_rules compile(const std::vector<policy_rule>& rules, const substitution_values& values);
    policy_decision check_publish(std::string_view topic) const;  // deny match wins, then allow
    policy_decision check_subscribe(
        std::string_view filter) const;  // deny if a deny rule can match a
                                         // topic the filter matches; allow if covered

    /// One compiled rule (placeholders substituted, a valid topic filter).
    struct compiled_rule {
        policy_effect effect = policy_effect::deny;
        grant_action action = grant_action::both;
        std::string filter;
        std::string label;
    };
    [[nodiscard]] const std::vector<compiled_rule>& rules() const noexcept { return rules_; }
    /// Rules dropped, or deny rules widened, at compile time: (label, why).
    [[nodiscard]] const std::vector<std::pair<std::string, std::string>>& dropped() const noexcept {
        return dropped_;
    }

  private:
    std::vector<compiled_rule> rules_;
    std::vector<std::pair<std::string, std::string>> dropped_;
};

/// Can some topic name be matched by both filters `a` and `b`? Both must be valid, non-shared topic
/// filters. Honours [MQTT-4.7.2-1]: a filter starting with a wildcard matches no '$' topic, so it never
/// overlaps a filter whose first level is a literal starting with '$'. Symmetric; never throws.
bool filters_overlap(std::string_view a, std::string_view b) noexcept;

/// "allow" / "deny" (exactly, lower case), else nullopt. For sources parsing rule text.
std::optional<policy_effect> parse_policy_effect(std::string_view text) noexcept;
/// "pub" / "sub" / "all" (exactly, lower case), else nullopt.
std::optional<grant_action> parse_policy_action(std::string_view text) noexcept;

/// A source of rules (SQL table, LDAP, static file). load() may block (database, network): the
/// policy_authorizer calls it on a work pool, never on a broker worker. Throws std::runtime_error
/// when the source cannot answer (the authorizer then fails closed: deny).
class policy_source {
  public:
    virtual ~policy_source();
    virtual std::string_view name() const = 0;  // "sql", "ldap", "file" (+ a label)
    virtual std::vector<policy_rule> load(const broker::principal& who) = 0;
};

}  // namespace tollgate::auth
