#pragma once
// The state of one MQTT session (§4.1): what survives the network connection. It lives on exactly
// one worker (the one in handle->worker) and moves, whole, to another worker when a client takes
// it over from a connection there. Everything here is touched only on that worker.
//
//   queue      messages waiting to be sent (FIFO per session; QoS 0 ones too while connected)
//   inflight   QoS 1/2 messages sent and not completed (see inflight.hpp)
//   awaiting   QoS 2 packet ids received, PUBREC sent, PUBREL not yet seen
//   will       the will of the current/last connection, with its delay
//   timers     session expiry and will delay, armed only while no connection is attached
// handle->queued counts queue + inflight + reservations (session_handle.hpp).
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>

#include <tollgate/broker/auth.hpp>
#include <tollgate/broker/message.hpp>
#include <tollgate/broker/session_handle.hpp>
#include <tollgate/mqtt/reason_code.hpp>

#include "inflight.hpp"
#include "timer_wheel.hpp"

namespace tollgate::broker {

class mqtt_connection;

/// A will as given in CONNECT; turned into a message when it is published (its Message Expiry
/// Interval starts then).
struct will_state {
    message msg;  ///< expires_at unset; publisher fields set
    std::optional<std::uint32_t> message_expiry_interval;
    std::uint32_t delay = 0;  ///< Will Delay Interval, seconds
};

class session {
  public:
    session(std::shared_ptr<session_handle> h, mqtt::protocol_version v, std::uint32_t expiry)
        : handle(std::move(h)), version(v), expiry_interval(expiry) {}

    [[nodiscard]] std::uint64_t id() const noexcept { return handle->id; }

    std::shared_ptr<session_handle> handle;
    mqtt::protocol_version version;
    std::uint32_t expiry_interval;  ///< seconds, already capped; 0: ends with its connection
    std::shared_ptr<const principal> who;

    std::deque<outbound_message> queue;
    std::size_t queued_bytes = 0;     ///< payload bytes in `queue`
    std::uint64_t next_sequence = 0;  ///< for persistence::message_enqueued
    outbound_window inflight;
    inbound_qos2 awaiting_pubrel;
    std::optional<will_state> will;

    timer_wheel::timer_id expiry_timer = 0;
    timer_wheel::timer_id will_timer = 0;
    mqtt_connection* conn = nullptr;  ///< the attached connection, same worker, or null
};

}  // namespace tollgate::broker
