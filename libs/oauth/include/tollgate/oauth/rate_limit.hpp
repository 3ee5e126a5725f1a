#pragma once
// Failure counting with lockout, for password logins (per user and per address) and device user
// code entry (per address): after max_failures failures within window, the key is locked for
// lockout. A success clears the key's failures.
//
// Design: a hash map key -> {failures, window start, locked until} under a mutex, bounded by
// max_keys: when full, expired entries are dropped first, then the entry with the oldest window
// (never a locked one while an unlocked one exists). In-process only: with several server nodes
// each enforces its own limit.
// Thread-safety: all members are thread-safe.
#include <chrono>
#include <cstddef>
#include <mutex>
#include <string>
#include <unordered_map>

#include <tollgate/common/clock.hpp>

namespace tollgate::oauth {

class rate_limiter {
  public:
    struct policy {
        int max_failures = 5;
        std::chrono::seconds window{15 * 60};
        std::chrono::seconds lockout{15 * 60};
        std::size_t max_keys = 100'000;
    };

    rate_limiter(policy p, const common::clock& clock) : policy_(p), clock_(&clock) {}

    /// True while key is locked out.
    [[nodiscard]] bool locked(const std::string& key) const;
    /// Counts a failure; returns true when this failure locked the key.
    bool record_failure(const std::string& key);
    void record_success(const std::string& key);
    [[nodiscard]] std::size_t size() const;

  private:
    struct entry {
        int failures = 0;
        common::steady_time window_start{};
        common::steady_time locked_until{};
    };
    void make_room(common::steady_time now);

    policy policy_;
    const common::clock* clock_;
    mutable std::mutex mutex_;
    std::unordered_map<std::string, entry> entries_;
};

}  // namespace tollgate::oauth
