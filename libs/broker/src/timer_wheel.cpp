#include "timer_wheel.hpp"

#include <algorithm>
#include <utility>

namespace tollgate::broker {

timer_wheel::timer_wheel(common::steady_time start, std::chrono::milliseconds resolution, std::size_t slots)
    : origin_(start)
    , resolution_(std::max(resolution, std::chrono::milliseconds{1}))
    , slots_(std::max<std::size_t>(slots, 1)) {}

std::int64_t timer_wheel::tick_of(common::steady_time t) const {
    if (t <= origin_) {
        return 0;
    }
    return static_cast<std::int64_t>((t - origin_) / resolution_);
}

timer_wheel::timer_id timer_wheel::schedule(common::steady_time deadline, std::function<void()> fn) {
    const timer_id id = next_id_++;
    // A deadline in the past or in the current tick goes into the next bucket to be processed.
    const std::int64_t tick = std::max(tick_of(deadline), current_tick_ + 1);
    slots_[static_cast<std::size_t>(tick) % slots_.size()].push_back(id);
    entries_.emplace(id, entry{deadline, std::move(fn)});
    return id;
}

bool timer_wheel::cancel(timer_id id) {
    return entries_.erase(id) > 0;
}

std::size_t timer_wheel::advance(common::steady_time now) {
    const std::int64_t target = tick_of(now);
    std::vector<std::function<void()>> due;
    if (target > current_tick_) {  // buckets current+1 .. target
        // Passing more than one turn visits each bucket once: every timer is checked by deadline.
        const std::int64_t turns =
            std::min<std::int64_t>(target - current_tick_, static_cast<std::int64_t>(slots_.size()));
        for (std::int64_t i = 1; i <= turns; ++i) {
            auto& bucket = slots_[static_cast<std::size_t>(current_tick_ + i) % slots_.size()];
            std::size_t kept = 0;
            for (const timer_id id : bucket) {
                auto it = entries_.find(id);
                if (it == entries_.end()) {
                    continue;  // cancelled
                }
                if (it->second.deadline <= now) {
                    due.push_back(std::move(it->second.fn));
                    entries_.erase(it);
                } else {
                    bucket[kept++] = id;  // a later turn
                }
            }
            bucket.resize(kept);
        }
        // The target bucket may still hold timers due later within its tick: visit it again next time.
        current_tick_ = target - 1;
    }
    for (auto& fn : due) {
        fn();
    }
    return due.size();
}

}  // namespace tollgate::broker
