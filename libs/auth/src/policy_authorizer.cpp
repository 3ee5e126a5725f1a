// The composite authorizer: token scopes plus policy sources, with a per-principal rule cache (see
// policy_authorizer.hpp).
#include <algorithm>
#include <list>
#include <mutex>
#include <stdexcept>
#include <unordered_map>

#include <tollgate/auth/claim_mapping.hpp>
#include <tollgate/auth/policy_authorizer.hpp>
#include <tollgate/auth/token_authenticator.hpp>
#include <tollgate/common/log.hpp>

namespace tollgate::auth {
namespace {

/// What one source gave for one principal: its compiled rules, or why it could not answer.
struct source_result {
    policy_rules rules;
    bool failed = false;
};
using result_set = std::vector<source_result>;

/// A check that arrived while the principal's rules were loading.
struct waiter {
    broker::action what = broker::action::publish;
    std::string topic;
    std::uint8_t qos = 0;
    bool retain = false;
    std::function<void(broker::verdict)> done;
};

struct entry {
    std::shared_ptr<const result_set> results;  // null until the first load ends
    common::steady_time loaded_at{};
    bool failed = false;
    bool loading = false;
    std::vector<waiter> waiters;
    std::list<std::string>::iterator lru;
};

void append_field(std::string& key, std::string_view s) {
    key += std::to_string(s.size());
    key += ':';
    key += s;
}

/// Every value rules are compiled from, plus the token id (a new token loads afresh). Length-prefixed
/// so that no two different principals give the same key.
std::string key_of(const broker::principal& who) {
    std::string key;
    append_field(key, who.issuer);
    append_field(key, who.subject);
    append_field(key, who.client_id);
    key += who.username ? 'u' : 'n';
    append_field(key, who.username.value_or(""));
    append_field(key, who.token_id);
    return key;
}

}  // namespace

substitution_values substitution_values_of(const broker::principal& who) {
    substitution_values v;
    v.client_id = who.client_id;
    v.subject = who.subject;
    v.username = who.username;
    const session_context* ctx = context_of(who);
    std::shared_ptr<const boost::json::object> claims = ctx != nullptr ? ctx->claims : nullptr;
    v.claim = [claims = std::move(claims)](std::string_view name) -> std::optional<std::string> {
        if (claims == nullptr) {
            return std::nullopt;
        }
        return claim_string(*claims, name);
    };
    return v;
}

struct policy_authorizer::impl : std::enable_shared_from_this<impl> {
    impl(broker::authorizer& s, std::vector<std::shared_ptr<policy_source>> src, offload_fn off,
         const common::clock& c, policy_authorizer_config cfg)
        : scopes(s), sources(std::move(src)), offload(std::move(off)), clock(c), config(cfg) {
        for (const auto& source : sources) {
            names.emplace_back(source->name());
        }
    }

    broker::authorizer& scopes;
    std::vector<std::shared_ptr<policy_source>> sources;
    std::vector<std::string> names;
    offload_fn offload;
    const common::clock& clock;
    policy_authorizer_config config;

    mutable std::mutex mutex;
    std::unordered_map<std::string, std::shared_ptr<entry>> entries;
    std::list<std::string> lru;  // most recently used first
    policy_stats stats;

    bool fresh(const entry& e, common::steady_time now) const {
        const auto ttl = e.failed ? std::min(config.failure_ttl, config.cache_ttl) : config.cache_ttl;
        return e.results && !e.loading && now - e.loaded_at < ttl;
    }

    /// Under the lock: drops least recently used entries that are not loading, down to max_entries.
    void evict() {
        auto it = lru.end();
        while (entries.size() > config.max_entries && it != lru.begin()) {
            --it;
            auto found = entries.find(*it);
            if (found->second->loading) {
                continue;
            }
            entries.erase(found);
            it = lru.erase(it);
            ++stats.evictions;
        }
    }

    std::optional<broker::verdict> evaluate(const result_set& results, const broker::principal& who,
                                            broker::action what, std::string_view topic, std::uint8_t qos,
                                            bool retain, std::function<void(broker::verdict)> done);
    void load(const std::shared_ptr<entry>& e, const broker::principal& who);
    result_set load_sources(const broker::principal& who);
};

std::optional<broker::verdict> policy_authorizer::impl::evaluate(const result_set& results,
                                                                 const broker::principal& who,
                                                                 broker::action what, std::string_view topic,
                                                                 std::uint8_t qos, bool retain,
                                                                 std::function<void(broker::verdict)> done) {
    for (std::size_t i = 0; i < results.size(); ++i) {
        if (results[i].failed) {
            return broker::verdict{false, names[i] + ": load failed (fail closed)",
                                   "policy source unavailable"};
        }
    }
    std::optional<policy_decision> source_allow;
    for (const auto& r : results) {
        policy_decision d =
            what == broker::action::publish ? r.rules.check_publish(topic) : r.rules.check_subscribe(topic);
        if (d.answer == policy_answer::deny) {
            return broker::verdict{false, std::move(d.rule), std::move(d.reason)};
        }
        if (d.answer == policy_answer::allow && !source_allow) {
            source_allow = std::move(d);
        }
    }
    auto combine = [source_allow](broker::verdict scope) {
        if (scope.allow || !source_allow) {
            return scope;
        }
        return broker::verdict{true, source_allow->rule, source_allow->reason};
    };
    auto scope =
        scopes.check(who, what, topic, qos, retain,
                     [combine, done = std::move(done)](broker::verdict v) { done(combine(std::move(v))); });
    if (!scope) {
        return std::nullopt;
    }
    return combine(std::move(*scope));
}

namespace {
/// Under the lock: queues a check on an entry and starts its load unless one is running.
void queue(policy_authorizer::impl& m, entry& e, waiter w, bool& post) {
    e.waiters.push_back(std::move(w));
    ++m.stats.queued;
    if (!e.loading) {
        e.loading = true;
        ++m.stats.loads;
        post = true;
    }
    m.evict();
}
}  // namespace

result_set policy_authorizer::impl::load_sources(const broker::principal& who) {
    auto log = common::logger("auth");
    const substitution_values values = substitution_values_of(who);
    result_set results(sources.size());
    for (std::size_t i = 0; i < sources.size(); ++i) {
        try {
            results[i].rules = policy_rules::compile(sources[i]->load(who), values);
            for (const auto& [rule, why] : results[i].rules.dropped()) {
                log->warn("policy rule '{}' not compiled as written for client '{}' (sub '{}'): {}", rule,
                          who.client_id, who.subject, why);
            }
        } catch (const std::exception& ex) {
            results[i].failed = true;
            log->warn("policy source {} failed for client '{}' (sub '{}'): {}; denying (fail closed)",
                      names[i], who.client_id, who.subject, ex.what());
        } catch (...) {
            results[i].failed = true;
            log->warn("policy source {} failed for client '{}' (sub '{}'); denying (fail closed)", names[i],
                      who.client_id, who.subject);
        }
    }
    return results;
}

void policy_authorizer::impl::load(const std::shared_ptr<entry>& e, const broker::principal& who) {
    auto results = std::make_shared<const result_set>(load_sources(who));
    std::size_t errors = 0;
    for (const auto& r : *results) {
        errors += r.failed ? 1 : 0;
    }
    std::vector<waiter> waiting;
    {
        std::lock_guard lock(mutex);
        e->results = results;
        e->loaded_at = clock.steady_now();
        e->failed = errors > 0;
        e->loading = false;
        waiting.swap(e->waiters);
        stats.source_errors += errors;
        evict();
    }
    for (auto& w : waiting) {
        auto done = w.done;
        if (auto v = evaluate(*results, who, w.what, w.topic, w.qos, w.retain, std::move(w.done))) {
            done(std::move(*v));
        }
    }
}

policy_authorizer::policy_authorizer(broker::authorizer& scopes,
                                     std::vector<std::shared_ptr<policy_source>> sources, offload_fn offload,
                                     const common::clock& clock, policy_authorizer_config config) {
    if (!offload) {
        throw std::invalid_argument("policy_authorizer: an offload executor is required");
    }
    for (const auto& s : sources) {
        if (!s) {
            throw std::invalid_argument("policy_authorizer: null policy source");
        }
    }
    impl_ = std::make_shared<impl>(scopes, std::move(sources), std::move(offload), clock, config);
}

policy_authorizer::~policy_authorizer() = default;

std::optional<broker::verdict> policy_authorizer::check(const broker::principal& who, broker::action what,
                                                        std::string_view topic_or_filter, std::uint8_t qos,
                                                        bool retain,
                                                        std::function<void(broker::verdict)> done) {
    auto& m = *impl_;
    std::string key = key_of(who);
    std::shared_ptr<entry> e;
    std::shared_ptr<const result_set> cached;
    bool post = false;
    {
        std::lock_guard lock(m.mutex);
        auto found = m.entries.find(key);
        if (found != m.entries.end()) {
            e = found->second;
            m.lru.splice(m.lru.begin(), m.lru, e->lru);
        } else {
            e = std::make_shared<entry>();
            m.lru.push_front(key);
            e->lru = m.lru.begin();
            m.entries.emplace(std::move(key), e);
        }
        if (m.fresh(*e, m.clock.steady_now())) {
            ++m.stats.cache_hits;
            cached = e->results;
        } else {
            queue(m, *e, waiter{what, std::string(topic_or_filter), qos, retain, std::move(done)}, post);
        }
    }
    if (cached) {
        // Evaluated outside the lock: the result set is immutable and shared.
        return m.evaluate(*cached, who, what, topic_or_filter, qos, retain, std::move(done));
    }
    if (post) {
        // The principal is copied: the session may end before the load does.
        m.offload([self = impl_, e, who_copy = who] { self->load(e, who_copy); });
    }
    return std::nullopt;
}

void policy_authorizer::invalidate() {
    std::lock_guard lock(impl_->mutex);
    // A loading entry is detached too: the load holds it and answers the checks queued on it, but a
    // later check finds no entry and loads afresh (the running load may have read the old rules).
    impl_->entries.clear();
    impl_->lru.clear();
}

policy_stats policy_authorizer::stats() const {
    std::lock_guard lock(impl_->mutex);
    return impl_->stats;
}

std::size_t policy_authorizer::cache_entries() const {
    std::lock_guard lock(impl_->mutex);
    return impl_->entries.size();
}

}  // namespace tollgate::auth
