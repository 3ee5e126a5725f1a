#pragma once
// The [auth] section of the configuration and the wiring of libs/auth into `tollgate serve`:
// token_authenticator (issuers: tollgate's own authorization server in process, and issuers with
// static PEM/JWK keys), scope_authorizer, and the link from the authorization server's revocation
// events to live sessions.
//
//   [auth]
//   enabled = true                      # token authentication on (then mqtt.allow_anonymous is ignored)
//   audience = "urn:tollgate:broker"    # the broker's resource identifier (aud)
//   required_username = "oauth2"        # optional marker the CONNECT username must equal
//   client_id_binding = "none"          # none | client_id | sub | claim
//   client_id_claim = "device_id"       # with client_id_binding = "claim"
//   cache_size = 10000
//   leeway = "30s"
//   max_token_bytes = 8192
//   builtin_issuer = true               # trust tollgate's own authorization server (in process)
//   [[auth.issuers]]
//   issuer = "https://idp.example"      # exact "iss"
//   keys = ["/etc/tollgate/idp-jwks.json",                      # JWK / JWKS files (their kids)
//           { file = "/etc/tollgate/idp.pem", kid = "k1", alg = "RS256" }]  # PEM key or certificate
//   # A PEM key given as a plain string has no kid: only tokens without "kid" can select it.
//   algorithms = ["RS256", "ES256"]
//   audiences = ["urn:tollgate:broker"] # optional, default [auth].audience
//   require_typ = true                  # header typ at+jwt (RFC 9068)
//
// Parsing is as strict as config.cpp: unknown keys and wrong types are config_errors naming the key
// path ("auth.issuers[0].algorithms[1]"). Key files are read by build_auth(), not by the parser.
// Thread-safety: plain functions and values; auth_stack members are as documented in libs/auth.
#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <toml++/toml.h>

#include <tollgate/auth/revocation.hpp>
#include <tollgate/auth/scope_authorizer.hpp>
#include <tollgate/auth/token_authenticator.hpp>
#include <tollgate/common/clock.hpp>
#include <tollgate/oauth/events.hpp>
#include <tollgate/oauth/server.hpp>

#include "policy_wiring.hpp"

namespace tollgate::app {

struct key_file_settings {
    std::string file;
    std::string kid;                 ///< PEM only: the kid tokens name (JWK/JWKS carry their own)
    std::optional<std::string> alg;  ///< PEM only: pin the key to one algorithm
};

struct issuer_settings {
    std::string issuer;
    std::vector<key_file_settings> key_files;
    std::vector<std::string> algorithms{"RS256", "PS256", "ES256", "EdDSA"};
    std::vector<std::string> audiences;
    bool require_typ = true;
};

struct auth_settings {
    bool enabled = false;
    std::string audience = "urn:tollgate:broker";
    std::optional<std::string> required_username;
    auth::client_id_binding binding = auth::client_id_binding::none;
    std::string binding_claim;
    std::size_t cache_size = 10000;
    std::chrono::seconds leeway{30};
    std::size_t max_token_bytes = 8 * 1024;
    bool builtin_issuer = true;
    std::vector<issuer_settings> issuers;
    std::optional<policy_settings> policy;  ///< [auth.policy], policy_wiring.hpp
};

/// Parses the [auth] table (`path` is its key path, "auth"). Throws config_error.
[[nodiscard]] auth_settings parse_auth_settings(const toml::table& table, const std::string& path = "auth");

/// The authenticator and authorizer `serve` hands to the broker, plus what keeps revocation wired.
struct auth_stack {
    std::unique_ptr<auth::token_authenticator> authn;
    auth::scope_authorizer authz;
    /// Subscribes to the built-in authorization server's revocation events: each ends the matching
    /// sessions of `b` (v5 DISCONNECT 0x98 "token revoked") and is remembered by the authenticator.
    /// Call once, after the broker exists; the stack, `b` and `hub` must outlive the subscription
    /// (destroy the stack, or reset `revocations`, before the broker).
    void link_revocations(broker::broker& b, oauth::revocation_hub& hub, const std::string& issuer);
    std::unique_ptr<auth::session_revoker> revoker;
    oauth::revocation_hub::subscription revocations;
    /// [auth.policy]: policy sources wrapping `authz` (policy_wiring.hpp); stop it before the broker dies.
    std::unique_ptr<policy_stack> policy;
    /// The authorizer to hand to the broker: the policy authorizer when configured, else `authz`.
    broker::authorizer& authorizer() {
        return policy ? static_cast<broker::authorizer&>(policy->authorizer()) : authz;
    }
};

/// Builds the stack: the built-in issuer (when settings.builtin_issuer and `builtin` is non-null;
/// its issuer and key manager are read in process, no network) plus every [[auth.issuers]] entry
/// (key files read now). Throws config_error naming the key path on an unreadable or unusable key
/// file, an unknown algorithm, or when no issuer results.
[[nodiscard]] std::unique_ptr<auth_stack> build_auth(const auth_settings& settings,
                                                     const common::clock& clock,
                                                     oauth::authorization_server* builtin);

}  // namespace tollgate::app
