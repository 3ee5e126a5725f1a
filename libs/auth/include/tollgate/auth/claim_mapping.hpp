#pragma once
// claim_mapping: where an access token keeps its scopes, per issuer (docs/auth.md "Tokens from common
// identity providers").
//
// Identity providers disagree on the claim and on its shape:
//   - RFC 9068 §2.2.3 / RFC 8693 §4.2 (Keycloak, tollgate): "scope", one string, space-separated
//     (RFC 6749 §3.3 scope = scope-token *( SP scope-token ));
//   - Okta: "scp", an array of strings;
//   - Azure AD (Entra ID): "scp", a space-separated string (delegated), "roles", an array (app roles);
//   - Auth0: "permissions", an array of strings (RBAC);
//   - Keycloak realm roles: the nested claim "realm_access": {"roles": [...]}.
// So the scope claim is configured per issuer (`scope_claim`) as a top-level claim name or a dotted
// path. The exact top-level name is tried first (Auth0 namespaced claims are URLs that contain
// dots: "https://example.com/roles"), then the name is walked as a dotted path through objects.
//
// A string value is split on SP (empty pieces skipped); an array of strings is taken element-wise
// (an element is one scope token as is: an element containing a space is not split, and the scope
// grammar then rejects it). Anything else (number, boolean, null, object, non-string array
// elements) yields nothing for that value: it is never coerced into a scope. Bounds: at most
// max_scopes scopes are returned (later ones are dropped), a scope longer than max_scope_bytes is
// dropped, a dotted path deeper than max_path_depth segments finds nothing.
//
// Thread-safety: pure functions. Never throws except std::bad_alloc.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/fwd.hpp>

namespace tollgate::auth {

struct claim_mapping_limits {
    std::size_t max_scopes = 1024;       ///< scopes returned (later ones dropped)
    std::size_t max_scope_bytes = 1024;  ///< one scope (longer ones dropped; as scope_limits)
    std::size_t max_path_depth = 8;      ///< segments of a dotted path
};

/// The claim named (or dotted-path addressed) by `scope_claim` in `claims`, or nullptr when it is
/// absent, `scope_claim` is empty, or a path segment is not an object member.
const boost::json::value* find_claim(const boost::json::object& claims, std::string_view scope_claim,
                                     std::size_t max_path_depth = claim_mapping_limits{}.max_path_depth);

/// The scopes of a token whose verified claims are `claims`, read from `scope_claim` (default for
/// RFC 9068 tokens: "scope"). Returns an empty vector when the claim is absent or not a string or
/// array of strings.
std::vector<std::string> scopes_from_claims(const boost::json::object& claims, std::string_view scope_claim,
                                            const claim_mapping_limits& limits);
std::vector<std::string> scopes_from_claims(const boost::json::object& claims, std::string_view scope_claim);

/// The value of claim `name` (exact top-level name, else a dotted path, as find_claim) when it is a
/// JSON string; nullopt when it is absent or anything else (a number is never turned into text).
/// Used for the {claim:NAME} placeholder and the $claim:NAME SQL parameter of policy sources.
std::optional<std::string> claim_string(const boost::json::object& claims, std::string_view name);

}  // namespace tollgate::auth
