#pragma once
// Everything one worker thread owns: its sessions, its replicas of the subscription index and
// the retained store, its timer wheel, its connections. docs/adr/0003-broker-threading.md.
//
// Replication: a SUBSCRIBE, UNSUBSCRIBE, session end or retained change is applied to the local
// replica at once and posted to every other worker, which applies it in its own time. A PUBLISH is
// matched against the publisher's worker's replica only; its targets are grouped by the worker
// that owns them and each group is posted once (router.cpp).
// Thread-safety: every member is used only on this worker's thread, except `index`, which is
// constant.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include <tollgate/broker/message.hpp>
#include <tollgate/broker/retained_store.hpp>
#include <tollgate/broker/subscription_index.hpp>

#include "session.hpp"
#include "timer_wheel.hpp"

namespace tollgate::broker {

struct broker_impl;
class mqtt_connection;

/// A message routed to one session on another (or the same) worker.
struct routed {
    std::shared_ptr<session_handle> to;
    outbound_message out;
};

class worker {
  public:
    worker(broker_impl& b, unsigned index);
    worker(const worker&) = delete;
    worker& operator=(const worker&) = delete;

    broker_impl& b;
    const unsigned index;
    subscription_index subs;
    retained_store retained;
    timer_wheel wheel;
    std::unordered_map<std::uint64_t, std::unique_ptr<session>> sessions;
    std::unordered_map<std::uint64_t, std::weak_ptr<mqtt_connection>> connections;
    bool shutting_down = false;

    [[nodiscard]] session* find_session(std::uint64_t id);

    // --- routing (router.cpp) ---
    enum class route_result { done, blocked };
    /// Matches `msg` and posts it to every target's worker. If a QoS>0 target is full, nothing is
    /// sent, `wake` is registered on that target and `blocked` is returned (the caller pauses its
    /// publisher and calls route() again when woken). `matched` receives the number of targets.
    /// With `may_block` false (wills) full targets get the message anyway (over the limit by at
    /// most one message per will).
    route_result route(const std::shared_ptr<const message>& msg, const std::function<void()>& wake,
                       std::size_t& matched, bool may_block);
    /// On the target worker: hands each message to its session (forwarding any whose session moved).
    void deliver(std::vector<routed> batch);
    /// Gives a session a message without a prior reservation (retained messages on subscribe).
    void enqueue_local(session& s, outbound_message out);
    /// The session's holdings fell by `n` messages: update the counter, wake paused publishers.
    void release(session_handle& h, std::uint32_t n);

    // --- replication (worker.cpp); subscribe_everywhere returns true for a new subscription ---
    bool subscribe_everywhere(const std::string& filter, const std::shared_ptr<session_handle>& h,
                              const subscription_options& opts);
    bool unsubscribe_everywhere(const std::string& filter, std::uint64_t session_id);
    void remove_session_everywhere(std::uint64_t session_id);
    void retain_everywhere(const std::shared_ptr<const message>& msg);

    // --- session life (session.cpp) ---
    /// The connection of `s` is gone. Publishes or schedules the will (if `with_will`), then ends the
    /// session (expiry 0) or arms its expiry timer.
    void session_disconnected(session& s, bool with_will);
    /// Ends a session: pending will, subscriptions everywhere, registry, persistence, waiters.
    void end_session(std::uint64_t id);
    /// Publishes the session's will now (through the authorizer) and forgets it.
    void publish_will(session& s);
    /// Removes `id` from this worker (for a move); cancels its timers. Null if absent.
    std::unique_ptr<session> detach_session(std::uint64_t id);
    /// Answers a CONNECT that wants to resume session `id` (possibly forwarded here): kicks its
    /// connection with 0x8E and moves the session to `to_worker`, or reports that it is gone. A
    /// session of another identity than `who` (issuer, subject) is ended instead and reported gone
    /// (broker_config::resume_requires_same_subject).
    void take_over(const std::shared_ptr<session_handle>& h, unsigned to_worker,
                   std::weak_ptr<mqtt_connection> requester, std::shared_ptr<const principal> who);
    /// Adopts a moved session and attaches the waiting connection, if still there.
    void adopt(std::unique_ptr<session> s, std::weak_ptr<mqtt_connection> requester);
    /// Kicks the connection of session `id` (0x8E) and ends the session (takeover with clean start).
    void kick_and_end(const std::shared_ptr<session_handle>& h);
    /// Registers `wake` on a full session; runs it at once if the session is no longer full.
    void wait_for(session_handle& h, const std::function<void()>& wake);
    /// Runs (and forgets) every waiter of `h`.
    static void wake_all(session_handle& h);
    /// Queues a message in a session present on this worker (no reservation change). A QoS>0
    /// message for a persistent session is reported to persistence when it wants messages.
    void enqueue(session& s, outbound_message out);
    /// The message left the session (acknowledged by PUBACK/PUBREC or dropped): tells persistence.
    void message_done(session& s, outbound_message& out);

    /// The encoded header of the last message sent at QoS 0 without alias, subscription identifier
    /// or expiry: identical for every such subscriber of one protocol version, so a fan-out encodes
    /// it once per (version, retain flag) and every subscriber shares the bytes.
    struct header_cache {
        std::shared_ptr<const message> msg;
        common::shared_bytes header[2][2];  ///< [v5][retain]
        std::size_t size[2][2] = {};        ///< encoded size of the whole packet, 0 = not yet
    } qos0_headers;

    std::vector<delivery_target> match_scratch;
    std::vector<std::vector<routed>> batch_scratch;
};

}  // namespace tollgate::broker
