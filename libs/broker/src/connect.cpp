// CONNECT, AUTH (enhanced authentication and re-authentication), session attach and DISCONNECT
// of mqtt_connection (connection_impl.hpp).
#include <algorithm>
#include <array>
#include <utility>
#include <variant>

#include <tollgate/broker/error_mapping.hpp>
#include <tollgate/common/secret.hpp>
#include <tollgate/mqtt/topic.hpp>

#include "broker_impl.hpp"
#include "connection_impl.hpp"

namespace tollgate::broker {

namespace {

// The protocol level byte of a CONNECT body (after the length-prefixed protocol name), or 0.
std::uint8_t peek_protocol_level(const mqtt::frame& f) {
    const auto body = f.body.span();
    if (body.size() < 2) {
        return 0;
    }
    const std::size_t name_len = (std::size_t{body[0]} << 8) | body[1];
    return body.size() > 2 + name_len ? body[2 + name_len] : 0;
}

}  // namespace

void mqtt_connection::handle_connect(const mqtt::frame& f) {
    auto decoded = mqtt::decode_connect(f, b_.limits);
    if (auto* err = std::get_if<mqtt::decode_error>(&decoded)) {
        const std::uint8_t level = peek_protocol_level(f);
        if (err->code == mqtt::reason_code::unsupported_protocol_version) {
            // [MQTT-3.1.2-2] (3.1.1: return code 0x01; 5.0: 0x84). Levels below 5 get the 3.1.1 form.
            version_ = level >= 5 ? mqtt::protocol_version::v5 : mqtt::protocol_version::v311;
            refuse_connect(mqtt::reason_code::unsupported_protocol_version);
            return;
        }
        version_ = level == 5 ? mqtt::protocol_version::v5 : mqtt::protocol_version::v311;
        refuse_connect(err->code);
        return;
    }
    mqtt::connect c = std::move(std::get<mqtt::connect>(decoded));
    version_ = c.protocol_version;
    if (const auto refused = check_connect(c)) {
        refuse_connect(*refused);
        return;
    }
    aliases_in_.assign(std::size_t{b_.config.topic_alias_maximum} + 1, std::string{});

    auth_request req;
    req.kind = auth_request::step::connect;
    req.version = version_;
    req.client_id = c.client_id;
    req.username = c.username;
    req.password = c.password;
    req.method = c.properties.authentication_method;
    req.data = c.properties.authentication_data;
    req.connection = &info_;
    connect_ = std::move(c);
    state_ = state::authenticating;
    block();
    authenticate(std::move(req));
}

std::optional<mqtt::reason_code> mqtt_connection::check_connect(mqtt::connect& c) {
    const auto& cfg = b_.config;
    if (b_.shutting_down.load()) {
        return mqtt::reason_code::server_unavailable;
    }
    if (c.client_id.empty()) {
        if (!is_v5() && !c.clean_start) {
            return mqtt::reason_code::client_identifier_not_valid;  // [MQTT-3.1.3-8]
        }
        if (!cfg.assign_client_ids) {
            return mqtt::reason_code::client_identifier_not_valid;
        }
        c.client_id = "tg-" + common::to_hex(common::random_bytes(12));  // [MQTT-3.1.3-6]
        assigned_id_ = true;
    }
    if (c.client_id.size() > cfg.max_client_id_length) {
        return mqtt::reason_code::client_identifier_not_valid;  // B1-17
    }
    client_id_ = c.client_id;
    const auto& props = c.properties;
    if (is_v5()) {
        client_receive_maximum_ = props.receive_maximum.value_or(65535);
        client_max_packet_size_ = props.maximum_packet_size.value_or(268435460);
        client_topic_alias_maximum_ = props.topic_alias_maximum.value_or(0);
        request_problem_information_ = props.request_problem_information.value_or(1) != 0;
        requested_expiry_ = props.session_expiry_interval.value_or(0);
        auth_method_ = props.authentication_method;
        if (props.authentication_data && !props.authentication_method) {
            return mqtt::reason_code::protocol_error;  // B3-77
        }
    } else {
        requested_expiry_ = c.clean_start ? 0 : 0xFFFFFFFF;
    }
    session_expiry_ = std::min(requested_expiry_, cfg.max_session_expiry);
    keep_alive_ = c.keep_alive;
    if (keep_alive_ > cfg.max_keepalive) {
        keep_alive_ = cfg.max_keepalive;
        server_keep_alive_set_ = is_v5();  // [MQTT-3.2.2-21]: the client uses Server Keep Alive
    }
    if (c.will) {
        if (c.will->qos > cfg.maximum_qos) {
            return mqtt::reason_code::qos_not_supported;  // [MQTT-3.2.2-12]
        }
        if (c.will->retain && !cfg.retain_available) {
            return mqtt::reason_code::retain_not_supported;  // [MQTT-3.2.2-13]
        }
        if (mqtt::topic_levels(c.will->topic) > cfg.max_topic_levels) {
            return mqtt::reason_code::topic_name_invalid;
        }
    }
    return std::nullopt;
}

void mqtt_connection::authenticate(auth_request req) {
    std::weak_ptr<mqtt_connection> weak = weak_from_this();
    broker_impl* b = &b_;
    const unsigned index = w_.index;
    b_.authn.authenticate(std::move(req), [weak, b, index](auth_result r) {
        // May run on any thread, maybe inline: always continue on the connection's worker.
        b->post(index, [weak, r = std::move(r)](worker&) mutable {
            if (auto c = weak.lock(); c && !c->finished_) {
                c->on_auth_result(std::move(r));
            }
        });
    });
}

// A CONNECT over the pre-CONNECT size limit is refused before its body is read. When the bytes
// already here show an MQTT 5 CONNECT (protocol name "MQTT", level 5), the client gets CONNACK 0x95
// (§4.13.1 allows a CONNACK before closing); otherwise the connection just closes.
void mqtt_connection::refuse_oversized_connect() {
    std::size_t i = 1;  // skip the packet type byte, then the remaining length (1-4 bytes)
    while (i < head_len_ && i < 5 && (head_[i] & 0x80) != 0) {
        ++i;
    }
    ++i;
    static constexpr std::array<std::uint8_t, 7> v5_prefix{0x00, 0x04, 'M', 'Q', 'T', 'T', 0x05};
    if (head_len_ >= i + v5_prefix.size() &&
        std::equal(v5_prefix.begin(), v5_prefix.end(), head_.begin() + static_cast<std::ptrdiff_t>(i))) {
        version_ = mqtt::protocol_version::v5;
        refuse_connect(mqtt::reason_code::packet_too_large, "CONNECT larger than the server accepts");
        return;
    }
    close_transport(true);
    finish(false);
}

void mqtt_connection::refuse_connect(mqtt::reason_code reason, std::string reason_string) {
    if (finished_) {
        return;
    }
    const refusal r = map_refusal(reason, refusal_stage::before_connack, version_);
    if (r.what == refusal::kind::connack) {
        mqtt::connack ack;
        ack.reason_code = r.reason;
        set_reason(ack.properties, reason_string, true);
        send_packet(ack);
        close_transport(false);
    } else {
        close_transport(true);
    }
    finish(false);
}

void mqtt_connection::on_auth_result(auth_result r) {
    if (state_ == state::connected) {
        on_reauth_result(std::move(r));
        return;
    }
    switch (r.result) {
        case auth_result::outcome::failure:
            refuse_connect(r.reason, r.reason_string);
            return;
        case auth_result::outcome::continue_auth: {
            if (!is_v5() || !auth_method_) {
                refuse_connect(mqtt::reason_code::bad_authentication_method);
                return;
            }
            mqtt::auth a;
            a.reason_code = mqtt::reason_code::continue_authentication;
            a.properties.authentication_method = auth_method_;
            a.properties.authentication_data = r.data;
            send_packet(a);
            state_ = state::auth_exchange;
            unblock();
            return;
        }
        case auth_result::outcome::success:
            if (!r.who) {
                refuse_connect(mqtt::reason_code::unspecified_error);
                return;
            }
            who_ = std::move(r.who);
            connack_auth_data_ = std::move(r.data);
            claim_session();
            return;
    }
}

void mqtt_connection::handle_auth(mqtt::auth& a) {
    if (!is_v5() || !auth_method_ || a.properties.authentication_method != auth_method_) {
        fail(mqtt::reason_code::protocol_error);  // [MQTT-4.12.0-7] / B3-75: method must match
        return;
    }
    auth_request req;
    req.version = version_;
    req.client_id = client_id_;
    req.method = auth_method_;
    req.data = a.properties.authentication_data;
    req.connection = &info_;
    if (state_ == state::auth_exchange) {
        if (a.reason_code != mqtt::reason_code::continue_authentication) {
            fail(mqtt::reason_code::protocol_error);
            return;
        }
        req.kind = auth_request::step::continue_auth;
        req.username = connect_ ? connect_->username : std::nullopt;
        state_ = state::authenticating;
    } else {
        const bool starts = a.reason_code == mqtt::reason_code::reauthenticate && !reauth_in_progress_;
        const bool continues =
            a.reason_code == mqtt::reason_code::continue_authentication && reauth_in_progress_;
        if (!starts && !continues) {
            fail(mqtt::reason_code::protocol_error);
            return;
        }
        reauth_in_progress_ = true;
        req.kind = auth_request::step::reauthenticate;
        req.current = who_;
    }
    block();
    authenticate(std::move(req));
}

void mqtt_connection::on_reauth_result(auth_result r) {
    switch (r.result) {
        case auth_result::outcome::failure:
            reauth_in_progress_ = false;
            fail(r.reason, r.reason_string);  // [MQTT-4.12.1-2]: DISCONNECT, close
            return;
        case auth_result::outcome::continue_auth: {
            mqtt::auth a;
            a.reason_code = mqtt::reason_code::continue_authentication;
            a.properties.authentication_method = auth_method_;
            a.properties.authentication_data = r.data;
            send_packet(a);
            unblock();
            return;
        }
        case auth_result::outcome::success: {
            reauth_in_progress_ = false;
            if (!r.who) {
                fail(mqtt::reason_code::unspecified_error);
                return;
            }
            // Swap identity and re-arm the expiry timer in one step (DESIGN.md, token on the wire).
            who_ = std::move(r.who);
            if (session_ != nullptr) {
                session_->who = who_;
            }
            arm_principal_expiry();
            mqtt::auth a;
            a.reason_code = mqtt::reason_code::success;
            a.properties.authentication_method = auth_method_;
            a.properties.authentication_data = r.data;
            send_packet(a);
            // Narrowed scopes also take the subscriptions they no longer cover away.
            blocked_ = false;
            if (!reauthorize_subscriptions()) {
                process();
            }
            return;
        }
    }
}

void mqtt_connection::claim_session() {
    const bool clean = connect_->clean_start;
    auto claim = b_.registry.claim(client_id_, clean, w_.index, b_.new_session_id());
    if (claim.replaced) {
        auto old = claim.replaced;
        b_.post(old->worker.load(), [old](worker& w) { w.kick_and_end(old); });
    }
    if (!claim.existing) {
        auto s = std::make_unique<session>(claim.handle, version_, session_expiry_);
        session* raw = s.get();
        w_.sessions.emplace(raw->id(), std::move(s));
        b_.counters.sessions.fetch_add(1, std::memory_order_relaxed);
        complete_connect(raw, false);
        return;
    }
    state_ = state::resuming;
    std::weak_ptr<mqtt_connection> weak = weak_from_this();
    auto h = claim.handle;
    const unsigned to = w_.index;
    b_.post(h->worker.load(), [h, to, weak, who = who_](worker& w) { w.take_over(h, to, weak, who); });
}

void mqtt_connection::resume_with(session* s) {
    if (finished_ || state_ != state::resuming) {
        return;
    }
    if (s == nullptr) {
        auto h = b_.registry.refresh(client_id_, w_.index, b_.new_session_id());
        auto fresh = std::make_unique<session>(h, version_, session_expiry_);
        s = fresh.get();
        w_.sessions.emplace(s->id(), std::move(fresh));
        b_.counters.sessions.fetch_add(1, std::memory_order_relaxed);
        complete_connect(s, false);
        return;
    }
    complete_connect(s, true);
}

void mqtt_connection::complete_connect(session* s, bool present) {
    const auto& cfg = b_.config;
    session_ = s;
    s->conn = this;
    s->handle->connected.store(true);
    s->who = who_;
    s->version = version_;
    s->expiry_interval = session_expiry_;
    for (auto* timer : {&s->expiry_timer, &s->will_timer}) {
        if (*timer != 0) {
            w_.wheel.cancel(*timer);
            *timer = 0;
        }
    }
    s->will.reset();  // resumed before the will delay elapsed: not sent [MQTT-3.1.3-9]
    install_will(*s);
    if (session_expiry_ > 0) {
        session_record rec;
        rec.client_id = client_id_;
        rec.version = version_;
        rec.expiry_interval = session_expiry_;
        b_.store.session_saved(rec);
    }

    send_packet(make_connack(present));

    state_ = state::connected;
    connect_.reset();
    if (connect_timer_ != 0) {
        w_.wheel.cancel(connect_timer_);
        connect_timer_ = 0;
    }
    reader_.set_max_packet_size(cfg.max_packet_size);
    last_activity_ = b_.clock.steady_now();
    arm_keep_alive();
    arm_principal_expiry();
    if (present) {
        resend_inflight();  // [MQTT-4.4.0-1]
    }
    pump();
    blocked_ = false;
    if (!present || !reauthorize_subscriptions()) {
        process();
    }
}

void mqtt_connection::install_will(session& s) {
    if (connect_->will) {
        auto& wl = *connect_->will;
        will_state ws;
        ws.msg.topic = wl.topic;
        ws.msg.payload = wl.payload;
        ws.msg.qos = wl.qos;
        ws.msg.retain = wl.retain;
        ws.msg.payload_format_indicator = wl.properties.payload_format_indicator;
        ws.msg.content_type = wl.properties.content_type;
        ws.msg.response_topic = wl.properties.response_topic;
        ws.msg.correlation_data = wl.properties.correlation_data;
        ws.msg.user_properties = wl.properties.user_properties;
        ws.msg.publisher_session_id = s.id();
        ws.msg.publisher_client_id = client_id_;
        ws.message_expiry_interval = wl.properties.message_expiry_interval;
        ws.delay = wl.properties.will_delay_interval.value_or(0);
        s.will = std::move(ws);
    }
}

mqtt::connack mqtt_connection::make_connack(bool present) {
    const auto& cfg = b_.config;
    mqtt::connack ack;
    ack.session_present = present;  // [MQTT-3.2.2-2], [MQTT-3.2.2-3]
    ack.reason_code = mqtt::reason_code::success;
    if (is_v5()) {
        auto& p = ack.properties;
        if (session_expiry_ != requested_expiry_) {
            p.session_expiry_interval = session_expiry_;
        }
        if (cfg.receive_maximum != 65535) {
            p.receive_maximum = cfg.receive_maximum;
        }
        if (cfg.maximum_qos < 2) {
            p.maximum_qos = cfg.maximum_qos;
        }
        if (!cfg.retain_available) {
            p.retain_available = 0;
        }
        p.maximum_packet_size = cfg.max_packet_size;
        if (assigned_id_) {
            p.assigned_client_identifier = client_id_;
        }
        if (cfg.topic_alias_maximum > 0) {
            p.topic_alias_maximum = cfg.topic_alias_maximum;
        }
        if (!cfg.wildcard_subscription_available) {
            p.wildcard_subscription_available = 0;
        }
        if (!cfg.subscription_identifier_available) {
            p.subscription_identifier_available = 0;
        }
        if (!cfg.shared_subscription_available) {
            p.shared_subscription_available = 0;
        }
        if (server_keep_alive_set_) {
            p.server_keep_alive = keep_alive_;
        }
        p.authentication_method = auth_method_;
        p.authentication_data = std::move(connack_auth_data_);
    }
    return ack;
}

void mqtt_connection::arm_principal_expiry() {
    if (expiry_timer_ != 0) {
        w_.wheel.cancel(expiry_timer_);
        expiry_timer_ = 0;
    }
    if (!who_ || !who_->expires_at) {
        return;
    }
    const auto left = *who_->expires_at - b_.clock.system_now();
    const auto deadline = b_.clock.steady_now() + std::chrono::duration_cast<std::chrono::nanoseconds>(left);
    std::weak_ptr<mqtt_connection> weak = weak_from_this();
    expiry_timer_ = w_.wheel.schedule(deadline, [weak] {
        if (auto c = weak.lock(); c && !c->finished_) {
            c->expiry_timer_ = 0;
            c->end_for_token_expiry();
        }
    });
}

void mqtt_connection::end_for_token_expiry() {
    const auto& cfg = b_.config;
    if (session_ != nullptr && session_->expiry_interval > cfg.token_expiry_session_expiry) {
        // The token-expiry policy shortens how long the session waits for a fresh token.
        const std::uint32_t before = session_->expiry_interval;
        session_->expiry_interval = cfg.token_expiry_session_expiry;
        session_expiry_ = session_->expiry_interval;
        if (before > 0 && session_expiry_ == 0) {
            b_.store.session_removed(client_id_);  // end_session() skips expiry-0 sessions
        } else if (session_expiry_ > 0) {
            session_record rec;
            rec.client_id = client_id_;
            rec.version = version_;
            rec.expiry_interval = session_expiry_;
            b_.store.session_saved(rec);
        }
    }
    if (is_v5()) {
        mqtt::disconnect d;
        d.reason_code = mqtt::allowed_reason_code(mqtt::packet_type::disconnect, who_->expiry_reason);
        set_reason(d.properties, who_->expiry_reason_string, true);
        send_packet(d);
    }
    close_transport(false);
    finish(cfg.token_expiry_publishes_will);
}

void mqtt_connection::handle_disconnect(const mqtt::disconnect& d) {
    if (is_v5() && d.properties.session_expiry_interval) {
        if (requested_expiry_ == 0 && *d.properties.session_expiry_interval != 0) {
            fail(mqtt::reason_code::protocol_error);  // [MQTT-3.14.2-2]
            return;
        }
        session_expiry_ = std::min(*d.properties.session_expiry_interval, b_.config.max_session_expiry);
        if (session_ != nullptr) {
            session_->expiry_interval = session_expiry_;
        }
    }
    // The will is discarded on a normal disconnection (0x00, and every 3.1.1 DISCONNECT)
    // [MQTT-3.1.2-10], [MQTT-3.14.4-3]; any other reason (0x04 included) publishes it.
    const bool with_will = is_v5() && d.reason_code != mqtt::reason_code::success;
    close_transport(false);
    finish(with_will);
}

}  // namespace tollgate::broker
