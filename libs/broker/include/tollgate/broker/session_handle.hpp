#pragma once
// The part of a session that other threads may look at. The subscription index of every worker
// holds these; the session's state itself lives on exactly one worker thread and is reached by
// posting to `worker` with the session id.
// Thread-safety: `id` and `client_id` are immutable; the atomics may be read from any thread and
// are written only by the owning worker.
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

namespace tollgate::broker {

struct session_handle : std::enable_shared_from_this<session_handle> {
    session_handle(std::uint64_t session_id, std::string client, std::uint32_t owner_worker)
        : id(session_id), client_id(std::move(client)), worker(owner_worker) {}

    const std::uint64_t id;       ///< unique for the life of the process, never reused
    const std::string client_id;  ///< the MQTT client identifier
    std::atomic<std::uint32_t> worker;        ///< the worker that owns the session state now
    std::atomic<bool> connected{false};       ///< a network connection is attached
    std::atomic<std::uint32_t> queued{0};     ///< messages waiting or in flight (backpressure signal)
};

}  // namespace tollgate::broker
