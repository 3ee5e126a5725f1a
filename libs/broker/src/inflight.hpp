#pragma once
// Per-session QoS bookkeeping.
//
// outbound_window: the QoS 1/2 messages sent to the client and not yet completed, keyed by packet
// id (std::map: ordered ids, stable entries). Each entry records its stage (awaiting PUBACK,
// PUBREC or PUBCOMP) and a send sequence number, so a resumed session resends in the original
// order [MQTT-4.6.0-1]. Packet ids are allocated by a cursor that skips ids in use; the window is
// small (at most the client's Receive Maximum, itself <= 65535), so the scan is short. size()
// counts every stage, PUBREL'd ones included, as Receive Maximum requires [MQTT-4.9.0-2].
//
// inbound_qos2: packet ids of QoS 2 PUBLISHes we received and answered with PUBREC, waiting for
// the PUBREL. A PUBLISH reusing such an id is a retransmission, not a new message (exactly once,
// [MQTT-4.3.3-10] method B: deliver on PUBLISH, remember the id until PUBREL). Each id keeps the
// time it arrived so stale ones can be dropped. Bounded by our Receive Maximum by the caller.
// Thread-safety: none; owned by one session on one worker.
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <unordered_map>
#include <utility>
#include <vector>

#include <tollgate/broker/message.hpp>
#include <tollgate/common/clock.hpp>

namespace tollgate::broker {

/// A message on its way to one subscriber, with that subscriber's view of it.
struct outbound_message {
    std::shared_ptr<const message> msg;
    std::uint8_t qos = 0;  ///< min(message QoS, granted QoS)
    bool retain = false;   ///< the RETAIN flag to send
    std::vector<std::uint32_t> subscription_identifiers;
    /// Sequence number reported to persistence::message_enqueued (0: not reported).
    std::uint64_t sequence = 0;
};

class outbound_window {
  public:
    enum class stage { awaiting_puback, awaiting_pubrec, awaiting_pubcomp };
    struct entry {
        outbound_message out;
        stage at = stage::awaiting_puback;
        std::uint64_t sequence = 0;
    };

    /// An id not in use, or nullopt when all 65535 are.
    [[nodiscard]] std::optional<std::uint16_t> allocate_id();
    /// Records `out` as sent with `id` (from allocate_id()).
    void add(std::uint16_t id, outbound_message out, stage at);
    [[nodiscard]] entry* find(std::uint16_t id);
    bool erase(std::uint16_t id);
    [[nodiscard]] std::size_t size() const noexcept { return entries_.size(); }
    [[nodiscard]] bool empty() const noexcept { return entries_.empty(); }
    /// Ids in the order their messages were first sent.
    [[nodiscard]] std::vector<std::uint16_t> in_send_order() const;
    void clear() { entries_.clear(); }

  private:
    std::map<std::uint16_t, entry> entries_;
    std::uint16_t next_id_ = 1;
    std::uint64_t sequence_ = 0;
};

class inbound_qos2 {
  public:
    [[nodiscard]] bool contains(std::uint16_t id) const { return ids_.count(id) != 0; }
    void add(std::uint16_t id, common::steady_time now) { ids_.emplace(id, now); }
    /// Forgets `id` (PUBREL); false if it was unknown.
    bool release(std::uint16_t id) { return ids_.erase(id) > 0; }
    /// Forgets every id received at or before `cutoff`; returns how many.
    std::size_t expire(common::steady_time cutoff);
    [[nodiscard]] std::size_t size() const noexcept { return ids_.size(); }
    void clear() { ids_.clear(); }

  private:
    std::unordered_map<std::uint16_t, common::steady_time> ids_;
};

}  // namespace tollgate::broker
