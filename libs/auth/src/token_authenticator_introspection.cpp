// token_authenticator: opaque tokens accepted through RFC 7662 introspection, and the registry of
// per-token re-check states shared by every session of a token (see token_authenticator.hpp,
// "Introspection").
#include <algorithm>

#include <tollgate/auth/claim_mapping.hpp>

#include "token_authenticator_impl.hpp"

namespace tollgate::auth {

bool token_authenticator::impl::rechecks(const issuer_config& ic) {
    return ic.introspection && ic.recheck.interval.count() > 0;
}

const token_authenticator::impl::issuer_state* token_authenticator::impl::issuer_named(
    std::string_view name) const {
    for (const auto& st : issuers) {
        if (st->config.issuer == name) {
            return st.get();
        }
    }
    return nullptr;
}

introspection_expectations token_authenticator::impl::expectations(const issuer_state& st,
                                                                   bool opaque) const {
    introspection_expectations e;
    e.issuer = st.config.issuer;
    e.audiences = st.config.audiences;
    e.leeway = config.leeway;
    e.require_exp = opaque;
    return e;
}

std::shared_ptr<token_recheck> token_authenticator::impl::recheck_state(const issuer_state& st,
                                                                        const detail::token_ref& tok,
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

void token_authenticator::impl::prune_registry() {
    const std::size_t high = std::max<std::size_t>(1024, 2 * config.cache_size);
    if (registry.size() <= high) {
        return;
    }
    const auto now = clock.unix_seconds();
    std::erase_if(registry, [now](const auto& e) {
        return e.second.until <= now || (e.second.state.use_count() == 1 && !e.second.state->inactive());
    });
}

std::function<void(const introspection_result&)> token_authenticator::impl::notify_inactive(
    const std::shared_ptr<token_recheck>& state) const {
    if (!config.on_inactive) {
        return {};
    }
    return [handler = config.on_inactive,
            weak = std::weak_ptr<token_recheck>(state)](const introspection_result& r) {
        if (r.state != introspection_result::verdict::inactive) {
            return;
        }
        if (auto s = weak.lock()) {
            handler(s);
        }
    };
}

std::shared_ptr<token_recheck> token_authenticator::impl::find_recheck(const std::string& key) {
    std::lock_guard lock(registry_mutex);
    auto it = registry.find(key);
    return it == registry.end() ? nullptr : it->second.state;
}

void token_authenticator::impl::authenticate_opaque(auth_request req,
                                                    std::optional<common::shared_bytes> cert,
                                                    common::shared_bytes token, std::string key,
                                                    std::string fingerprint,
                                                    std::function<void(auth_result)> done) {
    if (auto known = find_recheck(key); known && known->inactive()) {  // no need to ask again
        done(fail(req, reason_code::bad_user_name_or_password, detail::invalid_token,
                  "token no longer active (introspection)", nullptr, fingerprint));
        return;
    }
    if (auto hit = opaque_cache.get(key)) {
        const auto& e = static_cast<const detail::opaque_entry&>(*hit);
        if (clock.unix_seconds() < e.reuse_until) {
            ++cache_hits;
            const detail::token_ref tok{token.as_string_view(), key, fingerprint, e.exp, e.fetched_at};
            done(finish(req, cert, std::move(hit), tok));
            return;
        }
        opaque_cache.erase(key);
    }
    ++introspections;
    const auto started = clock.steady_now();
    const auto& client = *opaque_issuer->config.introspection;
    client.introspect(token.as_string_view(), [self = weak_from_this(), req = std::move(req),
                                               cert = std::move(cert), token, key = std::move(key),
                                               fingerprint = std::move(fingerprint), started,
                                               done = std::move(done)](introspection_result r) {
        auto me = self.lock();
        if (!me) {  // the authenticator is gone: fail closed
            auth_result gone;
            gone.reason = reason_code::server_unavailable;
            gone.reason_string = "server shutting down";
            gone.detail = "authenticator shut down during introspection";
            done(std::move(gone));
            return;
        }
        done(me->introspected(req, cert, token.as_string_view(), key, fingerprint, started, std::move(r)));
    });
}

broker::auth_result token_authenticator::impl::introspected(const auth_request& req,
                                                            const std::optional<common::shared_bytes>& cert,
                                                            std::string_view token, const std::string& key,
                                                            const std::string& fingerprint,
                                                            common::steady_time started,
                                                            introspection_result r) {
    const issuer_state& st = *opaque_issuer;
    const auto now = clock.unix_seconds();
    auto failed = check_introspected(r, expectations(st, true), now);
    auto known = find_recheck(key);  // live sessions of this token learn the fresh verdict too
    if (failed) {
        if (known && r.state != introspection_result::verdict::unavailable) {
            known->mark_inactive();
            if (config.on_inactive) {
                config.on_inactive(known);  // the token's live sessions end now, not at their next packet
            }
        }
        return fail(req, reason_code::bad_user_name_or_password, detail::invalid_token,
                    "introspection: " + *failed, nullptr, fingerprint);
    }
    if (known) {
        known->mark_fresh(started);
    }
    auto e = std::make_shared<detail::opaque_entry>();
    e->issuer = st.config.issuer;
    e->subject = r.sub;
    e->jti = r.jti;
    e->client_id = r.client_id;
    e->exp = r.exp.value_or(0);
    e->nbf = r.nbf;
    e->iat = r.iat;
    e->scopes = st.config.scope_claim == "scope" ? std::move(r.scopes)
                                                 : scopes_from_claims(r.claims, st.config.scope_claim);
    e->claims = std::move(r.claims);
    e->fingerprint = fingerprint;
    e->fetched_at = started;
    e->reuse_until = e->exp + config.leeway.count();
    if (rechecks(st.config)) {
        e->reuse_until = std::min(e->reuse_until, now + st.config.recheck.interval.count());
    }
    opaque_cache.put(key, e);
    const detail::token_ref tok{token, key, fingerprint, e->exp, started};
    return finish(req, cert, std::move(e), tok);
}

}  // namespace tollgate::auth
