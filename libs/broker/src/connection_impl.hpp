#pragma once
// The per-connection MQTT state machine (sans-I/O): bytes in through on_bytes(), packets out
// through the transport, timers on the worker's wheel.
//
// States: awaiting_connect -> authenticating (authenticator asked) <-> auth_exchange (v5 AUTH
// 0x18 round trips) -> resuming (waiting for a session taken over from another connection)
// -> connected -> closed.
// Ordering: packets are handled one at a time, in arrival order. When handling needs an answer
// from elsewhere (authenticator, authorizer, a session hand-over, backpressure), `blocked_` is set
// and reading is paused; later packets stay in the frame reader (bounded: at most what one read
// delivered plus one packet) until the answer arrives (posted to this worker) and unblock()
// resumes. Nothing ever waits on the thread.
// Files: connection.cpp (bytes, dispatch, close, keep alive, helpers), connect.cpp (CONNECT, AUTH,
// session attach), publish_in.cpp (client -> broker PUBLISH and its acks), publish_out.cpp
// (broker -> client PUBLISH, window, acks), subscribe.cpp (SUBSCRIBE, UNSUBSCRIBE).
// Thread-safety: every member function runs on the connection's worker.
#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include <tollgate/broker/broker.hpp>
#include <tollgate/mqtt/codec.hpp>
#include <tollgate/mqtt/frame_reader.hpp>
#include <tollgate/mqtt/packets.hpp>

#include "session.hpp"
#include "timer_wheel.hpp"

namespace tollgate::broker {

struct broker_impl;
class worker;

class mqtt_connection final : public connection, public std::enable_shared_from_this<mqtt_connection> {
  public:
    mqtt_connection(broker_impl& b, worker& w, std::uint64_t id, std::shared_ptr<transport> t,
                    connection_info info);
    ~mqtt_connection() override;

    void on_bytes(std::span<const std::uint8_t> data) override;
    void on_drained() override;
    void on_closed() override;

    /// Arms the connect timeout. Called once by broker::accept.
    void start();

    // --- used by the worker / session code ---
    /// Ends the connection with `reason` (v5 DISCONNECT with it, v3.1.1 close); the session sees a
    /// network loss (will rules apply) unless `reason` is a normal disconnect from our side.
    /// Ends the connection from the server side (v5 DISCONNECT `reason`). `with_will`: false when the
    /// session's credentials were withdrawn (revocation), so its will is not published.
    void kick(mqtt::reason_code reason, std::string reason_string = {}, bool with_will = true);
    /// A moved/resumed session is ready (or nullptr: start a fresh one).
    void resume_with(session* s);
    /// Sends what the session's window allows.
    void pump();
    [[nodiscard]] const std::shared_ptr<const principal>& who() const noexcept { return who_; }
    [[nodiscard]] bool is_v5() const noexcept { return version_ == mqtt::protocol_version::v5; }
    [[nodiscard]] bool is_connected() const noexcept { return state_ == state::connected; }
    /// Waiting for a session taken over from another connection (resume_with() will follow).
    [[nodiscard]] bool waiting_for_session() const noexcept {
        return !finished_ && state_ == state::resuming;
    }
    [[nodiscard]] std::uint64_t id() const noexcept { return id_; }

  private:
    enum class state { awaiting_connect, authenticating, auth_exchange, resuming, connected, closed };

    // connection.cpp
    void process();
    void block();
    void unblock();
    void handle_frame(const mqtt::frame& f);
    void dispatch(mqtt::packet& p);
    void fail(mqtt::reason_code reason, std::string reason_string = {});
    void close_transport(bool abort);
    void finish(bool with_will);
    void send_packet(const mqtt::packet& p);
    void send_bytes(common::shared_bytes bytes);
    void arm_keep_alive();
    void on_keep_alive_timer();
    [[nodiscard]] bool problem_info_allowed() const noexcept;
    void set_reason(mqtt::properties& props, const std::string& reason_string, bool always = false) const;
    /// Runs `fn` on this connection's worker later (from any thread), if the connection still exists.
    void post_self(std::function<void(mqtt_connection&)> fn);

    // connect.cpp
    void handle_connect(const mqtt::frame& f);
    /// Client id, limits and options of a decoded CONNECT; the refusal reason, if any.
    std::optional<mqtt::reason_code> check_connect(mqtt::connect& c);
    void install_will(session& s);
    [[nodiscard]] mqtt::connack make_connack(bool present);
    void refuse_oversized_connect();
    void refuse_connect(mqtt::reason_code reason, std::string reason_string = {});
    void authenticate(auth_request req);
    void on_auth_result(auth_result r);
    void handle_auth(mqtt::auth& a);
    void on_reauth_result(auth_result r);
    void claim_session();
    void complete_connect(session* s, bool present);
    void arm_principal_expiry();
    /// The principal's token expired: DISCONNECT (v5) / close, with the token-expiry policies of
    /// broker_config (will, session expiry cap).
    void end_for_token_expiry();
    void handle_disconnect(const mqtt::disconnect& d);

    // publish_in.cpp
    void handle_publish(mqtt::publish& p);
    void authorize_publish(mqtt::publish p);
    /// Acts on the authorizer's verdict for `p`: accept and route, or refuse (0x87 / v3.1.1 policy).
    void apply_publish_verdict(mqtt::publish p, const verdict& v);
    void accept_publish(mqtt::publish p);
    void route_publish(std::shared_ptr<const message> msg, std::uint8_t qos, std::uint16_t packet_id,
                       bool retain);
    void ack_publish(std::uint8_t qos, std::uint16_t packet_id, mqtt::reason_code reason,
                     std::string reason_string = {});
    void handle_pubrel(const mqtt::pubrel& p);
    [[nodiscard]] std::shared_ptr<const message> make_message(mqtt::publish& p) const;

    // publish_out.cpp
    /// Sends one message; false if it had to be dropped (too large for this client).
    bool send_publish(const outbound_message& out, std::uint16_t packet_id, bool dup);
    void resend_inflight();
    void handle_puback(const mqtt::puback& p);
    void handle_pubrec(const mqtt::pubrec& p);
    void handle_pubcomp(const mqtt::pubcomp& p);
    [[nodiscard]] std::size_t window() const noexcept;

    // subscribe.cpp
    void handle_subscribe(mqtt::subscribe s);
    void finish_subscribe(const mqtt::subscribe& s, std::vector<mqtt::reason_code> codes,
                          std::vector<std::string> reasons);
    void handle_unsubscribe(const mqtt::unsubscribe& u);
    void send_retained(const std::string& filter, const subscription_options& opts);
    /// Judges every subscription of the session again for the current principal (after a
    /// re-authentication or when a session is resumed) and removes the refused ones. True when
    /// verdicts are pending: reading is blocked and resumes by itself once they are in.
    bool reauthorize_subscriptions();

    broker_impl& b_;
    worker& w_;
    const std::uint64_t id_;
    std::shared_ptr<transport> t_;
    connection_info info_;
    mqtt::frame_reader reader_;
    state state_ = state::awaiting_connect;
    mqtt::protocol_version version_ = mqtt::protocol_version::v5;
    bool blocked_ = false;
    bool in_process_ = false;
    bool read_paused_ = false;
    bool finished_ = false;
    /// The first bytes of the stream, kept until CONNECT is framed: enough to see the packet type
    /// at once and to read the protocol level of a CONNECT that is refused as too large.
    std::array<std::uint8_t, 12> head_{};
    std::size_t head_len_ = 0;

    // CONNECT parameters
    std::optional<mqtt::connect> connect_;  ///< kept until CONNACK
    std::string client_id_;
    bool assigned_id_ = false;
    std::uint32_t requested_expiry_ = 0;
    std::uint32_t session_expiry_ = 0;
    std::optional<std::string> auth_method_;
    std::shared_ptr<const principal> who_;
    std::optional<common::shared_bytes> connack_auth_data_;
    std::uint16_t client_receive_maximum_ = 65535;
    std::uint32_t client_max_packet_size_ = 268435460;
    std::uint16_t client_topic_alias_maximum_ = 0;
    bool request_problem_information_ = true;
    std::uint16_t keep_alive_ = 0;
    bool server_keep_alive_set_ = false;

    session* session_ = nullptr;

    // timers
    timer_wheel::timer_id connect_timer_ = 0;
    timer_wheel::timer_id keep_alive_timer_ = 0;
    timer_wheel::timer_id expiry_timer_ = 0;
    common::steady_time last_activity_{};

    // topic aliases
    std::vector<std::string> aliases_in_;  ///< index = alias (1..topic_alias_maximum)
    std::unordered_map<std::string, std::uint16_t> aliases_out_;

    // backpressure: the PUBLISH waiting for a full subscriber to drain
    struct blocked_publish {
        std::shared_ptr<const message> msg;
        std::uint8_t qos;
        std::uint16_t packet_id;
        bool retain;
    };
    std::optional<blocked_publish> pending_publish_;
    /// The PUBLISH whose authorization verdict is pending (reading is blocked meanwhile).
    std::optional<mqtt::publish> publish_awaiting_verdict_;
    std::uint64_t wake_generation_ = 0;
    bool reauth_in_progress_ = false;

    std::vector<std::uint8_t> scratch_;
};

}  // namespace tollgate::broker
