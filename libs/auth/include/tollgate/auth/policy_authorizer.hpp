#pragma once
// policy_authorizer: the token's scopes plus external policy sources (docs/auth.md "Policy sources").
//
// Precedence, for every PUBLISH topic and SUBSCRIBE filter:
//   1. a source that could not load its rules for this principal -> deny (fail closed);
//   2. any source's deny rule that applies -> deny;
//   3. an allow from the token's scopes (the wrapped authorizer) or from any source -> allow;
//   4. otherwise deny (default deny).
// verdict.rule names what decided: the source and rule ("sql: allow pub devices/+/x"), the scope,
// or "default deny"; verdict.reason is what a v5 client sees (it never carries database errors).
//
// Cache (design): one entry per principal key — issuer, subject, client id, username and token id,
// so a re-authentication (a new token) loads afresh and two principals never share rules unless
// every value the rules are compiled from is equal ({claim:NAME} and $claim:NAME values come from
// the token, which the token id names: the jti, or the token's SHA-256 fingerprint). An entry holds the
// compiled policy_rules of every source (or the load error of a source) and the steady time it was loaded.
// Entries live in an LRU list (bounded by max_entries; an entry that is still loading is never evicted) and
// expire after cache_ttl (failed loads after failure_ttl, so an outage is retried soon). invalidate() removes
// every entry from the map and the LRU list; an entry whose load is running is detached (its load still
// answers its queued checks, then the entry is freed).
//
// Asynchrony: a check for a principal without a fresh entry returns nullopt, queues the question on
// the entry and (once per entry) posts the load of every source to `offload`; when the load ends,
// every queued question is answered in arrival order through its `done`, on the offload thread. A
// source's load() therefore never runs on a broker worker. The wrapped authorizer may itself answer
// later; its answer is then combined when it arrives.
//
// Thread-safety: check() may be called from any number of threads at once; sources' load() is
// called from the offload executor's threads (concurrently for different principals). The
// authorizer must outlive every load it posted (destroy the offload executor first).
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <tollgate/auth/policy_source.hpp>
#include <tollgate/broker/auth.hpp>
#include <tollgate/common/clock.hpp>

namespace tollgate::auth {

struct policy_authorizer_config {
    std::chrono::milliseconds cache_ttl{60'000};   ///< a loaded rule set is reused this long
    std::chrono::milliseconds failure_ttl{5'000};  ///< a failed load is retried after this (<= cache_ttl)
    std::size_t max_entries = 10'000;              ///< cached principals (LRU beyond)
};

struct policy_stats {
    std::uint64_t loads = 0;          ///< loads posted (one per principal key and expiry)
    std::uint64_t source_errors = 0;  ///< source load() calls that threw
    std::uint64_t cache_hits = 0;     ///< checks answered inline from a fresh entry
    std::uint64_t queued = 0;         ///< checks answered later (while loading)
    std::uint64_t evictions = 0;
};

class policy_authorizer final : public broker::authorizer {
  public:
    /// Runs a function exactly once on some thread where blocking is allowed (a net::work_pool).
    using offload_fn = std::function<void(std::function<void()>)>;

    /// `scopes` is the token-scope authorizer (scope_authorizer); it must outlive this object.
    /// Throws std::invalid_argument if offload is empty or a source is null.
    policy_authorizer(broker::authorizer& scopes, std::vector<std::shared_ptr<policy_source>> sources,
                      offload_fn offload, const common::clock& clock, policy_authorizer_config config = {});
    ~policy_authorizer() override;
    policy_authorizer(const policy_authorizer&) = delete;
    policy_authorizer& operator=(const policy_authorizer&) = delete;

    std::optional<broker::verdict> check(const broker::principal& who, broker::action what,
                                         std::string_view topic_or_filter, std::uint8_t qos, bool retain,
                                         std::function<void(broker::verdict)> done) override;

    /// Drops every cached rule set: the next check of each principal loads its rules afresh (e.g.
    /// after the rule file was reloaded on SIGHUP). A load already running when invalidate() is
    /// called still answers the checks queued on it, but its result is not cached: a check arriving
    /// after invalidate() never gets rules loaded before it. Thread-safe (any thread, concurrently
    /// with check()); never blocks on a load.
    void invalidate();
    /// The same as invalidate() (the name used before invalidate() existed).
    void invalidate_all() { invalidate(); }
    [[nodiscard]] policy_stats stats() const;
    [[nodiscard]] std::size_t cache_entries() const;

    struct impl;

  private:
    std::shared_ptr<impl> impl_;
};

/// The substitution values of a principal: {client_id} {sub} {username}, and {claim:NAME} from the
/// verified claims the token_authenticator kept (session_context::claims; claim_string(): a JSON
/// string claim by exact name or dotted path). A principal without claims (another authenticator)
/// has no claim values. The returned claim lookup shares the claims: it stays valid after `who`.
substitution_values substitution_values_of(const broker::principal& who);

}  // namespace tollgate::auth
