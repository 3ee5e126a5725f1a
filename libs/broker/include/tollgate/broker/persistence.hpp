#pragma once
// Where session state goes to survive a restart (a later issue adds SQLite/PostgreSQL). The broker
// reports changes as events and asks for a snapshot once, at construction (restore()).
// Events are reported from worker threads, possibly several at once: implementations are
// thread-safe and must not block (queue the write, batch it on their own thread).
// memory_persistence keeps the latest state in memory (sessions already live in memory; it makes
// the event stream observable in tests and lets a broker object be rebuilt from a predecessor's
// state in the same process).
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <tollgate/broker/message.hpp>
#include <tollgate/broker/subscription_index.hpp>
#include <tollgate/mqtt/reason_code.hpp>

namespace tollgate::broker {

/// The durable part of a session: who, how long it lives, what it subscribed.
struct session_record {
    std::string client_id;
    mqtt::protocol_version version = mqtt::protocol_version::v5;
    std::uint32_t expiry_interval = 0;  ///< seconds, after the cap of max_session_expiry
    std::vector<std::pair<std::string, subscription_options>> subscriptions;
};

struct persistence_snapshot {
    std::vector<session_record> sessions;
    std::vector<std::shared_ptr<const message>> retained;
};

class persistence {
  public:
    virtual ~persistence();
    /// A session with expiry > 0 was created or changed its expiry/protocol (subscriptions are
    /// reported separately). Sessions with expiry 0 are never reported: they die with their
    /// connection.
    virtual void session_saved(const session_record& record) = 0;
    virtual void session_removed(std::string_view client_id) = 0;
    virtual void subscription_added(std::string_view client_id, std::string_view filter,
                                    const subscription_options& options) = 0;
    virtual void subscription_removed(std::string_view client_id, std::string_view filter) = 0;
    /// A QoS 1/2 message was queued for a persistent session / left it (PUBACK, PUBREC, or dropped as
    /// expired or too large for the client). `sequence` is
    /// unique per session. Called only when wants_messages() is true (the hot path otherwise pays
    /// nothing).
    [[nodiscard]] virtual bool wants_messages() const = 0;
    virtual void message_enqueued(std::string_view client_id, std::uint64_t sequence, const message& msg) = 0;
    virtual void message_acked(std::string_view client_id, std::uint64_t sequence) = 0;
    virtual void retained_set(const std::shared_ptr<const message>& msg) = 0;
    virtual void retained_cleared(std::string_view topic) = 0;
    /// The state to start from. Called once by the broker constructor. Session expiry restarts from
    /// the full interval (the downtime is not counted).
    virtual persistence_snapshot restore() = 0;
};

/// Keeps sessions, subscriptions and retained messages in maps under one mutex (not on the publish
/// path: only session, subscription and retained changes are recorded; wants_messages() is false).
class memory_persistence final : public persistence {
  public:
    void session_saved(const session_record& record) override;
    void session_removed(std::string_view client_id) override;
    void subscription_added(std::string_view client_id, std::string_view filter,
                            const subscription_options& options) override;
    void subscription_removed(std::string_view client_id, std::string_view filter) override;
    [[nodiscard]] bool wants_messages() const override { return false; }
    void message_enqueued(std::string_view client_id, std::uint64_t sequence, const message& msg) override;
    void message_acked(std::string_view client_id, std::uint64_t sequence) override;
    void retained_set(const std::shared_ptr<const message>& msg) override;
    void retained_cleared(std::string_view topic) override;
    persistence_snapshot restore() override;

    /// Current contents, for tests and inspection.
    [[nodiscard]] persistence_snapshot snapshot() const;

  private:
    struct stored_session {
        session_record record;  ///< subscriptions are kept in `subs`
        std::map<std::string, subscription_options, std::less<>> subs;
    };
    mutable std::mutex mutex_;
    std::map<std::string, stored_session, std::less<>> sessions_;
    std::map<std::string, std::shared_ptr<const message>, std::less<>> retained_;
};

}  // namespace tollgate::broker
