// Bytes in, dispatch, close, keep alive and small helpers of mqtt_connection (connection_impl.hpp).
#include <algorithm>
#include <utility>
#include <variant>

#include <tollgate/broker/error_mapping.hpp>

#include "broker_impl.hpp"
#include "connection_impl.hpp"

namespace tollgate::broker {

mqtt_connection::mqtt_connection(broker_impl& b, worker& w, std::uint64_t id, std::shared_ptr<transport> t,
                                 connection_info info)
    : b_(b)
    , w_(w)
    , id_(id)
    , t_(std::move(t))
    , info_(std::move(info))
    , reader_(b.config.max_packet_size_before_connect) {}

mqtt_connection::~mqtt_connection() = default;

void mqtt_connection::start() {
    last_activity_ = b_.clock.steady_now();
    std::weak_ptr<mqtt_connection> weak = weak_from_this();
    connect_timer_ = w_.wheel.schedule(last_activity_ + b_.config.connect_timeout, [weak] {
        if (auto c = weak.lock()) {
            c->connect_timer_ = 0;
            if (c->state_ != state::connected && !c->finished_) {
                // B1-1/B1-2: the deadline covers the whole CONNECT (and its authentication).
                c->close_transport(true);
                c->finish(false);
            }
        }
    });
}

void mqtt_connection::post_self(std::function<void(mqtt_connection&)> fn) {
    std::weak_ptr<mqtt_connection> weak = weak_from_this();
    b_.post(w_.index, [weak, fn = std::move(fn)](worker&) {
        if (auto c = weak.lock(); c && !c->finished_) {
            fn(*c);
        }
    });
}

void mqtt_connection::on_bytes(std::span<const std::uint8_t> data) {
    if (finished_) {
        return;
    }
    if (state_ == state::awaiting_connect && head_len_ < head_.size()) {
        const std::size_t n = std::min(data.size(), head_.size() - head_len_);
        std::copy_n(data.begin(), n, head_.begin() + static_cast<std::ptrdiff_t>(head_len_));
        head_len_ += n;
        // [MQTT-3.1.0-1]: the first packet must be CONNECT (type 1, flags 0). Anything else (an HTTP
        // request, TLS to a plain port) is closed at its first byte, not after its declared length.
        if (head_len_ > 0 && head_[0] != 0x10) {
            close_transport(true);
            finish(false);
            return;
        }
    }
    reader_.feed(data);
    process();
}

void mqtt_connection::on_drained() {
    if (state_ == state::connected) {
        pump();
    }
}

void mqtt_connection::on_closed() {
    if (!finished_) {
        finish(true);  // network loss: the will applies [MQTT-3.1.2-8]
    }
}

void mqtt_connection::process() {
    if (in_process_) {
        return;
    }
    in_process_ = true;
    while (!blocked_ && !finished_) {
        auto next = reader_.next();
        if (std::holds_alternative<std::monostate>(next)) {
            break;
        }
        if (auto* err = std::get_if<mqtt::decode_error>(&next)) {
            if (state_ == state::awaiting_connect && err->code == mqtt::reason_code::packet_too_large) {
                refuse_oversized_connect();
            } else if (state_ == state::awaiting_connect) {
                close_transport(true);  // framing error before CONNECT: nothing to answer with
                finish(false);
            } else {
                fail(err->code);
            }
            break;
        }
        handle_frame(std::get<mqtt::frame>(next));
    }
    in_process_ = false;
    if (finished_) {
        return;
    }
    if (blocked_ && !read_paused_) {
        read_paused_ = true;
        t_->pause_reading();
    } else if (!blocked_ && read_paused_) {
        read_paused_ = false;
        t_->resume_reading();
    }
}

void mqtt_connection::block() {
    blocked_ = true;
}

void mqtt_connection::unblock() {
    if (!blocked_) {
        return;
    }
    blocked_ = false;
    process();
}

void mqtt_connection::handle_frame(const mqtt::frame& f) {
    last_activity_ = b_.clock.steady_now();
    if (state_ == state::awaiting_connect) {
        if (f.type() != mqtt::packet_type::connect) {
            close_transport(true);  // [MQTT-3.1.0-1]: the first packet must be CONNECT
            finish(false);
            return;
        }
        handle_connect(f);
        return;
    }
    auto decoded = mqtt::decode(version_, f, b_.limits);
    if (auto* err = std::get_if<mqtt::decode_error>(&decoded)) {
        fail(err->code);
        return;
    }
    dispatch(std::get<mqtt::packet>(decoded));
}

void mqtt_connection::dispatch(mqtt::packet& p) {
    if (state_ == state::auth_exchange) {
        if (auto* a = std::get_if<mqtt::auth>(&p)) {
            handle_auth(*a);
        } else if (std::holds_alternative<mqtt::disconnect>(p)) {
            close_transport(false);
            finish(false);
        } else {
            fail(mqtt::reason_code::protocol_error);  // only AUTH may follow AUTH 0x18 (§4.12)
        }
        return;
    }
    std::visit(
        [this](auto& pk) {
            using T = std::decay_t<decltype(pk)>;
            if constexpr (std::is_same_v<T, mqtt::connect>) {
                fail(mqtt::reason_code::protocol_error);  // [MQTT-3.1.0-2] second CONNECT
            } else if constexpr (std::is_same_v<T, mqtt::publish>) {
                handle_publish(pk);
            } else if constexpr (std::is_same_v<T, mqtt::puback>) {
                handle_puback(pk);
            } else if constexpr (std::is_same_v<T, mqtt::pubrec>) {
                handle_pubrec(pk);
            } else if constexpr (std::is_same_v<T, mqtt::pubrel>) {
                handle_pubrel(pk);
            } else if constexpr (std::is_same_v<T, mqtt::pubcomp>) {
                handle_pubcomp(pk);
            } else if constexpr (std::is_same_v<T, mqtt::subscribe>) {
                handle_subscribe(std::move(pk));
            } else if constexpr (std::is_same_v<T, mqtt::unsubscribe>) {
                handle_unsubscribe(pk);
            } else if constexpr (std::is_same_v<T, mqtt::pingreq>) {
                send_packet(mqtt::pingresp{});  // [MQTT-3.12.4-1]
            } else if constexpr (std::is_same_v<T, mqtt::disconnect>) {
                handle_disconnect(pk);
            } else if constexpr (std::is_same_v<T, mqtt::auth>) {
                handle_auth(pk);
            } else {
                // CONNACK, SUBACK, UNSUBACK, PINGRESP: server-only packets (B2-42).
                fail(mqtt::reason_code::protocol_error);
            }
        },
        p);
}

void mqtt_connection::fail(mqtt::reason_code reason, std::string reason_string) {
    if (finished_) {
        return;
    }
    if (state_ != state::connected) {
        refuse_connect(reason, std::move(reason_string));
        return;
    }
    const refusal r = map_refusal(reason, refusal_stage::connected, version_);
    if (r.what == refusal::kind::disconnect) {
        mqtt::disconnect d;
        d.reason_code = r.reason;
        set_reason(d.properties, reason_string, true);
        send_packet(d);
        close_transport(false);
    } else {
        close_transport(true);
    }
    finish(true);  // not a normal disconnection: the will is published [MQTT-3.1.2-8]
}

void mqtt_connection::kick(mqtt::reason_code reason, std::string reason_string, bool with_will) {
    if (finished_) {
        return;
    }
    if (state_ == state::connected && is_v5()) {
        mqtt::disconnect d;
        d.reason_code = mqtt::allowed_reason_code(mqtt::packet_type::disconnect, reason);
        set_reason(d.properties, reason_string, true);
        send_packet(d);
    }
    close_transport(false);
    finish(with_will);
}

void mqtt_connection::close_transport(bool abort) {
    if (abort) {
        t_->abort();
    } else {
        t_->close();
    }
}

void mqtt_connection::finish(bool with_will) {
    if (finished_) {
        return;
    }
    finished_ = true;
    state_ = state::closed;
    for (auto* timer : {&connect_timer_, &keep_alive_timer_, &expiry_timer_}) {
        if (*timer != 0) {
            w_.wheel.cancel(*timer);
            *timer = 0;
        }
    }
    pending_publish_.reset();  // never acknowledged: the client sends it again
    publish_awaiting_verdict_.reset();
    if (session_ != nullptr) {
        session* s = session_;
        session_ = nullptr;
        s->conn = nullptr;
        w_.session_disconnected(*s, with_will);
    }
    w_.connections.erase(id_);
    b_.counters.connections.fetch_sub(1, std::memory_order_relaxed);
}

void mqtt_connection::send_packet(const mqtt::packet& p) {
    std::vector<std::uint8_t> out;
    mqtt::encode(p, version_, out);
    if (is_v5() && out.size() > client_max_packet_size_ && !std::holds_alternative<mqtt::publish>(p)) {
        // The Reason String and User Properties are the first to go when a packet would exceed the
        // client's Maximum Packet Size ([MQTT-3.1.2-25], [MQTT-3.2.2-19], [MQTT-3.4.2-2],
        // [MQTT-3.9.2-1], [MQTT-3.14.2-3]); PUBLISH is sized in publish_out.cpp.
        mqtt::packet trimmed = p;
        std::visit(
            [](auto& x) {
                if constexpr (requires { x.properties; }) {
                    x.properties.reason_string.reset();
                    x.properties.user_properties.clear();
                }
            },
            trimmed);
        out.clear();
        mqtt::encode(trimmed, version_, out);
    }
    if (!out.empty()) {
        t_->send(common::shared_bytes(std::move(out)));
    }
}

void mqtt_connection::send_bytes(common::shared_bytes bytes) {
    t_->send(std::move(bytes));
}

void mqtt_connection::arm_keep_alive() {
    if (keep_alive_ == 0 || finished_) {
        return;
    }
    // [MQTT-3.1.2-24]: close after one and a half times the Keep Alive without a packet.
    const auto limit = std::chrono::milliseconds{std::uint64_t{keep_alive_} * 1500};
    std::weak_ptr<mqtt_connection> weak = weak_from_this();
    keep_alive_timer_ = w_.wheel.schedule(last_activity_ + limit, [weak] {
        if (auto c = weak.lock()) {
            c->keep_alive_timer_ = 0;
            c->on_keep_alive_timer();
        }
    });
}

void mqtt_connection::on_keep_alive_timer() {
    if (finished_) {
        return;
    }
    const auto limit = std::chrono::milliseconds{std::uint64_t{keep_alive_} * 1500};
    if (blocked_) {
        // We stopped reading (verdict or backpressure): silence is ours, not the client's.
        last_activity_ = b_.clock.steady_now();
    }
    if (b_.clock.steady_now() - last_activity_ >= limit) {
        kick(mqtt::reason_code::keep_alive_timeout);  // v5 DISCONNECT 0x8D, v3.1.1 close
        return;
    }
    arm_keep_alive();
}

bool mqtt_connection::problem_info_allowed() const noexcept {
    return request_problem_information_;
}

void mqtt_connection::set_reason(mqtt::properties& props, const std::string& reason_string,
                                 bool always) const {
    // [MQTT-3.1.2-29]: with Request Problem Information 0, a Reason String only on CONNACK,
    // DISCONNECT (and PUBLISH, which has none).
    if (!reason_string.empty() && is_v5() && (always || request_problem_information_)) {
        props.reason_string = reason_string.substr(0, 1024);
    }
}

}  // namespace tollgate::broker
