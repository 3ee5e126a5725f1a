#pragma once
// tollgate::jose::key_set: a JWK Set (RFC 7517 §5) held as parsed keys.
//
// Design: a vector of immutable keys (each a shared handle); lookup is a linear scan, which is the
// fastest choice for the handful of keys a JWKS holds (max_keys bounds it). Duplicate kids are
// allowed (different kty or alg under one kid is legal); select() filters by kid *and* alg.
// Parsing follows RFC 7517 §5: keys with a kty, crv or alg we do not implement, with "use" other
// than "sig", or that are otherwise unusable are skipped (counted in skipped()), so one exotic key
// does not take down a whole issuer; a JWKS that is not JSON, not an object, lacks a "keys" array,
// or exceeds the limits is an error.
//
// Thread-safety: const member functions may run concurrently; add/remove need exclusive access.
// Share a set between threads as std::shared_ptr<const key_set> and swap the pointer to rotate.
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include <tollgate/jose/algorithm.hpp>
#include <tollgate/jose/error.hpp>
#include <tollgate/jose/json.hpp>
#include <tollgate/jose/key.hpp>

namespace tollgate::jose {

struct jwks_limits {
    std::size_t max_keys = 64;  ///< errc::too_many_keys beyond this
    json_limits json{
        .max_bytes = 512 * 1024, .max_depth = 8, .max_members = 4096, .max_string_bytes = 64 * 1024};
};

class key_set {
  public:
    key_set() = default;
    explicit key_set(std::vector<key> keys) : keys_(std::move(keys)) {}

    /// Parses a JWKS document. Errors: bad_json, json_*, duplicate_member, too_many_keys, bad_key
    /// ("keys" missing or not an array of objects). Unusable keys are skipped, not errors.
    static result<key_set> from_json(std::string_view jwks, const jwks_limits& limits = {});

    void add(key k) { keys_.push_back(std::move(k)); }
    /// Removes every key with this kid; returns how many were removed.
    std::size_t remove(std::string_view kid);

    [[nodiscard]] const std::vector<key>& keys() const noexcept { return keys_; }
    [[nodiscard]] std::size_t size() const noexcept { return keys_.size(); }
    [[nodiscard]] bool empty() const noexcept { return keys_.empty(); }
    /// Number of JWKs skipped by from_json().
    [[nodiscard]] std::size_t skipped() const noexcept { return skipped_; }

    /// The first key with exactly this kid (bytewise) that allows alg, or nullptr.
    [[nodiscard]] const key* find(std::string_view kid, algorithm alg) const noexcept;
    /// Every key that allows alg (for tokens without kid), in set order.
    [[nodiscard]] std::vector<const key*> candidates(algorithm alg) const;
    /// True if some key has this kid (whatever its algorithm).
    [[nodiscard]] bool has_kid(std::string_view kid) const noexcept;

    /// {"keys":[...]} with public members only; oct keys are left out (they are never published).
    [[nodiscard]] std::string to_json() const;

  private:
    std::vector<key> keys_;
    std::size_t skipped_ = 0;
};

}  // namespace tollgate::jose
