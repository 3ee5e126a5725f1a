// The publish path: match on the publisher's worker, group targets by owning worker, post each
// group once; backpressure for full sessions (broker.hpp states the policy).
#include <algorithm>
#include <utility>

#include "broker_impl.hpp"
#include "connection_impl.hpp"

namespace tollgate::broker {

worker::route_result worker::route(const std::shared_ptr<const message>& msg,
                                   const std::function<void()>& wake, std::size_t& matched, bool may_block) {
    match_scratch.clear();
    subs.match(msg->topic, msg->publisher_session_id, match_scratch);
    matched = match_scratch.size();
    const std::uint32_t limit = b.config.max_queued_messages;
    if (may_block) {
        // Check every QoS>0 target before touching any: all or nothing, so a retried PUBLISH is
        // never delivered twice to the targets that had room.
        for (const auto& t : match_scratch) {
            session_handle& h = *t.subscriber;
            if (std::min(msg->qos, t.qos) > 0 && !h.ended.load() && h.queued.load() >= limit) {
                wait_for(h, wake);
                return route_result::blocked;
            }
        }
    }
    batch_scratch.resize(b.workers.size());
    for (auto& t : match_scratch) {
        session_handle& h = *t.subscriber;
        const std::uint8_t qos = std::min(msg->qos, t.qos);
        if (h.ended.load()) {
            continue;
        }
        if (qos == 0 && h.queued.load() >= limit) {
            b.counters.dropped_queue_full.fetch_add(1, std::memory_order_relaxed);
            continue;
        }
        h.queued.fetch_add(1);  // the reservation, undone by the owner when the message leaves
        routed r;
        r.to = h.shared_from_this();
        r.out.msg = msg;
        r.out.qos = qos;
        r.out.retain = t.retain_as_published && msg->retain;  // [MQTT-3.3.1-12], [MQTT-3.3.1-13]
        r.out.subscription_identifiers = std::move(t.subscription_identifiers);
        batch_scratch[h.worker.load() % batch_scratch.size()].push_back(std::move(r));
    }
    for (unsigned i = 0; i < batch_scratch.size(); ++i) {
        if (batch_scratch[i].empty()) {
            continue;
        }
        auto batch = std::move(batch_scratch[i]);
        batch_scratch[i].clear();
        if (i == index) {
            deliver(std::move(batch));
        } else {
            b.post(i, [batch = std::move(batch)](worker& w) mutable { w.deliver(std::move(batch)); });
        }
    }
    return route_result::done;
}

void worker::deliver(std::vector<routed> batch) {
    std::vector<std::vector<routed>> forward;
    for (auto& r : batch) {
        if (session* s = find_session(r.to->id)) {
            enqueue(*s, std::move(r.out));
            continue;
        }
        const unsigned owner = r.to->worker.load();
        if (owner != index && !r.to->ended.load()) {
            forward.resize(b.workers.size());
            forward[owner % forward.size()].push_back(std::move(r));  // the session moved: follow it
            continue;
        }
        release(*r.to, 1);  // the session is gone
    }
    for (unsigned i = 0; i < forward.size(); ++i) {
        if (!forward[i].empty()) {
            b.post(i, [batch = std::move(forward[i])](worker& w) mutable { w.deliver(std::move(batch)); });
        }
    }
}

void worker::enqueue(session& s, outbound_message out) {
    const std::size_t size = out.msg->payload.size();
    if (out.qos == 0 && (s.conn == nullptr || s.queued_bytes + size > b.config.max_queued_bytes)) {
        // QoS 0 is not kept for a disconnected session, nor past the byte limit.
        if (s.conn != nullptr) {
            b.counters.dropped_queue_full.fetch_add(1, std::memory_order_relaxed);
        }
        release(*s.handle, 1);
        return;
    }
    s.queued_bytes += size;
    if (out.qos > 0 && s.expiry_interval > 0 && b.store.wants_messages()) {
        out.sequence = ++s.next_sequence;
        b.store.message_enqueued(s.handle->client_id, out.sequence, *out.msg);
    }
    s.queue.push_back(std::move(out));
    if (s.conn != nullptr) {
        s.conn->pump();
    }
}

void worker::message_done(session& s, outbound_message& out) {
    if (out.sequence != 0) {
        b.store.message_acked(s.handle->client_id, out.sequence);
        out.sequence = 0;
    }
}

void worker::enqueue_local(session& s, outbound_message out) {
    s.handle->queued.fetch_add(1);
    enqueue(s, std::move(out));
}

void worker::release(session_handle& h, std::uint32_t n) {
    const std::uint32_t before = h.queued.fetch_sub(n);
    const std::uint32_t now = before >= n ? before - n : 0;
    const std::uint32_t limit = b.config.max_queued_messages;
    // Wake at a low-water mark, not at every slot, so paused publishers resume in batches.
    const std::uint32_t low = limit - std::max<std::uint32_t>(1, limit / 4);
    if (h.has_waiters.load() && now <= low) {
        wake_all(h);
    }
}

void worker::wait_for(session_handle& h, const std::function<void()>& wake) {
    {
        std::lock_guard<std::mutex> lock(h.waiters_mutex);
        h.waiters.push_back(wake);
        h.has_waiters.store(true);
    }
    // The owner may have drained between our check and the registration: look again.
    if (h.queued.load() < b.config.max_queued_messages || h.ended.load()) {
        wake_all(h);
    }
}

void worker::wake_all(session_handle& h) {
    std::vector<std::function<void()>> waiters;
    {
        std::lock_guard<std::mutex> lock(h.waiters_mutex);
        waiters.swap(h.waiters);
        h.has_waiters.store(false);
    }
    for (auto& fn : waiters) {
        fn();  // each only posts to its publisher's worker
    }
}

}  // namespace tollgate::broker
