#pragma once
// token_authenticator::impl, shared by the files that implement it (internal to libs/auth):
//   token_authenticator.cpp               entry point: token extraction, cache lookup, dispatch
//   token_authenticator_verify.cpp        issuer selection, verifiers, unknown-kid key refresh, JWS checks
//   token_authenticator_checks.cpp        cached exp/nbf, connection checks (binding, cnf), principal
//   token_authenticator_introspection.cpp opaque tokens (RFC 7662) and the per-token re-check registry
//   token_authenticator_revocation.cpp    remembered revocations (jti, client, subject)
//
// Design: one impl object, shared (shared_ptr) with in-flight work: an introspection answer holds it
// weakly, a key refresh and an offloaded verification hold it strongly until they finish. Its
// members are either immutable after construction (config, clock, limits, issuers' configs) or
// guarded: the two caches by their own mutexes, an issuer's verifier and refresh waiters by
// issuer_state::mutex, the re-check registry by registry_mutex, remembered revocations by
// revoked_mutex; counters are atomics.
#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <boost/json/object.hpp>
#include <spdlog/logger.h>

#include <tollgate/auth/token_authenticator.hpp>
#include <tollgate/common/log.hpp>
#include <tollgate/jose/jwt.hpp>

#include "token_cache.hpp"

namespace tollgate::auth {

namespace detail {

/// The deleter type marks a principal context as ours (context_of checks it with get_deleter).
struct session_context_deleter {
    void operator()(const session_context* p) const noexcept { delete p; }
};

inline constexpr std::string_view invalid_token = "invalid token";
inline constexpr std::string_view not_accepted = "token not accepted for this connection";

/// One presented token, for the steps after verification (the token itself only to start
/// re-checks; never logged).
struct token_ref {
    std::string_view token;
    std::string key;  ///< SHA-256 of the token, raw
    std::string fingerprint;
    std::int64_t exp = 0;
    std::optional<common::steady_time> verified_at;  ///< of an introspection answer (default: now)
};

/// An introspected opaque token: what the answer established and until when it may be reused.
struct opaque_entry : cached_token {
    std::int64_t reuse_until = 0;      ///< Unix seconds: min(exp + leeway, fetched + recheck interval)
    common::steady_time fetched_at{};  ///< when the request was sent (the verdict's age)
};

/// A compact JWS has exactly two '.' (RFC 7515 §7.1); anything else is an opaque token.
[[nodiscard]] bool looks_like_jws(std::string_view token);

/// The string member `name` of `o`, if it is a string.
[[nodiscard]] std::optional<std::string> string_member(const boost::json::object& o, std::string_view name);

}  // namespace detail

struct token_authenticator::impl : std::enable_shared_from_this<token_authenticator::impl> {
    using auth_request = broker::auth_request;
    using auth_result = broker::auth_result;
    using reason_code = mqtt::reason_code;

    struct issuer_state {
        issuer_config config;
        std::mutex mutex;
        std::shared_ptr<const jose::key_set> keys;  ///< the set `verifier` was built with
        std::shared_ptr<const jose::verifier> verifier;
        std::optional<common::steady_time> last_refresh;
        bool refreshing = false;                     ///< an unknown-kid refresh is in flight
        std::vector<std::function<void()>> waiting;  ///< verifications waiting for it
    };

    /// Result of one attempt: a verified token, or the failure to report.
    struct outcome {
        std::shared_ptr<const detail::cached_token> token;
        reason_code reason = reason_code::bad_user_name_or_password;
        std::string check;                    ///< what failed (for the log)
        issuer_state* unknown_key = nullptr;  ///< the token named a key this issuer lacks
    };

    /// A token that missed the cache, kept while its verification may wait for a key refresh.
    struct cold_request {
        auth_request req;
        std::optional<common::shared_bytes> cert;
        common::shared_bytes token;
        std::string key;
        std::string fingerprint;
        std::function<void(auth_result)> done;
    };

    /// Throws std::invalid_argument (see token_authenticator's constructor).
    impl(token_auth_config c, const common::clock& clk);

    // token_authenticator_verify.cpp
    issuer_state* find_issuer(std::string_view token);
    std::shared_ptr<const jose::verifier> verifier_for(issuer_state& st);
    /// After an unknown kid: runs `then` once the issuer's keys were refreshed (joining a refresh in
    /// flight), or returns false (then never calls it) when no refresh is allowed now: outside the
    /// rate-limit window with none in flight, or too many waiters. `then` runs inline (synchronous
    /// sources), on the offload executor, or on the thread that completes the key source's refresh.
    bool when_refreshed(issuer_state& st, std::function<void()> then);
    void refreshed(issuer_state& st);
    outcome verify(std::string_view token);
    /// Verifies the signature and claims; on an unknown kid (first attempt only) waits for the
    /// issuer's key refresh and tries once more, or fails at once when no refresh is allowed.
    void verify_cold(const std::shared_ptr<cold_request>& p, bool first_attempt);

    // token_authenticator_checks.cpp
    /// exp / nbf against the clock, for a cached entry (the verifier checked them when it was cold).
    [[nodiscard]] bool still_valid(const detail::cached_token& t) const;
    [[nodiscard]] std::optional<std::string> binding_value(const detail::cached_token& t) const;
    /// Checks tied to this connection; returns the failed check or nullopt.
    [[nodiscard]] std::optional<std::string> connection_checks(
        const detail::cached_token& t, const auth_request& req,
        const std::optional<common::shared_bytes>& cert) const;
    static std::string subject_of(const detail::cached_token& t);
    std::shared_ptr<const broker::principal> make_principal(const detail::cached_token& t,
                                                            const auth_request& req,
                                                            std::shared_ptr<token_recheck> recheck);
    /// Counts and logs a refusal; `check` becomes auth_result::detail.
    auth_result fail(const auth_request& req, reason_code code, std::string_view reason_string,
                     std::string_view check, const detail::cached_token* t, std::string_view fingerprint);
    /// The checks after verification (revocation, connection, re-check state), then the principal.
    auth_result finish(const auth_request& req, const std::optional<common::shared_bytes>& cert,
                       std::shared_ptr<const detail::cached_token> t, const detail::token_ref& tok);

    // token_authenticator_introspection.cpp
    static bool rechecks(const issuer_config& ic);
    [[nodiscard]] const issuer_state* issuer_named(std::string_view name) const;
    [[nodiscard]] introspection_expectations expectations(const issuer_state& st, bool opaque) const;
    /// The token's shared re-check state: found by the token's SHA-256, or made with `verified_at`
    /// as its last fresh verdict. Entries without a session are pruned when the registry grows,
    /// except those remembering an inactive verdict (until the token's exp).
    std::shared_ptr<token_recheck> recheck_state(const issuer_state& st, const detail::token_ref& tok,
                                                 common::steady_time verified_at);
    /// Called with registry_mutex held.
    void prune_registry();
    /// The `after` of a re-check started during authenticate(): an inactive answer calls
    /// config.on_inactive with the token's state (empty when on_inactive is).
    [[nodiscard]] std::function<void(const introspection_result&)> notify_inactive(
        const std::shared_ptr<token_recheck>& state) const;
    std::shared_ptr<token_recheck> find_recheck(const std::string& key);
    /// An opaque token: a fresh cached introspection answer, else the opaque issuer's endpoint.
    void authenticate_opaque(auth_request req, std::optional<common::shared_bytes> cert,
                             common::shared_bytes token, std::string key, std::string fingerprint,
                             std::function<void(auth_result)> done);
    auth_result introspected(const auth_request& req, const std::optional<common::shared_bytes>& cert,
                             std::string_view token, const std::string& key, const std::string& fingerprint,
                             common::steady_time started, introspection_result r);

    // token_authenticator_revocation.cpp
    /// Is the token covered by a remembered revocation? Prunes expired entries as it goes.
    bool is_revoked(const detail::cached_token& t);
    void remember(revocation r);

    token_auth_config config;
    const common::clock& clock;
    detail::token_cache cache;
    /// Introspected opaque tokens (only opaque_entry values).
    detail::token_cache opaque_cache;
    issuer_state* opaque_issuer = nullptr;
    struct registry_entry {
        std::shared_ptr<token_recheck> state;
        std::int64_t until = 0;  ///< the token's exp
    };
    std::mutex registry_mutex;
    std::unordered_map<std::string, registry_entry> registry;  ///< key: SHA-256 of the token
    jose::token_limits limits;
    std::vector<std::unique_ptr<issuer_state>> issuers;
    std::mutex revoked_mutex;
    std::unordered_map<std::string, revocation> revoked_jtis;  ///< key: issuer '\n' jti
    std::deque<revocation> revoked_other;                      ///< client and subject revocations
    std::shared_ptr<spdlog::logger> log = common::logger("auth");
    std::atomic<std::uint64_t> verifications{0};
    std::atomic<std::uint64_t> cache_hits{0};
    std::atomic<std::uint64_t> successes{0};
    std::atomic<std::uint64_t> failures{0};
    std::atomic<std::uint64_t> key_refreshes{0};
    std::atomic<std::uint64_t> introspections{0};
};

}  // namespace tollgate::auth
