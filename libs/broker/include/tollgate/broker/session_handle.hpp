#pragma once
// The part of a session that other threads may look at. The subscription index of every worker
// holds these; the session's state itself lives on exactly one worker thread and is reached by
// posting to `worker` with the session id.
// Thread-safety: `id` and `client_id` are immutable; the atomics may be read from any thread.
// `worker` and `connected` are written only by the owning worker. `queued` counts the messages the
// session holds (waiting + in flight) plus those routed to it and not yet arrived: a publisher's
// worker adds one when it routes a message (a reservation), the owning worker subtracts one when
// the message leaves (acknowledged, sent at QoS 0, dropped). `waiters` is the backpressure list:
// closures that wake paused publishers when `queued` falls below the limit (broker.hpp states the
// queue-full policy); guarded by `waiters_mutex`.
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace tollgate::broker {

struct session_handle : std::enable_shared_from_this<session_handle> {
    session_handle(std::uint64_t session_id, std::string client, std::uint32_t owner_worker)
        : id(session_id), client_id(std::move(client)), worker(owner_worker) {}

    const std::uint64_t id;              ///< unique for the life of the process, never reused
    const std::string client_id;         ///< the MQTT client identifier
    std::atomic<std::uint32_t> worker;   ///< the worker that owns the session state now
    std::atomic<bool> connected{false};  ///< a network connection is attached
    /// The session has ended for good (set once, before its removal is broadcast): replicas ignore
    /// late subscribe broadcasts for it and routers skip it.
    std::atomic<bool> ended{false};
    std::atomic<std::uint32_t> queued{0};  ///< messages waiting or in flight (backpressure signal)

    std::mutex waiters_mutex;
    std::vector<std::function<void()>> waiters;  ///< guarded by waiters_mutex
    std::atomic<bool> has_waiters{false};        ///< waiters is non-empty (checked without the lock)
};

}  // namespace tollgate::broker
