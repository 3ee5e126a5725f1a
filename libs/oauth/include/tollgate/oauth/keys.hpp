#pragma once
// Signing keys of the authorization server.
//
// Design: keys live in storage (oauth_signing_keys) with their PKCS#8 PEM sealed by AES-256-GCM
// under the key-encryption key derived from the server key file, so a copy of the database alone
// reveals no private key. Exactly one key is active (retired_at = 0) and signs new access tokens;
// rotate() makes a new active key and retires the others with keep_until = now + the longest
// access-token lifetime, so every token they signed still verifies from the JWKS until it expires
// (then the janitor deletes them). The parsed keys are cached in memory and re-read from storage
// when older than refresh_period, so a rotation by `tollgate admin key rotate` in another process
// is picked up.
// Errors: throws std::runtime_error if a stored key cannot be unsealed (wrong key file) or parsed;
// store::error from storage. Thread-safety: all members are thread-safe.
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <tollgate/common/clock.hpp>
#include <tollgate/jose/key.hpp>
#include <tollgate/jose/key_set.hpp>
#include <tollgate/oauth/crypto.hpp>
#include <tollgate/oauth/storage.hpp>

namespace tollgate::oauth {

class key_manager {
  public:
    key_manager(storage& db, const server_keys& keys, const common::clock& clock, jose::algorithm default_alg,
                std::chrono::seconds max_token_ttl);

    struct signer {
        jose::key key;
        jose::algorithm alg;
    };
    /// The active signing key; creates one (default_alg) if storage has none.
    [[nodiscard]] signer active();
    /// The public keys to publish: active and retired-but-kept ones.
    [[nodiscard]] std::shared_ptr<const jose::key_set> public_keys();
    /// {"keys":[...]} for /jwks.
    [[nodiscard]] std::string jwks_json();
    /// Makes a new active key (alg), retires the others with overlap. Returns the new kid.
    std::string rotate(jose::algorithm alg);
    std::string rotate() { return rotate(default_alg_); }
    /// Re-reads storage on the next call.
    void invalidate();

    std::chrono::seconds refresh_period{30};

  private:
    struct cache {
        std::vector<signer> published;  ///< active first
        bool has_active = false;
        common::steady_time loaded_at{};
        std::shared_ptr<const jose::key_set> set;
        std::string jwks;
    };
    std::shared_ptr<const cache> current();
    std::shared_ptr<const cache> load();
    signing_key_record make_key(jose::algorithm alg);

    storage* db_;
    const server_keys* keys_;
    const common::clock* clock_;
    jose::algorithm default_alg_;
    std::chrono::seconds max_token_ttl_;
    std::mutex mutex_;
    std::shared_ptr<const cache> cache_;
};

}  // namespace tollgate::oauth
