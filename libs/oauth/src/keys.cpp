#include <stdexcept>

#include <tollgate/jose/algorithm.hpp>
#include <tollgate/oauth/keys.hpp>

namespace tollgate::oauth {

key_manager::key_manager(storage& db, const server_keys& keys, const common::clock& clock,
                         jose::algorithm default_alg, std::chrono::seconds max_token_ttl)
    : db_(&db), keys_(&keys), clock_(&clock), default_alg_(default_alg), max_token_ttl_(max_token_ttl) {}

signing_key_record key_manager::make_key(jose::algorithm alg) {
    auto k = jose::key::generate(alg);
    auto kid = k.thumbprint();
    auto pem = k.private_pem();
    if (!pem) {
        throw std::runtime_error("cannot serialize a new signing key");
    }
    signing_key_record rec;
    rec.kid = kid;
    rec.alg = std::string(jose::algorithm_name(alg));
    rec.sealed_private_key = keys_->seal(pem.value(), kid);
    rec.created_at = clock_->unix_seconds();
    return rec;
}

std::shared_ptr<const key_manager::cache> key_manager::load() {
    auto c = std::make_shared<cache>();
    const auto now = clock_->unix_seconds();
    auto records = db_->list_signing_keys();
    // Newest active key first, then kept retired keys.
    std::vector<signer> retired;
    for (auto it = records.rbegin(); it != records.rend(); ++it) {
        const auto& r = *it;
        if (r.retired_at != 0 && r.keep_until < now) {
            continue;
        }
        auto alg = jose::algorithm_from_name(r.alg);
        auto pem = keys_->open(r.sealed_private_key, r.kid);
        if (!alg || !pem) {
            throw std::runtime_error("signing key " + r.kid +
                                     " cannot be unsealed with this server key file");
        }
        auto k = jose::key::from_pem(*pem, jose::key_options{r.kid, *alg, "sig"});
        if (!k) {
            throw std::runtime_error("signing key " + r.kid + " is corrupt");
        }
        if (r.retired_at == 0 && !c->has_active) {
            c->published.insert(c->published.begin(), signer{k.value(), *alg});
            c->has_active = true;
        } else {
            retired.push_back(signer{k.value(), *alg});
        }
    }
    for (auto& s : retired) {
        c->published.push_back(std::move(s));
    }
    jose::key_set set;
    for (const auto& s : c->published) {
        set.add(s.key);
    }
    c->jwks = set.to_json();
    c->set = std::make_shared<const jose::key_set>(std::move(set));
    c->loaded_at = clock_->steady_now();
    return c;
}

std::shared_ptr<const key_manager::cache> key_manager::current() {
    std::lock_guard lock(mutex_);
    if (!cache_ || clock_->steady_now() - cache_->loaded_at > refresh_period) {
        cache_ = load();
        if (!cache_->has_active) {
            db_->insert_signing_key(make_key(default_alg_));
            cache_ = load();
        }
    }
    return cache_;
}

key_manager::signer key_manager::active() {
    const auto c = current();
    if (c == nullptr || c->published.empty()) {
        throw std::runtime_error("no signing key");
    }
    return c->published.front();
}

std::shared_ptr<const jose::key_set> key_manager::public_keys() {
    const auto c = current();
    if (c == nullptr) {
        throw std::runtime_error("no signing key");
    }
    return c->set;
}

std::string key_manager::jwks_json() {
    const auto c = current();
    if (c == nullptr) {
        throw std::runtime_error("no signing key");
    }
    return c->jwks;
}

std::string key_manager::rotate(jose::algorithm alg) {
    auto rec = make_key(alg);
    const auto now = clock_->unix_seconds();
    db_->insert_signing_key(rec);
    db_->retire_signing_keys_except(rec.kid, now, now + max_token_ttl_.count() + 60);
    invalidate();
    return rec.kid;
}

void key_manager::invalidate() {
    std::lock_guard lock(mutex_);
    cache_.reset();
}

}  // namespace tollgate::oauth
