#include <tollgate/oauth/rate_limit.hpp>

namespace tollgate::oauth {

bool rate_limiter::locked(const std::string& key) const {
    std::lock_guard lock(mutex_);
    auto it = entries_.find(key);
    return it != entries_.end() && clock_->steady_now() < it->second.locked_until;
}

bool rate_limiter::record_failure(const std::string& key) {
    std::lock_guard lock(mutex_);
    const auto now = clock_->steady_now();
    auto it = entries_.find(key);
    if (it == entries_.end()) {
        if (entries_.size() >= policy_.max_keys) {
            make_room(now);
        }
        it = entries_.emplace(key, entry{0, now, {}}).first;
    }
    auto& e = it->second;
    if (now - e.window_start > policy_.window) {
        e.failures = 0;
        e.window_start = now;
    }
    ++e.failures;
    if (e.failures >= policy_.max_failures && now >= e.locked_until) {
        e.locked_until = now + policy_.lockout;
        e.failures = 0;
        e.window_start = now;
        return true;
    }
    return false;
}

void rate_limiter::record_success(const std::string& key) {
    std::lock_guard lock(mutex_);
    auto it = entries_.find(key);
    if (it != entries_.end() && clock_->steady_now() >= it->second.locked_until) {
        entries_.erase(it);
    }
}

std::size_t rate_limiter::size() const {
    std::lock_guard lock(mutex_);
    return entries_.size();
}

void rate_limiter::make_room(common::steady_time now) {
    for (auto it = entries_.begin(); it != entries_.end();) {
        const bool window_over = now - it->second.window_start > policy_.window;
        if (window_over && now >= it->second.locked_until) {
            it = entries_.erase(it);
        } else {
            ++it;
        }
    }
    if (entries_.size() < policy_.max_keys) {
        return;
    }
    auto victim = entries_.end();
    for (auto it = entries_.begin(); it != entries_.end(); ++it) {
        const bool is_locked = now < it->second.locked_until;
        if (victim == entries_.end() ||
            (!is_locked &&
             (now < victim->second.locked_until || it->second.window_start < victim->second.window_start))) {
            victim = it;
        }
    }
    if (victim != entries_.end()) {
        entries_.erase(victim);
    }
}

}  // namespace tollgate::oauth
