// token_authenticator: remembered revocations (one access token by jti; every token of a client or
// subject issued at or before the revocation) and token_authenticator::revoke (see
// token_authenticator.hpp).
#include "token_authenticator_impl.hpp"

namespace tollgate::auth {

bool token_authenticator::impl::is_revoked(const detail::cached_token& t) {
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
            it->issuer == t.issuer &&
            (it->what == revocation::kind::client ? t.client_id == it->value : subject_of(t) == it->value);
        if (same && iat <= it->revoked_at) {
            return true;
        }
        ++it;
    }
    return false;
}

void token_authenticator::impl::remember(revocation r) {
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

}  // namespace tollgate::auth
