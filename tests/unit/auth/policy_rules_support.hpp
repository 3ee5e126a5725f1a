#pragma once
// Shorthands shared by the policy_tests files: one rule, the effect/action constants, and the
// substitution values of a typical principal.
#include <optional>
#include <string>

#include <tollgate/auth/policy_source.hpp>

namespace tollgate::auth::test {

inline policy_rule rule(policy_effect e, grant_action a, std::string filter, std::string source = "test") {
    return policy_rule{e, a, std::move(filter), std::move(source)};
}
inline constexpr auto allow = policy_effect::allow;
inline constexpr auto deny = policy_effect::deny;
inline constexpr auto pub = grant_action::publish;
inline constexpr auto sub = grant_action::subscribe;
inline constexpr auto all = grant_action::both;

inline substitution_values values(std::string client_id = "dev-1", std::string subject = "alice",
                                  std::optional<std::string> username = "alice") {
    substitution_values v;
    v.client_id = std::move(client_id);
    v.subject = std::move(subject);
    v.username = std::move(username);
    return v;
}

}  // namespace tollgate::auth::test
