// token_authenticator: token extraction, verification with issuer selection and key refresh, the
// verified-token cache, per-connection checks and the principal (see token_authenticator.hpp).
#include <algorithm>
#include <atomic>
#include <deque>
#include <mutex>
#include <stdexcept>
#include <unordered_map>
#include <utility>
#include <vector>

#include <spdlog/spdlog.h>

#include <tollgate/auth/token_authenticator.hpp>
#include <tollgate/common/log.hpp>
#include <tollgate/common/secret.hpp>
#include <tollgate/jose/base64url.hpp>
#include <tollgate/jose/json.hpp>
#include <tollgate/jose/jwt.hpp>
#include <tollgate/jose/key.hpp>

#include "token_cache.hpp"

namespace tollgate::auth {

namespace bj = boost::json;
using broker::auth_request;
using broker::auth_result;
using mqtt::reason_code;

key_source::~key_source() = default;

std::shared_ptr<const jose::key_set> function_key_source::current() {
    auto set = get_ ? get_() : nullptr;
    return set ? set : std::make_shared<const jose::key_set>();
}

bool function_key_source::refresh() {
    if (!reload_) {
        return false;
    }
    reload_();
    return true;
}

namespace {

/// The deleter type marks a principal context as ours (context_of checks it with get_deleter).
struct session_context_deleter {
    void operator()(const session_context* p) const noexcept { delete p; }
};

constexpr std::string_view invalid_token = "invalid token";

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
struct opaque_entry : detail::cached_token {
    std::int64_t reuse_until = 0;      ///< Unix seconds: min(exp + leeway, fetched + recheck interval)
    common::steady_time fetched_at{};  ///< when the request was sent (the verdict's age)
};

/// A compact JWS has exactly two '.' (RFC 7515 §7.1); anything else is an opaque token.
bool looks_like_jws(std::string_view token) {
    return std::count(token.begin(), token.end(), '.') == 2;
}
constexpr std::string_view not_accepted = "token not accepted for this connection";

std::optional<std::string> string_member(const bj::object& o, std::string_view name) {
    if (const auto* v = o.if_contains(name); v != nullptr && v->is_string()) {
        return std::string(v->as_string());
    }
    return std::nullopt;
}

/// The unverified "iss" of a compact JWS, only to pick which issuer's keys and policy to use.
std::optional<std::string> peek_issuer(std::string_view token, const jose::token_limits& limits) {
    auto parsed = jose::parse_compact(token, limits);
    if (!parsed) {
        return std::nullopt;
    }
    std::string json;
    if (!jose::base64url_decode_append(parsed->payload_b64(), json)) {
        return std::nullopt;
    }
    auto claims = jose::parse_json_object(json, limits.claims_json);
    if (!claims) {
        return std::nullopt;
    }
    return string_member(*claims, "iss");
}

}  // namespace

const session_context* context_of(const broker::principal& who) noexcept {
    if (who.context == nullptr || std::get_deleter<session_context_deleter>(who.context) == nullptr) {
        return nullptr;
    }
    return static_cast<const session_context*>(who.context.get());
}

struct token_authenticator::impl : std::enable_shared_from_this<token_authenticator::impl> {
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

    impl(token_auth_config c, const common::clock& clk)
        : config(std::move(c)), clock(clk), cache(config.cache_size), opaque_cache(config.cache_size) {
        for (auto& ic : config.issuers) {
            if (ic.issuer.empty() || (!ic.keys && !ic.opaque_tokens)) {
                throw std::invalid_argument("auth issuer needs a name and a key source");
            }
            if (ic.opaque_tokens && !ic.introspection) {
                throw std::invalid_argument("auth issuer " + ic.issuer +
                                            ": opaque tokens need introspection");
            }
            auto st = std::make_unique<issuer_state>();
            st->config = ic;
            if (!st->config.keys) {
                st->config.keys = std::make_shared<static_key_source>(jose::key_set{});
            }
            if (st->config.audiences.empty()) {
                st->config.audiences.push_back(config.audience);
            }
            if (ic.opaque_tokens) {
                if (opaque_issuer != nullptr) {
                    throw std::invalid_argument("only one auth issuer may accept opaque tokens");
                }
                opaque_issuer = st.get();
            }
            issuers.push_back(std::move(st));
        }
        limits.max_token_bytes = config.max_token_bytes;
    }

    issuer_state* find_issuer(std::string_view token) {
        if (issuers.size() == 1) {
            return issuers.front().get();
        }
        auto iss = peek_issuer(token, limits);
        if (!iss) {
            return nullptr;
        }
        for (auto& st : issuers) {
            if (st->config.issuer == *iss) {
                return st.get();
            }
        }
        return nullptr;
    }

    std::shared_ptr<const jose::verifier> verifier_for(issuer_state& st) {
        auto keys = st.config.keys->current();
        std::lock_guard lock(st.mutex);
        if (!st.verifier || st.keys != keys) {
            jose::validation_policy policy;
            policy.allowed_algs = st.config.allowed_algs;
            policy.issuers = {st.config.issuer};
            policy.audiences = st.config.audiences;
            policy.leeway = config.leeway;
            policy.require_exp = true;
            if (st.config.require_at_jwt) {
                policy.expected_typ = "at+jwt";
            }
            policy.limits = limits;
            st.verifier = std::make_shared<const jose::verifier>(keys, std::move(policy), clock);
            st.keys = std::move(keys);
        }
        return st.verifier;
    }

    /// After an unknown kid: runs `then` once the issuer's keys were refreshed (joining a refresh in
    /// flight), or returns false (then never calls it) when no refresh is allowed now: outside the
    /// rate-limit window with none in flight, or too many waiters. `then` runs inline (synchronous
    /// sources) or on the thread that completes the key source's refresh.
    bool when_refreshed(issuer_state& st, std::function<void()> then) {
        const auto now = clock.steady_now();
        {
            std::lock_guard lock(st.mutex);
            if (st.refreshing) {
                if (st.waiting.size() >= config.max_unknown_kid_waiters) {
                    return false;
                }
                st.waiting.push_back(std::move(then));
                return true;
            }
            if (st.last_refresh && now - *st.last_refresh < config.unknown_kid_refresh_interval) {
                return false;
            }
            st.last_refresh = now;
            st.refreshing = true;
            st.waiting.push_back(std::move(then));
        }
        ++key_refreshes;
        // The callback holds the authenticator until the source answers (an HTTP fetch: bounded by
        // its timeout), so waiting CONNECTs are always answered.
        if (!st.config.keys->refresh_async([me = shared_from_this(), &st] { me->refreshed(st); })) {
            st.config.keys->refresh();  // synchronous source (or an asynchronous one that declined)
            refreshed(st);
        }
        return true;
    }

    void refreshed(issuer_state& st) {
        std::vector<std::function<void()>> ready;
        {
            std::lock_guard lock(st.mutex);
            st.refreshing = false;
            ready = std::exchange(st.waiting, {});
        }
        for (auto& then : ready) {
            if (config.offload) {
                config.offload(std::move(then));
            } else {
                then();
            }
        }
    }

    outcome verify(std::string_view token) {
        outcome out;
        issuer_state* st = find_issuer(token);
        if (st == nullptr) {
            out.check = "unknown or missing issuer";
            return out;
        }
        ++verifications;
        auto v = verifier_for(*st);
        auto r = v->verify(token);
        if (!r) {
            out.check = r.error().message();
            if (r.error() == jose::errc::unknown_kid || r.error() == jose::errc::no_matching_key) {
                out.unknown_key = st;
            }
            return out;
        }
        auto t = std::make_shared<detail::cached_token>();
        t->issuer = st->config.issuer;
        t->subject = r->sub().value_or(std::string{});
        t->jti = r->jti().value_or(std::string{});
        t->client_id = r->client_id().value_or(std::string{});
        t->exp = r->exp().value_or(0);
        t->nbf = r->nbf();
        t->iat = r->iat();
        t->scopes = r->scope();
        t->cnf_x5t_s256 = r->cnf_x5t_s256();
        t->claims = r->claims();
        t->fingerprint = common::secret_fingerprint(token);
        out.token = std::move(t);
        return out;
    }

    /// exp / nbf against the clock, for a cached entry (the verifier checked them when it was cold).
    [[nodiscard]] bool still_valid(const detail::cached_token& t) const {
        const auto now = clock.unix_seconds();
        const auto leeway = config.leeway.count();
        if (now >= t.exp + leeway) {
            return false;
        }
        return !t.nbf || now + leeway >= *t.nbf;
    }

    std::optional<std::string> binding_value(const detail::cached_token& t) const {
        switch (config.binding) {
            case client_id_binding::none:
                return std::nullopt;
            case client_id_binding::client_id_claim:
                return t.client_id;
            case client_id_binding::subject:
                return t.subject;
            case client_id_binding::claim:
                return string_member(t.claims, config.binding_claim).value_or(std::string{});
        }
        return std::nullopt;
    }

    /// Checks tied to this connection; returns the failed check or nullopt.
    std::optional<std::string> connection_checks(const detail::cached_token& t, const auth_request& req,
                                                 const std::optional<common::shared_bytes>& cert) const {
        if (auto want = binding_value(t); want && (want->empty() || *want != req.client_id)) {
            return "client id not bound to the token";
        }
        if (t.cnf_x5t_s256) {  // RFC 8705 §3: the token is bound to a certificate
            if (!cert) {
                return "certificate-bound token without a client certificate";
            }
            auto thumb = jose::x5t_s256(cert->span());
            if (!thumb || !common::constant_time_equal(*thumb, *t.cnf_x5t_s256)) {
                return "client certificate does not match cnf.x5t#S256";
            }
        }
        if (req.kind == auth_request::step::reauthenticate && req.current &&
            (req.current->issuer != t.issuer || req.current->subject != subject_of(t))) {
            return "re-authentication changes the issuer or subject";
        }
        return std::nullopt;
    }

    static std::string subject_of(const detail::cached_token& t) {
        return t.subject.empty() ? t.client_id : t.subject;
    }

    std::shared_ptr<const broker::principal> make_principal(const detail::cached_token& t,
                                                            const auth_request& req,
                                                            std::shared_ptr<token_recheck> recheck) {
        auto ctx = std::unique_ptr<session_context>(new session_context);
        substitution_values values;
        values.client_id = req.client_id;
        values.subject = subject_of(t);
        values.username = req.username;
        values.claim = [&t](std::string_view name) { return string_member(t.claims, name); };
        std::vector<std::pair<std::string, std::string>> dropped;
        ctx->permissions = permission_set::compile(t.scopes, t.claims, values, config.scopes, &dropped);
        for (const auto& [scope, why] : dropped) {
            log->info("auth: scope '{}' of jti={} ignored: {}", scope, t.jti, why);
        }
        ctx->token_client_id = t.client_id;
        ctx->jti = t.jti;
        ctx->scopes = t.scopes;
        ctx->claims = std::make_shared<const boost::json::object>(t.claims);
        ctx->recheck = std::move(recheck);
        auto who = std::make_shared<broker::principal>();
        who->client_id = req.client_id;
        who->username = req.username;
        who->subject = subject_of(t);
        who->issuer = t.issuer;
        who->token_id = t.jti.empty() ? "fp:" + t.fingerprint : t.jti;
        who->expires_at = common::system_time(std::chrono::seconds(t.exp) + config.leeway);
        who->expiry_reason = reason_code::maximum_connect_time;  // 0xA0: distinct from 0x87 and 0x98
        who->expiry_reason_string = "token expired";
        who->context = std::shared_ptr<const session_context>(ctx.release(), session_context_deleter{});
        return who;
    }

    auth_result fail(const auth_request& req, reason_code code, std::string_view reason_string,
                     std::string_view check, const detail::cached_token* t, std::string_view fingerprint) {
        ++failures;
        if (req.kind == auth_request::step::reauthenticate) {
            code = reason_code::not_authorized;  // 0x86 is not a DISCONNECT reason code
        }
        log->warn("auth: refused client_id='{}' step={} check='{}' jti={} sub={} token_fp={}", req.client_id,
                  static_cast<int>(req.kind), check, t != nullptr ? t->jti : "-",
                  t != nullptr ? t->subject : "-", fingerprint.empty() ? "-" : fingerprint);
        auth_result r;
        r.result = auth_result::outcome::failure;
        r.reason = code;
        r.reason_string = std::string(reason_string);
        r.detail = std::string(check);
        return r;
    }

    /// Is the token covered by a remembered revocation? Prunes expired entries as it goes.
    bool is_revoked(const detail::cached_token& t) {
        const auto now = clock.unix_seconds();
        std::lock_guard lock(revoked_mutex);
        if (!t.jti.empty()) {
            if (auto it = revoked_jtis.find(t.issuer + '\n' + t.jti); it != revoked_jtis.end()) {
                if (it->second.until > now) {
                    return true;
                }
                revoked_jtis.erase(it);
            }
        }
        const std::int64_t iat = t.iat.value_or(0);  // no iat: treated as issued long ago
        for (auto it = revoked_other.begin(); it != revoked_other.end();) {
            if (it->until <= now) {
                it = revoked_other.erase(it);
                continue;
            }
            const bool same =
                it->issuer == t.issuer && (it->what == revocation::kind::client ? t.client_id == it->value
                                                                                : subject_of(t) == it->value);
            if (same && iat <= it->revoked_at) {
                return true;
            }
            ++it;
        }
        return false;
    }

    void remember(revocation r) {
        const auto now = clock.unix_seconds();
        if (r.revoked_at == 0) {
            r.revoked_at = now;
        }
        if (r.until == 0) {
            r.until = r.revoked_at + config.revocation_memory.count();
        }
        std::lock_guard lock(revoked_mutex);
        if (r.what == revocation::kind::access_token) {
            if (revoked_jtis.size() >= config.max_revocations) {
                std::erase_if(revoked_jtis, [now](const auto& e) { return e.second.until <= now; });
            }
            if (revoked_jtis.size() >= config.max_revocations && !revoked_jtis.empty()) {
                revoked_jtis.erase(revoked_jtis.begin());
            }
            revoked_jtis[r.issuer + '\n' + r.value] = r;
        } else {
            if (revoked_other.size() >= config.max_revocations) {
                revoked_other.erase(revoked_other.begin());
            }
            revoked_other.push_back(std::move(r));
        }
    }

    auth_result finish(const auth_request& req, const std::optional<common::shared_bytes>& cert,
                       std::shared_ptr<const detail::cached_token> t, const token_ref& tok) {
        const std::string& fingerprint = tok.fingerprint;
        if (is_revoked(*t)) {
            return fail(req, reason_code::bad_user_name_or_password, invalid_token, "token revoked", t.get(),
                        fingerprint);
        }
        if (auto failed = connection_checks(*t, req, cert)) {
            return fail(req, reason_code::not_authorized, not_accepted, *failed, t.get(), fingerprint);
        }
        std::shared_ptr<token_recheck> recheck;
        if (const issuer_state* st = issuer_named(t->issuer); st != nullptr && rechecks(st->config)) {
            recheck = recheck_state(*st, tok, tok.verified_at.value_or(clock.steady_now()));
            switch (recheck->state(clock.steady_now())) {
                case token_recheck::status::inactive:
                    return fail(req, reason_code::bad_user_name_or_password, invalid_token,
                                "token no longer active (introspection)", t.get(), fingerprint);
                case token_recheck::status::stale:
                    recheck->start_if_due({});
                    return fail(req, reason_code::bad_user_name_or_password, invalid_token,
                                "no fresh introspection verdict within the grace", t.get(), fingerprint);
                case token_recheck::status::due:
                    recheck->start_if_due({});
                    break;
                case token_recheck::status::fresh:
                    break;
            }
        }
        ++successes;
        log->debug("auth: accepted client_id='{}' iss={} sub={} jti={}", req.client_id, t->issuer, t->subject,
                   t->jti);
        auth_result r;
        r.result = auth_result::outcome::success;
        r.who = make_principal(*t, req, std::move(recheck));
        return r;
    }

    /// A token that missed the cache, kept while its verification may wait for a key refresh.
    struct cold_request {
        auth_request req;
        std::optional<common::shared_bytes> cert;
        common::shared_bytes token;
        std::string key;
        std::string fingerprint;
        std::function<void(auth_result)> done;
    };

    /// Verifies the signature and claims; on an unknown kid (first attempt only) waits for the
    /// issuer's key refresh and tries once more, or fails at once when no refresh is allowed.
    void verify_cold(const std::shared_ptr<cold_request>& p, bool first_attempt) {
        auto out = verify(p->token.as_string_view());
        if (!out.token) {
            if (first_attempt && out.unknown_key != nullptr &&
                when_refreshed(*out.unknown_key,
                               [me = shared_from_this(), p] { me->verify_cold(p, false); })) {
                return;
            }
            p->done(fail(p->req, out.reason, invalid_token, out.check, nullptr, p->fingerprint));
            return;
        }
        cache.put(p->key, out.token);
        const token_ref tok{p->token.as_string_view(), p->key, p->fingerprint, out.token->exp, std::nullopt};
        p->done(finish(p->req, p->cert, std::move(out.token), tok));
    }

    static bool rechecks(const issuer_config& ic) {
        return ic.introspection && ic.recheck.interval.count() > 0;
    }

    const issuer_state* issuer_named(std::string_view name) const {
        for (const auto& st : issuers) {
            if (st->config.issuer == name) {
                return st.get();
            }
        }
        return nullptr;
    }

    introspection_expectations expectations(const issuer_state& st, bool opaque) const {
        introspection_expectations e;
        e.issuer = st.config.issuer;
        e.audiences = st.config.audiences;
        e.leeway = config.leeway;
        e.require_exp = opaque;
        return e;
    }

    /// The token's shared re-check state: found by the token's SHA-256, or made with `verified_at`
    /// as its last fresh verdict. Entries without a session are pruned when the registry grows,
    /// except those remembering an inactive verdict (until the token's exp).
    std::shared_ptr<token_recheck> recheck_state(const issuer_state& st, const token_ref& tok,
                                                 common::steady_time verified_at) {
        std::lock_guard lock(registry_mutex);
        auto& slot = registry[tok.key];
        if (!slot.state) {
            slot.state = std::make_shared<token_recheck>(
                std::string(tok.token), tok.fingerprint, st.config.introspection,
                expectations(st, &st == opaque_issuer), st.config.recheck, clock, verified_at);
            slot.until = tok.exp;
            prune_registry();
        }
        return slot.state;
    }

    /// Called with registry_mutex held.
    void prune_registry() {
        const std::size_t high = std::max<std::size_t>(1024, 2 * config.cache_size);
        if (registry.size() <= high) {
            return;
        }
        const auto now = clock.unix_seconds();
        std::erase_if(registry, [now](const auto& e) {
            return e.second.until <= now || (e.second.state.use_count() == 1 && !e.second.state->inactive());
        });
    }

    std::shared_ptr<token_recheck> find_recheck(const std::string& key) {
        std::lock_guard lock(registry_mutex);
        auto it = registry.find(key);
        return it == registry.end() ? nullptr : it->second.state;
    }

    /// An opaque token: a fresh cached introspection answer, else the opaque issuer's endpoint.
    void authenticate_opaque(auth_request req, std::optional<common::shared_bytes> cert,
                             common::shared_bytes token, std::string key, std::string fingerprint,
                             std::function<void(auth_result)> done) {
        if (auto known = find_recheck(key); known && known->inactive()) {  // no need to ask again
            done(fail(req, reason_code::bad_user_name_or_password, invalid_token,
                      "token no longer active (introspection)", nullptr, fingerprint));
            return;
        }
        if (auto hit = opaque_cache.get(key)) {
            const auto& e = static_cast<const opaque_entry&>(*hit);
            if (clock.unix_seconds() < e.reuse_until) {
                ++cache_hits;
                const token_ref tok{token.as_string_view(), key, fingerprint, e.exp, e.fetched_at};
                done(finish(req, cert, std::move(hit), tok));
                return;
            }
            opaque_cache.erase(key);
        }
        ++introspections;
        const auto started = clock.steady_now();
        const auto& client = *opaque_issuer->config.introspection;
        client.introspect(token.as_string_view(),
                          [self = weak_from_this(), req = std::move(req), cert = std::move(cert), token,
                           key = std::move(key), fingerprint = std::move(fingerprint), started,
                           done = std::move(done)](introspection_result r) {
                              auto me = self.lock();
                              if (!me) {  // the authenticator is gone: fail closed
                                  auth_result gone;
                                  gone.reason = reason_code::server_unavailable;
                                  gone.reason_string = "server shutting down";
                                  done(std::move(gone));
                                  return;
                              }
                              done(me->introspected(req, cert, token.as_string_view(), key, fingerprint,
                                                    started, std::move(r)));
                          });
    }

    auth_result introspected(const auth_request& req, const std::optional<common::shared_bytes>& cert,
                             std::string_view token, const std::string& key, const std::string& fingerprint,
                             common::steady_time started, introspection_result r) {
        const issuer_state& st = *opaque_issuer;
        const auto now = clock.unix_seconds();
        auto failed = check_introspected(r, expectations(st, true), now);
        auto known = find_recheck(key);  // live sessions of this token learn the fresh verdict too
        if (failed) {
            if (known && r.state != introspection_result::verdict::unavailable) {
                known->mark_inactive();
            }
            return fail(req, reason_code::bad_user_name_or_password, invalid_token,
                        "introspection: " + *failed, nullptr, fingerprint);
        }
        if (known) {
            known->mark_fresh(started);
        }
        auto e = std::make_shared<opaque_entry>();
        e->issuer = st.config.issuer;
        e->subject = r.sub;
        e->jti = r.jti;
        e->client_id = r.client_id;
        e->exp = r.exp.value_or(0);
        e->nbf = r.nbf;
        e->iat = r.iat;
        e->scopes = std::move(r.scopes);
        e->claims = std::move(r.claims);
        e->fingerprint = fingerprint;
        e->fetched_at = started;
        e->reuse_until = e->exp + config.leeway.count();
        if (rechecks(st.config)) {
            e->reuse_until = std::min(e->reuse_until, now + st.config.recheck.interval.count());
        }
        opaque_cache.put(key, e);
        const token_ref tok{token, key, fingerprint, e->exp, started};
        return finish(req, cert, std::move(e), tok);
    }

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

token_authenticator::token_authenticator(token_auth_config config, const common::clock& clock)
    : impl_(std::make_shared<impl>(std::move(config), clock)) {}

token_authenticator::~token_authenticator() = default;

void token_authenticator::authenticate(auth_request req, std::function<void(auth_result)> done) {
    auto& m = *impl_;
    if (req.kind == auth_request::step::continue_auth) {  // we never send a challenge
        done(m.fail(req, reason_code::protocol_error, "unexpected AUTH", "AUTH 0x18 without a challenge",
                    nullptr, {}));
        return;
    }
    std::optional<common::shared_bytes> token_bytes;
    if (req.method) {
        if (*req.method != "CUSTOM-JWT" && *req.method != "OAUTH2-JWT") {
            done(m.fail(req, reason_code::bad_authentication_method, "unsupported authentication method",
                        "unknown method", nullptr, {}));
            return;
        }
        token_bytes = req.data;
    } else {
        if (m.config.required_username && req.username != m.config.required_username) {
            done(m.fail(req, reason_code::bad_user_name_or_password, "bad user name or password",
                        "username is not the configured token marker", nullptr, {}));
            return;
        }
        token_bytes = req.password;
    }
    if (!token_bytes || token_bytes->size() == 0) {
        done(m.fail(req, reason_code::bad_user_name_or_password, invalid_token, "no token", nullptr, {}));
        return;
    }
    const std::string_view token = token_bytes->as_string_view();
    const std::string fingerprint = common::secret_fingerprint(token);
    if (token.size() > m.config.max_token_bytes) {
        done(m.fail(req, reason_code::bad_user_name_or_password, invalid_token, "token too large", nullptr,
                    fingerprint));
        return;
    }
    std::optional<common::shared_bytes> cert;
    if (req.connection != nullptr) {
        cert = req.connection->client_certificate_der;
    }
    req.connection = nullptr;  // valid only during this call
    const auto digest = common::sha256(token);
    std::string key(digest.begin(), digest.end());
    if (m.opaque_issuer != nullptr && !looks_like_jws(token)) {
        m.authenticate_opaque(std::move(req), std::move(cert), std::move(*token_bytes), std::move(key),
                              fingerprint, std::move(done));
        return;
    }
    if (auto hit = m.cache.get(key)) {
        if (!m.still_valid(*hit)) {
            m.cache.erase(key);
            done(m.fail(req, reason_code::bad_user_name_or_password, invalid_token, "expired (cached)",
                        hit.get(), fingerprint));
            return;
        }
        ++m.cache_hits;
        const token_ref tok{token, key, fingerprint, hit->exp, std::nullopt};
        done(m.finish(req, cert, std::move(hit), tok));
        return;
    }
    auto pending = std::make_shared<impl::cold_request>(
        impl::cold_request{std::move(req), std::move(cert), std::move(*token_bytes), std::move(key),
                           fingerprint, std::move(done)});
    if (m.config.offload) {
        m.config.offload([me = impl_, pending] { me->verify_cold(pending, true); });
    } else {
        m.verify_cold(pending, true);
    }
}

void token_authenticator::revoke(const revocation& r) {
    if (r.value.empty()) {
        return;
    }
    impl_->remember(r);
    auto matches = [&r](const detail::cached_token& t) {
        if (t.issuer != r.issuer) {
            return false;
        }
        switch (r.what) {
            case revocation::kind::access_token:
                return t.jti == r.value;
            case revocation::kind::client:
                return t.client_id == r.value;
            case revocation::kind::subject:
                return impl::subject_of(t) == r.value;
        }
        return false;
    };
    impl_->cache.erase_if(matches);
    impl_->opaque_cache.erase_if(matches);
}

auth_stats token_authenticator::stats() const {
    return auth_stats{impl_->verifications.load(), impl_->cache_hits.load(),    impl_->successes.load(),
                      impl_->failures.load(),      impl_->key_refreshes.load(), impl_->introspections.load()};
}

std::size_t token_authenticator::cache_entries() const {
    return impl_->cache.size();
}

}  // namespace tollgate::auth
