#include "inflight.hpp"

#include <algorithm>

namespace tollgate::broker {

std::optional<std::uint16_t> outbound_window::allocate_id() {
    if (entries_.size() >= 65535) {
        return std::nullopt;
    }
    for (;;) {
        const std::uint16_t id = next_id_;
        next_id_ = next_id_ == 65535 ? 1 : static_cast<std::uint16_t>(next_id_ + 1);
        if (entries_.count(id) == 0) {
            return id;
        }
    }
}

void outbound_window::add(std::uint16_t id, outbound_message out, stage at) {
    entries_[id] = entry{std::move(out), at, ++sequence_};
}

outbound_window::entry* outbound_window::find(std::uint16_t id) {
    auto it = entries_.find(id);
    return it == entries_.end() ? nullptr : &it->second;
}

bool outbound_window::erase(std::uint16_t id) {
    return entries_.erase(id) > 0;
}

std::vector<std::uint16_t> outbound_window::in_send_order() const {
    std::vector<std::pair<std::uint64_t, std::uint16_t>> order;
    order.reserve(entries_.size());
    for (const auto& [id, e] : entries_) {
        order.emplace_back(e.sequence, id);
    }
    std::sort(order.begin(), order.end());
    std::vector<std::uint16_t> ids;
    ids.reserve(order.size());
    for (const auto& [seq, id] : order) {
        ids.push_back(id);
    }
    return ids;
}

std::size_t inbound_qos2::expire(common::steady_time cutoff) {
    return static_cast<std::size_t>(
        std::erase_if(ids_, [cutoff](const auto& kv) { return kv.second <= cutoff; }));
}

}  // namespace tollgate::broker
