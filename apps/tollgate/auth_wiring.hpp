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
//   verify_threads = 1                  # threads for cold signature checks (0..64; 0: inline on the
//                                       # broker worker)
//   builtin_issuer = true               # trust tollgate's own authorization server (in process)
//   startup_key_wait = "10s"            # serve waits at most this for remote issuers' first JWKS (0s..5m)
//   permissions_claim = "mqtt_permissions"  # structured permissions claim ("" = not read)
//   [auth.audit]                        # JSON-lines audit log (audit_wiring.hpp)
//   [[auth.issuers]]
//   issuer = "https://idp.example"      # exact "iss"
//   keys = ["/etc/tollgate/idp-jwks.json",                      # JWK / JWKS files (their kids)
//           { file = "/etc/tollgate/idp.pem", kid = "k1", alg = "RS256" }]  # PEM key or certificate
//   # A PEM key given as a plain string has no kid: only tokens without "kid" can select it.
//   # Instead of keys (exactly one of keys, jwks_uri, discovery = true), keys over HTTPS:
//   discovery = true                    # RFC 8414 / OpenID metadata at the issuer URL -> jwks_uri
//   jwks_uri = "https://idp.example/jwks"  # or the JWKS URL directly
//   ca_file = "/etc/tollgate/idp-ca.pem"   # trust for this issuer's HTTPS (default: system store)
//   allow_http = false                  # http:// to loopback only, for tests
//   jwks_refresh = "15m"                # periodic refetch (1s..24h); unknown kid: at most every 10 s
//   fetch_timeout = "5s"                # one deadline per HTTP exchange (JWKS, metadata, introspection;
//                                       # 100ms..2m); a slower server counts as an outage
//   max_document_bytes = 1048576        # JWKS / metadata / introspection response limit (1 KiB..16 MiB)
//   max_unknown_kid_waiters = 1024      # tokens waiting at once for an unknown-kid refetch (0..1000000)
//   algorithms = ["RS256", "ES256"]
//   audiences = ["urn:tollgate:broker"] # optional, default [auth].audience
//   require_typ = true                  # header typ at+jwt (RFC 9068)
//   scope_claim = "scope"               # claim or dotted path holding the scopes ("scp", "permissions",
//                                       # "realm_access.roles"); string or array of strings
//   max_token_lifetime = "24h"          # refuse tokens whose exp - iat is longer ("0s": no limit)
//   introspection_endpoint = "https://idp.example/introspect"  # RFC 7662; default: from discovery
//   introspection_client_id = "tollgate"                        # client_secret_basic credentials
//   introspection_client_secret_file = "/etc/tollgate/introspection-secret"  # or ..._secret = "..."
//   opaque_tokens = false               # accept non-JWT tokens by introspection (one issuer at most)
//   recheck_interval = "5m"             # re-check live sessions by introspection ("0s": off)
//   recheck_grace = "1m"                # no fresh verdict for interval + grace: fail closed
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

#include <tollgate/auth/http_fetch.hpp>
#include <tollgate/auth/introspection_monitor.hpp>
#include <tollgate/auth/remote_key_source.hpp>
#include <tollgate/auth/revocation.hpp>
#include <tollgate/auth/scope_authorizer.hpp>
#include <tollgate/auth/token_authenticator.hpp>
#include <tollgate/auth/token_authenticator_offload.hpp>
#include <tollgate/common/clock.hpp>
#include <tollgate/oauth/events.hpp>
#include <tollgate/oauth/server.hpp>

#include "audit_wiring.hpp"
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
    // Remote keys (remote_key_source): exactly one of key_files, jwks_uri, discovery.
    bool discovery = false;
    std::string jwks_uri;
    std::string ca_file;      ///< PEM trust anchors for this issuer's HTTPS; empty: system store
    bool allow_http = false;  ///< http:// URLs (must name a loopback host in the configuration)
    std::chrono::milliseconds jwks_refresh{std::chrono::minutes{15}};
    std::chrono::milliseconds fetch_timeout{5000};  ///< one deadline per HTTP exchange (every endpoint)
    std::size_t max_document_bytes = 1024 * 1024;   ///< JWKS, metadata and introspection responses
    std::size_t max_unknown_kid_waiters = 1024;     ///< remote keys only: refresh_async waiters at once
    std::vector<std::string> algorithms{"RS256", "PS256", "ES256", "EdDSA"};
    std::vector<std::string> audiences;
    bool require_typ = true;
    /// Claim (or dotted path) holding the scopes: string (space-separated) or array of strings
    /// (auth/claim_mapping.hpp). The built-in issuer always uses "scope".
    std::string scope_claim = "scope";
    /// Longest accepted token lifetime, exp - iat (hostile-inputs #67); 0: no limit.
    std::chrono::seconds max_token_lifetime{24 * 3600};
    // RFC 7662 introspection (docs/auth.md "Introspection"); on when introspection_client_id is set.
    std::string introspection_endpoint;  ///< empty: from the discovery metadata
    std::string introspection_client_id;
    std::string introspection_client_secret;  ///< or read from the file below by build_auth()
    std::string introspection_client_secret_file;
    bool opaque_tokens = false;
    std::chrono::seconds recheck_interval{300};  ///< live-session re-check; 0: off
    std::chrono::seconds recheck_grace{60};
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
    /// Threads running cold signature checks (auth::verify_pool), 0..64; 0: inline on the broker worker.
    unsigned verify_threads = 1;
    bool builtin_issuer = true;
    std::chrono::milliseconds startup_key_wait{10'000};  ///< serve waits this long for remote issuers' keys
    std::vector<issuer_settings> issuers;
    std::string permissions_claim = "mqtt_permissions";  ///< structured claim ("": off), scope.hpp
    audit_settings audit;                                ///< [auth.audit], audit_wiring.hpp
    std::optional<policy_settings> policy;               ///< [auth.policy], policy_wiring.hpp
};

/// The authenticator's form of a built-in server's revocation event (nullopt for a refresh
/// family: its access tokens come as events of their own).
[[nodiscard]] std::optional<auth::revocation> to_auth_revocation(const oauth::revocation_event& e,
                                                                 const std::string& issuer);

/// Parses the [auth] table (`path` is its key path, "auth"). Throws config_error.
[[nodiscard]] auth_settings parse_auth_settings(const toml::table& table, const std::string& path = "auth");

/// The authenticator and authorizer `serve` hands to the broker, plus what keeps revocation wired.
struct auth_stack {
    std::unique_ptr<auth::token_authenticator> authn;
    /// [auth] verify_threads > 0: the threads that run authn's cold signature checks
    /// (token_auth_config::offload), so a broker worker never verifies a signature. Null: inline.
    std::unique_ptr<auth::verify_pool> verify;
    /// `authn` behind a gate (token_authenticator_offload.hpp): what serve hands to the broker.
    std::unique_ptr<auth::authentication_gate> gate;
    broker::authenticator& authenticator() { return *gate; }
    /// Call before the broker is destroyed: closes the gate (no authentication answer reaches the
    /// broker from then on, whichever thread it comes from: a verify thread, an introspection or a
    /// key refresh), then stops the verify threads (checks not started are dropped, running ones
    /// finish). Idempotent; the stack's destructor does the same.
    void stop_authentication() {
        if (gate) {
            gate->close();
        }
        if (verify) {
            verify->stop();
        }
    }
    auth::scope_authorizer authz;
    /// Subscribes to the built-in authorization server's revocation events: each ends the matching
    /// sessions of `b` (v5 DISCONNECT 0x98 "token revoked") and is remembered by the authenticator.
    /// Call once, after the broker exists; the stack, `b` and `hub` must outlive the subscription
    /// (destroy the stack, or reset `revocations`, before the broker).
    void link_revocations(broker::broker& b, oauth::revocation_hub& hub, const std::string& issuer);
    /// Without a broker (`tollgate admin explain`): the authenticator remembers every revocation of
    /// the built-in server still in force (its journal), as a serving process does. Returns how many.
    std::size_t remember_revocations(oauth::authorization_server& server);
    std::unique_ptr<auth::session_revoker> revoker;
    oauth::revocation_hub::subscription revocations;
    /// Issuers whose keys come over HTTPS: the HTTP client made for the issuer (ca_file,
    /// allow_http; reusable for its other endpoints) and the key source, whose metadata() gives the
    /// discovered endpoints (introspection_endpoint, revocation_endpoint).
    struct remote_issuer {
        std::string issuer;
        auth::http_fetch http;
        std::shared_ptr<auth::remote_key_source> keys;
    };
    std::vector<remote_issuer> remote_issuers;
    /// [auth.policy]: policy sources wrapping `authz` (policy_wiring.hpp); stop it before the broker dies.
    std::unique_ptr<policy_stack> policy;
    /// RFC 7662 re-checks of live sessions (docs/auth.md "Introspection"), when an issuer has
    /// introspection and recheck_interval > 0: wraps the authorizer below. Sessions are ended
    /// through the broker given to attach_rechecks(); detach_rechecks() before it is destroyed.
    std::unique_ptr<auth::introspection_monitor> monitor;
    void attach_rechecks(broker::broker& b) {
        if (monitor) {
            monitor->attach(b);
        }
    }
    void detach_rechecks() {
        if (monitor) {
            monitor->detach();
        }
    }
    /// SIGHUP (serve): re-reads every static rule file of [auth.policy] (a file that fails to read or
    /// check keeps its old rules, and the reason is logged: a bad edit never empties the policy),
    /// then drops the policy cache, so every session's next PUBLISH / SUBSCRIBE check uses the
    /// rules now in force. One log line per file (rule counts, changed or not; never rule contents).
    /// Returns false when a file failed. Never throws. Blocking file reads: call it off the event
    /// loop; concurrent calls are serialized per file.
    bool reload();
    /// The authorizer to hand to the broker: the policy authorizer when configured, else `authz`.
    broker::authorizer& authorizer() {
        if (monitor) {
            return *monitor;  // wraps the policy authorizer or `authz`
        }
        return policy ? static_cast<broker::authorizer&>(policy->authorizer()) : authz;
    }
};

/// The HTTP client of one [[auth.issuers]] entry (its ca_file and allow_http). Throws config_error
/// naming `where`.ca_file when the CA file cannot be loaded.
[[nodiscard]] auth::http_fetch make_issuer_http(const issuer_settings& issuer, const std::string& where);

/// The default of [auth] startup_key_wait: how long build_auth() waits for the first key fetch of
/// the remote issuers (all at once).
inline constexpr std::chrono::seconds remote_keys_startup_wait{10};

/// Builds the stack: the built-in issuer (when settings.builtin_issuer and `builtin` is non-null;
/// its issuer and key manager are read in process, no network) plus every [[auth.issuers]] entry
/// (key files read now; remote keys fetched now, waiting up to settings.startup_key_wait for the
/// first fetch of each: an issuer still without keys then is logged as an error, its tokens are
/// refused, and its source keeps retrying with backoff). Throws config_error naming the key path on an
/// unreadable or unusable key file, an unknown algorithm, or when no issuer results.
[[nodiscard]] std::unique_ptr<auth_stack> build_auth(const auth_settings& settings,
                                                     const common::clock& clock,
                                                     oauth::authorization_server* builtin);

}  // namespace tollgate::app
