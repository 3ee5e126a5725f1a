// token_authenticator: issuer selection, per-issuer verifiers, the unknown-kid key refresh and the
// cold verification of a JWT (see token_authenticator.hpp, "Unknown kid").
#include <spdlog/spdlog.h>

#include <tollgate/auth/claim_mapping.hpp>
#include <tollgate/common/secret.hpp>

#include "token_authenticator_impl.hpp"

namespace tollgate::auth {

namespace {

/// The unverified "iss" of a compact JWS, only to pick which issuer's keys and policy to use.
std::optional<std::string> peek_issuer(std::string_view token, const jose::token_limits& limits) {
    auto claims = jose::unverified_claims(token, limits);
    if (!claims) {
        return std::nullopt;
    }
    return detail::string_member(*claims, "iss");
}

}  // namespace

token_authenticator::impl::issuer_state* token_authenticator::impl::find_issuer(std::string_view token) {
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

std::shared_ptr<const jose::verifier> token_authenticator::impl::verifier_for(issuer_state& st) {
    auto keys = st.config.keys->current();
    std::lock_guard lock(st.mutex);
    if (!st.verifier || st.keys != keys) {
        jose::validation_policy policy;
        policy.allowed_algs = st.config.allowed_algs;
        policy.issuers = {st.config.issuer};
        policy.audiences = st.config.audiences;
        policy.leeway = config.leeway;
        policy.require_exp = true;
        if (st.config.max_token_lifetime.count() > 0) {
            policy.max_lifetime = st.config.max_token_lifetime;
        }
        if (st.config.require_at_jwt) {
            policy.expected_typ = "at+jwt";
        }
        policy.limits = limits;
        st.verifier = std::make_shared<const jose::verifier>(keys, std::move(policy), clock);
        st.keys = std::move(keys);
    }
    return st.verifier;
}

bool token_authenticator::impl::when_refreshed(issuer_state& st, std::function<void()> then) {
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

void token_authenticator::impl::refreshed(issuer_state& st) {
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

token_authenticator::impl::outcome token_authenticator::impl::verify(std::string_view token) {
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
    t->cnf_x5t_s256 = r->cnf_x5t_s256();
    t->claims = r->claims();
    t->scopes = scopes_from_claims(t->claims, st->config.scope_claim);
    t->fingerprint = common::secret_fingerprint(token);
    out.token = std::move(t);
    return out;
}

void token_authenticator::impl::verify_cold(const std::shared_ptr<cold_request>& p, bool first_attempt) {
    auto out = verify(p->token.as_string_view());
    if (!out.token) {
        if (first_attempt && out.unknown_key != nullptr &&
            when_refreshed(*out.unknown_key, [me = shared_from_this(), p] { me->verify_cold(p, false); })) {
            return;
        }
        p->done(fail(p->req, out.reason, detail::invalid_token, out.check, nullptr, p->fingerprint));
        return;
    }
    cache.put(p->key, out.token);
    const detail::token_ref tok{p->token.as_string_view(), p->key, p->fingerprint, out.token->exp,
                                std::nullopt};
    p->done(finish(p->req, p->cert, std::move(out.token), tok));
}

}  // namespace tollgate::auth
