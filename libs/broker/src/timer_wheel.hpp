#pragma once
// A hashed timing wheel: every timer of one worker (connect timeouts, keep alive, session expiry,
// will delay, token expiry, PUBREL waits) in one structure, driven by advance() from tick().
//
// Layout: `slots_` ring of N buckets, each covering `resolution_`; a timer due at tick t sits in
// bucket t % N with its absolute deadline, so deadlines further than one turn away simply stay in
// their bucket until a turn reaches them. `entries_` maps id -> {deadline, callback}; cancel()
// erases from that map only (O(1)) and the bucket's stale id is skipped when its turn comes.
// schedule O(1), cancel O(1), advance O(buckets passed + timers in them).
// Callbacks run inside advance() after being removed, so they may schedule or cancel freely.
// Thread-safety: none; one wheel per worker.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <unordered_map>
#include <vector>

#include <tollgate/common/clock.hpp>

namespace tollgate::broker {

class timer_wheel {
  public:
    using timer_id = std::uint64_t;  ///< never 0; 0 means "no timer"

    timer_wheel(common::steady_time start,
                std::chrono::milliseconds resolution = std::chrono::milliseconds{100},
                std::size_t slots = 1024);

    /// Runs `fn` at the first advance() whose `now` >= deadline (a past deadline: the next advance).
    timer_id schedule(common::steady_time deadline, std::function<void()> fn);
    /// Cancels; unknown or already fired ids are ignored. Returns whether a timer was cancelled.
    bool cancel(timer_id id);
    /// Fires every timer whose deadline <= now; returns how many fired.
    std::size_t advance(common::steady_time now);
    [[nodiscard]] std::size_t size() const noexcept { return entries_.size(); }

  private:
    struct entry {
        common::steady_time deadline;
        std::function<void()> fn;
    };
    [[nodiscard]] std::int64_t tick_of(common::steady_time t) const;

    common::steady_time origin_;
    std::chrono::milliseconds resolution_;
    std::vector<std::vector<timer_id>> slots_;
    std::unordered_map<timer_id, entry> entries_;
    std::int64_t current_tick_ = 0;  ///< every bucket up to this tick has been processed
    timer_id next_id_ = 1;
};

}  // namespace tollgate::broker
