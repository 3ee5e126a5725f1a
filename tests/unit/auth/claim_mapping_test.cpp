// scopes_from_claims: the scope claim of common identity providers' access tokens (RFC 9068 §2.2.3
// "scope" string; Okta "scp" array; Azure AD "scp" string and "roles" array; Auth0 "permissions";
// Keycloak "realm_access.roles"), and hostile shapes that must yield nothing rather than a scope.
#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <tollgate/auth/claim_mapping.hpp>

namespace tollgate::auth {
namespace {

namespace bj = boost::json;

using strings = std::vector<std::string>;

bj::object claims_of(std::string_view json) {
    return bj::parse(json).as_object();
}

// Keycloak 2x access token (realm "iot"): "scope" string (RFC 9068 §2.2.3, RFC 6749 §3.3 SP-separated)
// and realm roles under realm_access.roles.
const char* const keycloak = R"({
  "exp": 1893456000, "iat": 1893455700, "jti": "0b7c3c43-5e1e-4f59-9b0f-0c3d1a4b2f11",
  "iss": "https://kc.example.com/realms/iot", "aud": ["account", "mqtt-broker"],
  "sub": "f3a1c1e2-6b0a-4d4e-8f0b-0a9d2c7e5b11", "typ": "Bearer", "azp": "sensor-7",
  "session_state": "6a1e", "acr": "1",
  "realm_access": {"roles": ["offline_access", "mqtt:pub:plant/+/telemetry", "uma_authorization"]},
  "resource_access": {"account": {"roles": ["manage-account"]}},
  "scope": "openid mqtt:pub:plant/{client_id}/telemetry mqtt:sub:plant/cmd/#  profile",
  "email_verified": false, "clientId": "sensor-7", "tenant": "acme"
})";

// Okta custom authorization server: "scp" array, "cid", "uid".
const char* const okta = R"({
  "ver": 1, "jti": "AT.2j3k", "iss": "https://dev-1.okta.com/oauth2/default", "aud": "api://mqtt",
  "iat": 1893455700, "exp": 1893456000, "cid": "0oa1b2c3", "uid": "00u9", "sub": "alice@example.com",
  "scp": ["mqtt:pub:okta/a", "mqtt:sub:okta/#", "offline_access"]
})";

// Azure AD (Entra ID) v2 access token: delegated "scp" is ONE space-separated string; application
// permissions come as "roles" (array).
const char* const azure = R"({
  "aud": "api://6e74172b-be56-4843-9ff4-e66a39bb12e3", "iss": "https://login.microsoftonline.com/72f988bf/v2.0",
  "iat": 1893455700, "nbf": 1893455700, "exp": 1893456000, "azp": "1fec8e78-bce4-4aaf-ab1b-5451cc387264",
  "azpacr": "1", "oid": "690222be", "tid": "72f988bf", "ver": "2.0", "sub": "KSw8sy7_2MFm",
  "scp": "mqtt:pub:az/one mqtt:sub:az/#",
  "roles": ["mqtt:all:az/app/#", "Reader"]
})";

// Auth0 with RBAC: "permissions" array beside a "scope" string.
const char* const auth0 = R"({
  "iss": "https://tenant.eu.auth0.com/", "sub": "auth0|64f1", "aud": ["https://mqtt.example.com",
  "https://tenant.eu.auth0.com/userinfo"], "iat": 1893455700, "exp": 1893456000, "azp": "Xy12",
  "scope": "openid profile", "permissions": ["mqtt:pub:auth0/x", "mqtt:sub:auth0/#"],
  "https://example.com/roles": ["mqtt:sub:ns/#"]
})";

TEST(claim_mapping, keycloak_scope_string_rfc9068) {
    EXPECT_EQ(scopes_from_claims(claims_of(keycloak), "scope"),
              (strings{"openid", "mqtt:pub:plant/{client_id}/telemetry", "mqtt:sub:plant/cmd/#", "profile"}));
}

TEST(claim_mapping, keycloak_realm_roles_dotted_path) {
    EXPECT_EQ(scopes_from_claims(claims_of(keycloak), "realm_access.roles"),
              (strings{"offline_access", "mqtt:pub:plant/+/telemetry", "uma_authorization"}));
    EXPECT_EQ(scopes_from_claims(claims_of(keycloak), "resource_access.account.roles"),
              (strings{"manage-account"}));
}

TEST(claim_mapping, okta_scp_array) {
    EXPECT_EQ(scopes_from_claims(claims_of(okta), "scp"),
              (strings{"mqtt:pub:okta/a", "mqtt:sub:okta/#", "offline_access"}));
    EXPECT_TRUE(scopes_from_claims(claims_of(okta), "scope").empty());
}

TEST(claim_mapping, azure_ad_scp_string_and_roles_array) {
    EXPECT_EQ(scopes_from_claims(claims_of(azure), "scp"), (strings{"mqtt:pub:az/one", "mqtt:sub:az/#"}));
    EXPECT_EQ(scopes_from_claims(claims_of(azure), "roles"), (strings{"mqtt:all:az/app/#", "Reader"}));
}

TEST(claim_mapping, auth0_permissions_array_and_namespaced_claim_with_dots) {
    EXPECT_EQ(scopes_from_claims(claims_of(auth0), "permissions"),
              (strings{"mqtt:pub:auth0/x", "mqtt:sub:auth0/#"}));
    EXPECT_EQ(scopes_from_claims(claims_of(auth0), "scope"), (strings{"openid", "profile"}));
    // The exact top-level name wins over the dotted-path reading.
    EXPECT_EQ(scopes_from_claims(claims_of(auth0), "https://example.com/roles"), (strings{"mqtt:sub:ns/#"}));
}

TEST(claim_mapping, absent_or_unusable_claims_yield_nothing) {
    const auto c = claims_of(R"({"n": 42, "b": true, "z": null, "o": {"scope": "x"}, "f": 1.5,
        "mixed": ["mqtt:pub:a", 7, {"s": "mqtt:pub:b"}, ["mqtt:pub:c"], null, "", "mqtt:sub:d"],
        "deep": {"er": {"roles": 5}}, "s": "   "})");
    for (const char* name : {"n", "b", "z", "o", "f", "missing", "", ".", "o.", ".o", "o..scope", "n.x",
                             "deep.er.roles", "deep.er.roles.x", "s"}) {
        EXPECT_TRUE(scopes_from_claims(c, name).empty()) << name;
    }
    // Non-string elements are skipped, never coerced; the strings around them are kept.
    EXPECT_EQ(scopes_from_claims(c, "mixed"), (strings{"mqtt:pub:a", "mqtt:sub:d"}));
    EXPECT_EQ(scopes_from_claims(c, "o.scope"), (strings{"x"}));
}

TEST(claim_mapping, array_element_is_one_token_never_split) {
    // An element is one scope token; the scope grammar rejects it later (a space is not allowed),
    // so a crafted element cannot smuggle a second scope.
    const auto c = claims_of(R"({"scp": ["mqtt:pub:a mqtt:pub:#"]})");
    EXPECT_EQ(scopes_from_claims(c, "scp"), (strings{"mqtt:pub:a mqtt:pub:#"}));
}

TEST(claim_mapping, bounds) {
    claim_mapping_limits limits;
    limits.max_scopes = 3;
    limits.max_scope_bytes = 8;
    limits.max_path_depth = 2;
    const auto c = claims_of(R"({"s": "a b 123456789 c d e", "arr": ["1", "2", "123456789", "3", "4"],
        "a": {"b": {"c": "deep"}}, "x": {"y": "ok"}})");
    EXPECT_EQ(scopes_from_claims(c, "s", limits), (strings{"a", "b", "c"}));
    EXPECT_EQ(scopes_from_claims(c, "arr", limits), (strings{"1", "2", "3"}));
    EXPECT_EQ(scopes_from_claims(c, "x.y", limits), (strings{"ok"}));
    EXPECT_TRUE(scopes_from_claims(c, "a.b.c", limits).empty());
    // A huge space-separated string stops at max_scopes (defaults: 1024).
    std::string many;
    for (int i = 0; i < 5000; ++i) {
        many += "s" + std::to_string(i) + ' ';
    }
    bj::object big;
    big["scope"] = many;
    EXPECT_EQ(scopes_from_claims(big, "scope").size(), 1024U);
    // A path of many dots is bounded by max_path_depth, not by the input.
    std::string path(100000, 'a');
    for (std::size_t i = 1; i < path.size(); i += 2) {
        path[i] = '.';
    }
    EXPECT_TRUE(scopes_from_claims(big, path).empty());
}

TEST(claim_mapping, find_claim_returns_the_value) {
    const auto c = claims_of(keycloak);
    const auto* v = find_claim(c, "realm_access");
    ASSERT_NE(v, nullptr);
    EXPECT_TRUE(v->is_object());
    EXPECT_EQ(find_claim(c, "nope.roles"), nullptr);
    EXPECT_EQ(find_claim(c, ""), nullptr);
}

TEST(claim_mapping, claim_string_only_for_strings) {
    const auto c = claims_of(R"({"tenant": "acme", "n": 7, "org": {"id": "o-1", "n": 2}, "a.b": "dotted",
        "arr": ["x"], "nul": "a\u0000b"})");
    EXPECT_EQ(claim_string(c, "tenant"), "acme");
    EXPECT_EQ(claim_string(c, "org.id"), "o-1");
    EXPECT_EQ(claim_string(c, "a.b"), "dotted");
    EXPECT_EQ(claim_string(c, "nul"), std::string("a\0b", 3));  // kept: callers refuse NUL
    for (const char* name : {"n", "org", "org.n", "arr", "missing", ""}) {
        EXPECT_EQ(claim_string(c, name), std::nullopt) << name;
    }
}

}  // namespace
}  // namespace tollgate::auth
