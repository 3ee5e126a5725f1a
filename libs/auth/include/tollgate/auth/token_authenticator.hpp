#pragma once
// tollgate::auth::token_authenticator: the broker as an OAuth 2.0 resource server (RFC 6750 for the
// token, RFC 9068 JWT access tokens, RFC 8725 validation rules, RFC 8705 certificate binding).
//
// Where the token comes from:
//  - CONNECT without an Authentication Method: the password is the token. The username is free, or
//    must equal token_auth_config::required_username when that is set.
//  - MQTT 5 enhanced authentication, method "CUSTOM-JWT" or "OAUTH2-JWT": the Authentication Data
//    is the token (one step, no challenge). Any other method: 0x8C bad authentication method.
//  - Re-authentication (AUTH 0x19) with the same method and a fresh token: a new principal (new
//    claims, permissions and expiry); the broker swaps them in one step. The new token must name the
//    same issuer and subject as the session's current one.
//
// Reason codes (docs/auth.md): no token, a username that is not the required marker, an unparsable,
// unverifiable, expired or otherwise invalid token on CONNECT -> 0x86 bad user name or password; a
// valid token that is not acceptable for this connection (client id binding, certificate binding)
// -> 0x87 not authorized.
// Every re-authentication failure -> DISCONNECT 0x87 (0x86 is not a DISCONNECT code). The reason
// string says only "invalid token" / "token not accepted for this connection"; the log line names
// the check, the jti, subject and the token's fingerprint, never the token.
//
// Cache: verified tokens are kept in a bounded LRU keyed by SHA-256 of the token, so a reconnect with
// the same token costs no signature check. A cached entry still honours exp (and nbf) against the
// clock; per-connection checks (username, client id, certificate) are made on every use.
//
// Introspection (RFC 7662, docs/auth.md "Introspection"): an issuer with an introspection_client
//  - and opaque_tokens: a token that is not a compact JWS (not exactly two '.') is sent to that
//    issuer's introspection endpoint; an active answer (check_introspected: iss, aud, exp required,
//    nbf, not a refresh token) makes the principal as a JWT's claims would (sub, client_id, scope).
//    At most one issuer may accept opaque tokens (an opaque token names no issuer to choose by).
//    Answers are cached by the token's SHA-256 until min(exp + leeway, fetched + recheck interval).
//  - and recheck.interval > 0: every session of the issuer's tokens carries a token_recheck (shared
//    by all sessions of one token, in session_context::recheck) that introspection_monitor re-checks
//    periodically. On CONNECT, a token whose last verdict is inactive, or older than interval +
//    grace, is refused (0x86); one older than the interval starts a background re-check. An
//    inactive verdict learnt during a CONNECT (either way) is passed to token_auth_config::
//    on_inactive, which ends the token's other live sessions at once.
//
// Unknown kid: a JWT naming a kid its issuer's current key set lacks starts a key refresh for that
// issuer, at most once per unknown_kid_refresh_interval. When the key source refreshes
// asynchronously (key_source::refresh_async, e.g. a JWKS fetch), the verdict waits for the refresh
// and the token is verified again with the new keys; tokens with unknown kids arriving while that
// refresh is in flight wait for it too (at most max_unknown_kid_waiters). Outside a refresh, or
// beyond that bound, such a token is refused at once (0x86), so random kids cannot make the broker
// fetch more than once per interval. Otherwise refresh() is called synchronously.
//
// Thread-safety: authenticate() may be called from any number of threads at once; `done` is called
// exactly once: inline, on the offload executor (cold JWT verification, when configured), or on the
// HTTP client's thread (introspection; a key refresh for an unknown kid without offload), except
// that an offload executor that is shutting down may drop it (then `done` is never called; serve
// closes an authentication_gate first, token_authenticator_offload.hpp). Key sources must be
// thread-safe.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <tollgate/auth/introspection.hpp>
#include <tollgate/auth/scope.hpp>
#include <tollgate/broker/auth.hpp>
#include <tollgate/common/clock.hpp>
#include <tollgate/jose/algorithm.hpp>
#include <tollgate/jose/key_set.hpp>

namespace tollgate::auth {

/// Where an issuer's verification keys come from.
class key_source {
  public:
    virtual ~key_source();
    /// The current key set (never null; may be empty). Thread-safe.
    [[nodiscard]] virtual std::shared_ptr<const jose::key_set> current() = 0;
    /// Asked when a token names an unknown kid (the authenticator rate-limits these calls). May
    /// reload keys; returns true if current() may now return a different set. Thread-safe.
    virtual bool refresh() { return false; }
    /// Asynchronous refresh: when it returns true, `done` runs exactly once (on any thread) after
    /// the reload finished, success or failure, and current() then holds the outcome. When it
    /// returns false (the default: a source that cannot refresh asynchronously, or one that is
    /// rate-limited or has too many waiters), `done` is never called. Thread-safe.
    virtual bool refresh_async(std::function<void()> done) {
        static_cast<void>(done);
        return false;
    }
};

/// A fixed key set (static PEM / JWK keys from configuration).
class static_key_source final : public key_source {
  public:
    explicit static_key_source(jose::key_set keys)
        : keys_(std::make_shared<const jose::key_set>(std::move(keys))) {}
    std::shared_ptr<const jose::key_set> current() override { return keys_; }

  private:
    std::shared_ptr<const jose::key_set> keys_;
};

/// Keys read through callbacks: tollgate's own authorization server in process
/// (oauth::key_manager::public_keys() and invalidate()).
class function_key_source final : public key_source {
  public:
    function_key_source(std::function<std::shared_ptr<const jose::key_set>()> get,
                        std::function<void()> reload)
        : get_(std::move(get)), reload_(std::move(reload)) {}
    std::shared_ptr<const jose::key_set> current() override;
    bool refresh() override;

  private:
    std::function<std::shared_ptr<const jose::key_set>()> get_;
    std::function<void()> reload_;
};

struct issuer_config {
    std::string issuer;  ///< exact "iss"
    std::shared_ptr<key_source> keys;
    /// Algorithms accepted from this issuer (RFC 8725 §3.1). Keys are further pinned by their own alg.
    std::vector<jose::algorithm> allowed_algs{jose::algorithm::rs256, jose::algorithm::ps256,
                                              jose::algorithm::es256, jose::algorithm::eddsa};
    /// Accepted "aud" values; empty: token_auth_config::audience.
    std::vector<std::string> audiences;
    /// Require header typ "at+jwt" (RFC 9068 §2.1).
    bool require_at_jwt = true;
    /// RFC 7662 introspection at this issuer (null: none).
    std::shared_ptr<const introspection_client> introspection;
    /// Accept tokens that are not a compact JWS through introspection alone (needs `introspection`;
    /// `keys` may then be null). At most one issuer may set it.
    bool opaque_tokens = false;
    /// Periodic re-check of live sessions by introspection (needs `introspection`; interval 0: off).
    recheck_policy recheck;
    /// The claim (or dotted path, e.g. "realm_access.roles") holding the token's scopes: a
    /// space-separated string or an array of strings (claim_mapping.hpp). Read from a JWT's claims
    /// and, when it is not "scope", from an introspection answer too (RFC 7662 §2.2 names "scope").
    std::string scope_claim = "scope";
    /// exp - iat (exp - now without iat) above this plus leeway: refused ("token lifetime (exp)
    /// exceeds the maximum"; hostile-inputs #67). 0: no limit (the built-in issuer bounds its own).
    std::chrono::seconds max_token_lifetime{0};
};

enum class client_id_binding { none, client_id_claim, subject, claim };

struct token_auth_config {
    std::vector<issuer_config> issuers;
    std::string audience = "urn:tollgate:broker";  ///< the broker's resource identifier
    /// When set, CONNECT's username must be exactly this when the password carries the token.
    std::optional<std::string> required_username;
    /// Binding of the MQTT client identifier to a claim (client_id, sub, or `binding_claim`).
    client_id_binding binding = client_id_binding::none;
    std::string binding_claim;
    std::chrono::seconds leeway{30};
    std::size_t cache_size = 10000;                         ///< verified tokens kept (0: no cache)
    std::size_t max_token_bytes = 8 * 1024;                 ///< longer tokens are refused unparsed
    std::chrono::seconds unknown_kid_refresh_interval{10};  ///< per issuer
    /// Tokens with an unknown kid waiting for their issuer's key refresh at once, per issuer; more
    /// are refused at once (0x86).
    std::size_t max_unknown_kid_waiters = 1024;
    /// How long a client/subject revocation (or one without a known exp) is remembered: at least the
    /// longest access-token lifetime of the issuers.
    std::chrono::seconds revocation_memory{24 * 3600};
    std::size_t max_revocations = 100000;
    scope_limits scopes;
    /// When set, cold verifications (signature checks) run through it instead of inline, keeping the
    /// broker's event loop free (verify_pool::executor(), token_authenticator_offload.hpp). It runs
    /// the function once on any thread, or drops it (destroys it unrun) when shutting down: the
    /// request's `done` is then never called.
    std::function<void(std::function<void()>)> offload;
    /// Called when an introspection answer learnt during authenticate() (an opaque token's, or the
    /// re-check a CONNECT started for a due or stale verdict) says that a token with live sessions is
    /// no longer active, with the token's shared re-check state, so that its other sessions end at
    /// once instead of at their next packet (introspection_monitor::inactive_handler()). Runs on the
    /// HTTP client's thread, or inline. May be empty.
    std::function<void(const std::shared_ptr<token_recheck>&)> on_inactive;
};

/// What the authenticator stores in broker::principal::context: the compiled permissions and the
/// claims that revocation matches on. Immutable.
struct session_context {
    permission_set permissions;
    std::string token_client_id;  ///< "client_id" claim (RFC 9068), may be empty
    std::string jti;
    std::vector<std::string> scopes;
    /// The token's verified claims (payload), for policy sources that use {claim:NAME} or
    /// $claim:NAME. Bounded by the token size limit. Never null in a context this library made.
    std::shared_ptr<const boost::json::object> claims;
    /// Re-check state of the session's token (null: its issuer has no periodic re-check). The token
    /// is kept in it, in memory only. Shared by every session of the same token.
    std::shared_ptr<token_recheck> recheck;
};

/// The session_context of a principal made by token_authenticator, or nullptr (anonymous or made by
/// another authenticator).
const session_context* context_of(const broker::principal& who) noexcept;

struct revocation {
    enum class kind { access_token, client, subject } what = kind::access_token;
    std::string issuer;  ///< only sessions authenticated by this issuer match
    std::string value;   ///< the jti, the client_id claim or the subject
    /// Unix seconds of the revocation: client/subject revocations refuse tokens issued (iat) at or
    /// before it. 0: now.
    std::int64_t revoked_at = 0;
    /// Unix seconds until which the revocation is remembered (a revoked token's exp). 0: revoked_at
    /// plus token_auth_config::revocation_memory.
    std::int64_t until = 0;
};

struct auth_stats {
    std::uint64_t verifications = 0;  ///< signature verifications attempted
    std::uint64_t cache_hits = 0;
    std::uint64_t successes = 0;
    std::uint64_t failures = 0;
    std::uint64_t key_refreshes = 0;
    std::uint64_t introspections = 0;  ///< introspection requests made by authenticate()
};

class token_authenticator final : public broker::authenticator {
  public:
    /// Throws std::invalid_argument if an issuer has an empty name, no key source (unless it accepts
    /// opaque tokens), opaque_tokens without an introspection client, or if two issuers accept
    /// opaque tokens.
    token_authenticator(token_auth_config config, const common::clock& clock);
    ~token_authenticator() override;
    token_authenticator(const token_authenticator&) = delete;
    token_authenticator& operator=(const token_authenticator&) = delete;

    void authenticate(broker::auth_request request, std::function<void(broker::auth_result)> done) override;

    /// Remembers a revocation: from now on a token it covers (same issuer; same jti, or same
    /// client_id claim / subject with iat at or before revoked_at) is refused (0x86 / DISCONNECT
    /// 0x87 on re-authentication), and matching cache entries are dropped. Remembered entries are
    /// pruned once past `until`; at most max_revocations are kept (the oldest go first).
    void revoke(const revocation& r);

    [[nodiscard]] auth_stats stats() const;
    [[nodiscard]] std::size_t cache_entries() const;

    struct impl;

  private:
    std::shared_ptr<impl> impl_;  ///< shared: in-flight introspections hold it weakly
};

}  // namespace tollgate::auth
