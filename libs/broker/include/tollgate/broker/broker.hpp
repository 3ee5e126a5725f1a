#pragma once
// The MQTT 3.1.1 / 5.0 broker, sans-I/O. The host accepts network connections, hands each to
// accept() with its transport, feeds received bytes to connection::on_bytes() and calls tick() on
// every worker about every 100 ms. The broker answers through transport::send/close/abort and runs
// its own work through executor::post. docs/adr/0003-broker-threading.md explains the threading;
// docs/architecture.md draws the path of a PUBLISH.
//
// Queue-full policy: a session holds at most max_queued_messages (waiting + in flight). A QoS 0
// message for a full session is dropped and counted (stats().dropped_queue_full). A QoS 1/2
// message is never dropped once its publisher was acknowledged: the broker checks the targets
// before acknowledging, and while any QoS>0 target is full it pauses the publishing connection
// (stops reading it; its PUBLISH stays unacknowledged) until that target drains, woken by a post
// from the target's worker. Memory is therefore bounded by the limit plus one message per paused
// publisher (and per worker racing the check).
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>

#include <tollgate/broker/auth.hpp>
#include <tollgate/broker/config.hpp>
#include <tollgate/broker/executor.hpp>
#include <tollgate/broker/persistence.hpp>
#include <tollgate/broker/transport.hpp>
#include <tollgate/common/clock.hpp>
#include <tollgate/mqtt/reason_code.hpp>

namespace tollgate::broker {

/// One network connection as the broker sees it. Returned by broker::accept(); every call on the
/// worker thread given to accept(). Holding the shared_ptr after on_closed() is harmless.
class connection {
  public:
    virtual ~connection();
    /// Bytes read from the transport, any split. May send, close or pause reading before it returns.
    virtual void on_bytes(std::span<const std::uint8_t> data) = 0;
    /// The transport's queue became empty (queued_bytes() == 0).
    virtual void on_drained() = 0;
    /// The transport closed (by the peer, an error, or after our close()/abort()). Idempotent.
    virtual void on_closed() = 0;
};

/// Counters, read with relaxed atomics (a consistent-enough view for metrics).
struct broker_stats {
    std::uint64_t connections = 0;         ///< open network connections
    std::uint64_t sessions = 0;            ///< sessions, connected or not
    std::uint64_t messages_received = 0;   ///< PUBLISH packets accepted from clients
    std::uint64_t messages_sent = 0;       ///< PUBLISH packets sent to clients
    std::uint64_t dropped_queue_full = 0;  ///< QoS 0 messages dropped for a full session queue
    std::uint64_t dropped_too_large = 0;   ///< messages over a subscriber's Maximum Packet Size
    std::uint64_t dropped_expired = 0;     ///< messages whose Message Expiry Interval ran out
    std::uint64_t publishers_paused = 0;   ///< times a publisher was paused by backpressure
    std::uint64_t retained = 0;            ///< retained messages (worker 0's replica)
};

class broker {
  public:
    /// `exec`, `clock`, `authn`, `authz` and `store` must outlive the broker. Restores state from
    /// `store`. Throws std::invalid_argument naming the field if `config.validate()` fails.
    broker(broker_config config, executor& exec, const common::clock& clock, authenticator& authn,
           authorizer& authz, persistence& store);
    ~broker();
    broker(const broker&) = delete;
    broker& operator=(const broker&) = delete;

    /// A new network connection on `worker`. Call from that worker's thread. The connection must
    /// send CONNECT within connect_timeout.
    std::shared_ptr<connection> accept(unsigned worker, std::shared_ptr<transport> t, connection_info info);

    /// Drives timers (keep alive, connect timeout, session expiry, will delay, token expiry,
    /// PUBREL wait) of `worker`. Call from that worker's thread, every ~100 ms.
    void tick(unsigned worker);

    /// Refuses new connections; MQTT 5 clients get DISCONNECT 0x8B, 3.1.1 clients are closed.
    /// `done` runs (on some worker) once every worker has closed its connections (their queued
    /// bytes flush in the transport's close()). Any thread.
    void begin_shutdown(std::function<void()> done);

    /// Ends every connected session whose principal matches: v5 DISCONNECT `reason` with
    /// `reason_string`, v3.1.1 close. Their wills are not published (the auth layer calls this when
    /// a session's token is revoked or no longer active). `match` runs on worker threads. Any thread.
    void end_sessions(std::function<bool(const principal&)> match, mqtt::reason_code reason,
                      std::string reason_string);

    [[nodiscard]] broker_stats stats() const;

    struct impl;

  private:
    std::unique_ptr<impl> impl_;
};

}  // namespace tollgate::broker
