#include "token_cache.hpp"

namespace tollgate::auth::detail {

std::shared_ptr<const cached_token> token_cache::get(const std::string& key) {
    std::lock_guard lock(mutex_);
    auto it = index_.find(key);
    if (it == index_.end()) {
        return nullptr;
    }
    order_.splice(order_.begin(), order_, it->second);
    return it->second->second;
}

void token_cache::put(const std::string& key, std::shared_ptr<const cached_token> value) {
    if (capacity_ == 0) {
        return;
    }
    std::lock_guard lock(mutex_);
    if (auto it = index_.find(key); it != index_.end()) {
        it->second->second = std::move(value);
        order_.splice(order_.begin(), order_, it->second);
        return;
    }
    order_.emplace_front(key, std::move(value));
    index_.emplace(key, order_.begin());
    while (order_.size() > capacity_) {
        index_.erase(order_.back().first);
        order_.pop_back();
    }
}

void token_cache::erase(const std::string& key) {
    std::lock_guard lock(mutex_);
    if (auto it = index_.find(key); it != index_.end()) {
        order_.erase(it->second);
        index_.erase(it);
    }
}

std::size_t token_cache::erase_if(const std::function<bool(const cached_token&)>& pred) {
    std::lock_guard lock(mutex_);
    std::size_t n = 0;
    for (auto it = order_.begin(); it != order_.end();) {
        if (pred(*it->second)) {
            index_.erase(it->first);
            it = order_.erase(it);
            ++n;
        } else {
            ++it;
        }
    }
    return n;
}

std::size_t token_cache::size() const {
    std::lock_guard lock(mutex_);
    return order_.size();
}

}  // namespace tollgate::auth::detail
