#pragma once
// The broker's shared context: configuration, injected services, workers, client-id registry and
// counters. One per broker; reached by reference from workers and connections (no global state).
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include <tollgate/broker/broker.hpp>
#include <tollgate/mqtt/codec.hpp>

#include "worker.hpp"

namespace tollgate::broker {

/// client id -> the handle of its session. Locked only on the CONNECT path and at session end.
class client_registry {
  public:
    struct claim_result {
        std::shared_ptr<session_handle> handle;    ///< the session to use (new or existing)
        std::shared_ptr<session_handle> replaced;  ///< an existing session to end (clean start)
        bool existing = false;                     ///< `handle` existed: resume it (take over)
    };
    /// Registers the CONNECT of `client_id`. With clean start, or when no session exists, a new
    /// handle owned by `worker` is made (and any existing one returned in `replaced`); otherwise the
    /// existing handle is returned with existing = true.
    claim_result claim(const std::string& client_id, bool clean_start, unsigned worker, std::uint64_t new_id);
    /// Installs a fresh handle for `client_id` after a takeover found the old session gone.
    std::shared_ptr<session_handle> refresh(const std::string& client_id, unsigned worker,
                                            std::uint64_t new_id);
    /// Removes the entry if it still names session `id`.
    void remove(const std::string& client_id, std::uint64_t id);
    /// Registers a restored session's handle.
    void insert(const std::shared_ptr<session_handle>& h);

  private:
    std::mutex mutex_;
    std::unordered_map<std::string, std::shared_ptr<session_handle>> map_;
};

struct broker_counters {
    std::atomic<std::uint64_t> connections{0};
    std::atomic<std::uint64_t> sessions{0};
    std::atomic<std::uint64_t> messages_received{0};
    std::atomic<std::uint64_t> messages_sent{0};
    std::atomic<std::uint64_t> dropped_queue_full{0};
    std::atomic<std::uint64_t> dropped_too_large{0};
    std::atomic<std::uint64_t> dropped_expired{0};
    std::atomic<std::uint64_t> publishers_paused{0};
    std::atomic<std::uint64_t> retained{0};
};

struct broker_impl {
    broker_impl(broker_config c, executor& e, const common::clock& k, authenticator& an, authorizer& az,
                persistence& p);

    broker_config config;
    executor& exec;
    const common::clock& clock;
    authenticator& authn;
    authorizer& authz;
    persistence& store;
    mqtt::decode_limits limits;
    std::vector<std::unique_ptr<worker>> workers;
    client_registry registry;
    broker_counters counters;
    std::atomic<std::uint64_t> next_session_id{1};
    std::atomic<std::uint64_t> next_connection_id{1};
    std::atomic<bool> shutting_down{false};

    [[nodiscard]] std::uint64_t new_session_id() { return next_session_id.fetch_add(1); }
    [[nodiscard]] worker& at(unsigned i) { return *workers[i]; }
    /// Posts `fn(worker&)` to worker `i`.
    void post(unsigned i, std::function<void(worker&)> fn);
    /// Posts `fn(worker&)` to every worker except `except`.
    void post_others(unsigned except, const std::function<void(worker&)>& fn);
};

}  // namespace tollgate::broker
