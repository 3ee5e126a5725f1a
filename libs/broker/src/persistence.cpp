// memory_persistence: the latest session, subscription and retained state, under one mutex.
#include <tollgate/broker/persistence.hpp>

namespace tollgate::broker {

void memory_persistence::session_saved(const session_record& record) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto& s = sessions_[record.client_id];
    s.record.client_id = record.client_id;
    s.record.version = record.version;
    s.record.expiry_interval = record.expiry_interval;
}

void memory_persistence::session_removed(std::string_view client_id) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (auto it = sessions_.find(client_id); it != sessions_.end()) {
        sessions_.erase(it);
    }
}

void memory_persistence::subscription_added(std::string_view client_id, std::string_view filter,
                                            const subscription_options& options) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (auto it = sessions_.find(client_id); it != sessions_.end()) {
        it->second.subs[std::string(filter)] = options;
    }
}

void memory_persistence::subscription_removed(std::string_view client_id, std::string_view filter) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (auto it = sessions_.find(client_id); it != sessions_.end()) {
        if (auto sub = it->second.subs.find(filter); sub != it->second.subs.end()) {
            it->second.subs.erase(sub);
        }
    }
}

void memory_persistence::message_enqueued(std::string_view, std::uint64_t, const message&) {}
void memory_persistence::message_acked(std::string_view, std::uint64_t) {}

void memory_persistence::retained_set(const std::shared_ptr<const message>& msg) {
    std::lock_guard<std::mutex> lock(mutex_);
    retained_[msg->topic] = msg;
}

void memory_persistence::retained_cleared(std::string_view topic) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (auto it = retained_.find(topic); it != retained_.end()) {
        retained_.erase(it);
    }
}

persistence_snapshot memory_persistence::snapshot() const {
    std::lock_guard<std::mutex> lock(mutex_);
    persistence_snapshot out;
    for (const auto& [id, s] : sessions_) {
        session_record r = s.record;
        for (const auto& [filter, opts] : s.subs) {
            r.subscriptions.emplace_back(filter, opts);
        }
        out.sessions.push_back(std::move(r));
    }
    for (const auto& [topic, m] : retained_) {
        out.retained.push_back(m);
    }
    return out;
}

persistence_snapshot memory_persistence::restore() {
    return snapshot();
}

}  // namespace tollgate::broker
