// The client-id registry: one mutex, taken only on the CONNECT path and when a session ends.
#include "broker_impl.hpp"

namespace tollgate::broker {

client_registry::claim_result client_registry::claim(const std::string& client_id, bool clean_start,
                                                     unsigned worker, std::uint64_t new_id) {
    std::lock_guard<std::mutex> lock(mutex_);
    claim_result out;
    auto it = map_.find(client_id);
    if (it != map_.end() && !clean_start) {
        out.handle = it->second;
        out.existing = true;
        return out;
    }
    out.handle = std::make_shared<session_handle>(new_id, client_id, worker);
    if (it != map_.end()) {
        out.replaced = std::move(it->second);
        it->second = out.handle;
    } else {
        map_.emplace(client_id, out.handle);
    }
    return out;
}

std::shared_ptr<session_handle> client_registry::refresh(const std::string& client_id, unsigned worker,
                                                         std::uint64_t new_id) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto h = std::make_shared<session_handle>(new_id, client_id, worker);
    map_[client_id] = h;
    return h;
}

void client_registry::remove(const std::string& client_id, std::uint64_t id) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = map_.find(client_id);
    if (it != map_.end() && it->second->id == id) {
        map_.erase(it);
    }
}

void client_registry::insert(const std::shared_ptr<session_handle>& h) {
    std::lock_guard<std::mutex> lock(mutex_);
    map_[h->client_id] = h;
}

}  // namespace tollgate::broker
