// Worker basics and the replication of subscriptions and retained messages to every worker.
#include <utility>

#include "broker_impl.hpp"

namespace tollgate::broker {

worker::worker(broker_impl& broker, unsigned i) : b(broker), index(i), wheel(broker.clock.steady_now()) {}

session* worker::find_session(std::uint64_t id) {
    auto it = sessions.find(id);
    return it == sessions.end() ? nullptr : it->second.get();
}

bool worker::subscribe_everywhere(const std::string& filter, const std::shared_ptr<session_handle>& h,
                                  const subscription_options& opts) {
    const bool added = subs.subscribe(filter, h, opts) == subscription_index::subscribe_result::added;
    b.post_others(index, [filter, h, opts](worker& w) {
        if (!h->ended.load()) {  // a late broadcast for a session already gone leaves nothing behind
            w.subs.subscribe(filter, h, opts);
        }
    });
    return added;
}

bool worker::unsubscribe_everywhere(const std::string& filter, std::uint64_t session_id) {
    const bool existed = subs.unsubscribe(filter, session_id);
    b.post_others(index, [filter, session_id](worker& w) { w.subs.unsubscribe(filter, session_id); });
    return existed;
}

void worker::remove_session_everywhere(std::uint64_t session_id) {
    subs.remove_session(session_id);
    b.post_others(index, [session_id](worker& w) { w.subs.remove_session(session_id); });
}

void worker::retain_everywhere(const std::shared_ptr<const message>& msg) {
    auto apply = [msg](worker& w) {
        if (msg->payload.empty()) {
            w.retained.clear(msg->topic);
        } else {
            w.retained.set(msg);
        }
        if (w.index == 0) {
            w.b.counters.retained.store(w.retained.size(), std::memory_order_relaxed);
        }
    };
    apply(*this);
    b.post_others(index, apply);
    if (msg->payload.empty()) {
        b.store.retained_cleared(msg->topic);
    } else {
        b.store.retained_set(msg);
    }
}

}  // namespace tollgate::broker
