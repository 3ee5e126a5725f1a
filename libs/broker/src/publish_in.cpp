// Client -> broker PUBLISH: topic aliases, limits, QoS 2 exactly-once state, authorization,
// retained update, routing with backpressure, acknowledgement (connection_impl.hpp).
#include <algorithm>
#include <type_traits>
#include <utility>

#include <tollgate/broker/error_mapping.hpp>
#include <tollgate/mqtt/topic.hpp>

#include "broker_impl.hpp"
#include "connection_impl.hpp"

namespace tollgate::broker {

void mqtt_connection::handle_publish(mqtt::publish& p) {
    const auto& cfg = b_.config;
    if (p.qos > cfg.maximum_qos) {
        fail(mqtt::reason_code::qos_not_supported);  // [MQTT-3.2.2-11]
        return;
    }
    if (p.retain && !cfg.retain_available) {
        fail(mqtt::reason_code::retain_not_supported);  // [MQTT-3.2.2-14]
        return;
    }
    if (!p.properties.subscription_identifiers.empty()) {
        fail(mqtt::reason_code::protocol_error);  // [MQTT-3.3.4-6]
        return;
    }
    if (is_v5() && p.properties.topic_alias) {
        const std::uint16_t alias = *p.properties.topic_alias;
        if (alias == 0 || alias > cfg.topic_alias_maximum) {
            fail(mqtt::reason_code::topic_alias_invalid);  // [MQTT-3.3.2-8], [MQTT-3.3.2-9]
            return;
        }
        if (!p.topic.empty()) {
            aliases_in_[alias] = p.topic;  // [MQTT-3.3.2-12]: set or replace the mapping
        } else if (aliases_in_[alias].empty()) {
            fail(mqtt::reason_code::protocol_error);  // unknown alias with an empty topic (B2-33)
            return;
        } else {
            p.topic = aliases_in_[alias];
        }
        p.properties.topic_alias.reset();
    }
    if (p.topic.empty()) {
        fail(mqtt::reason_code::protocol_error);  // empty topic without an alias (B2-30)
        return;
    }
    if (p.qos == 2 && session_->awaiting_pubrel.contains(p.packet_id)) {
        // A retransmission of a QoS 2 message we already own: acknowledge, do not deliver again
        // [MQTT-4.3.3-10].
        mqtt::pubrec rec;
        rec.packet_id = p.packet_id;
        send_packet(rec);
        return;
    }
    if (p.qos > 0 && session_->awaiting_pubrel.size() >= cfg.receive_maximum) {
        // Forget ids that waited longer than awaiting_pubrel_timeout for their PUBREL (the message
        // was delivered on PUBLISH; a late PUBREL then gets PUBCOMP 0x92), then judge again.
        session_->awaiting_pubrel.expire(b_.clock.steady_now() - cfg.awaiting_pubrel_timeout);
    }
    if (p.qos > 0 && session_->awaiting_pubrel.size() >= cfg.receive_maximum) {
        fail(mqtt::reason_code::receive_maximum_exceeded);  // [MQTT-3.3.4-9]
        return;
    }
    if (mqtt::topic_levels(p.topic) > cfg.max_topic_levels) {
        if (p.qos > 0 && is_v5()) {
            ack_publish(p.qos, p.packet_id, mqtt::reason_code::topic_name_invalid, "too many topic levels");
        } else {
            fail(mqtt::reason_code::topic_name_invalid);
        }
        return;
    }
    if (p.topic.front() == '$') {
        // Topics starting with '$' are the server's ([MQTT-4.7.2]); clients may not publish to them.
        // v5: PUBACK/PUBREC 0x90 Topic Name invalid ("not accepted by this Server"); QoS 0 and
        // v3.1.1 (no negative ack exists, [MQTT-3.3.5-2]): acknowledged as usual and discarded.
        ack_publish(p.qos, p.packet_id, mqtt::reason_code::topic_name_invalid,
                    "topics starting with $ are reserved");
        return;
    }
    authorize_publish(std::move(p));
}

void mqtt_connection::authorize_publish(mqtt::publish p) {
    // Per PUBLISH, nothing is allocated for the question itself: the callback holds two words (the
    // worker and this connection's id), which std::function keeps inline, and the message stays on
    // the stack. Only when the authorizer answers later is the message parked in the connection; a
    // pending verdict blocks reading, so at most one PUBLISH waits per connection.
    worker* w = &w_;
    const std::uint64_t id = id_;
    auto later = [w, id](verdict v) {
        w->b.post(w->index, [id, v = std::move(v)](worker& on) {
            auto it = on.connections.find(id);
            if (it == on.connections.end()) {
                return;  // the connection is gone: the parked PUBLISH was never acknowledged
            }
            if (auto c = it->second.lock(); c && !c->finished_ && c->publish_awaiting_verdict_) {
                auto parked = std::move(*c->publish_awaiting_verdict_);
                c->publish_awaiting_verdict_.reset();
                c->apply_publish_verdict(std::move(parked), v);
            }
        });
    };
    static_assert(std::is_trivially_copyable_v<decltype(later)> && sizeof(later) <= 2 * sizeof(void*),
                  "kept inside std::function's small buffer: no allocation per PUBLISH");
    auto now = b_.authz.check(*who_, action::publish, p.topic, p.qos, p.retain, later);
    if (now) {
        apply_publish_verdict(std::move(p), *now);
        return;
    }
    publish_awaiting_verdict_ = std::move(p);
    block();  // later packets wait, in order, until the verdict arrives
}

void mqtt_connection::apply_publish_verdict(mqtt::publish p, const verdict& v) {
    if (!v.allow) {
        if (!is_v5() &&
            b_.config.v311_unauthorized_publish == broker_config::unauthorized_publish_policy::disconnect) {
            fail(mqtt::reason_code::not_authorized);  // [MQTT-3.3.5-2]: or close the connection
            return;
        }
        // v5: PUBACK/PUBREC 0x87; v3.1.1: a positive ack, the message discarded [MQTT-3.3.5-2].
        ack_publish(p.qos, p.packet_id, mqtt::reason_code::not_authorized, v.reason);
        unblock();
        return;
    }
    accept_publish(std::move(p));
}

std::shared_ptr<const message> mqtt_connection::make_message(mqtt::publish& p) const {
    auto m = std::make_shared<message>();
    m->topic = std::move(p.topic);
    m->payload = std::move(p.payload);
    m->qos = p.qos;
    m->retain = p.retain;
    auto& props = p.properties;
    m->payload_format_indicator = props.payload_format_indicator;
    m->content_type = std::move(props.content_type);
    m->response_topic = std::move(props.response_topic);
    m->correlation_data = std::move(props.correlation_data);
    m->user_properties = std::move(props.user_properties);
    if (props.message_expiry_interval) {
        m->expires_at = b_.clock.steady_now() + std::chrono::seconds{*props.message_expiry_interval};
    }
    m->publisher_session_id = session_->id();
    m->publisher_client_id = client_id_;
    return m;
}

void mqtt_connection::accept_publish(mqtt::publish p) {
    const std::uint8_t qos = p.qos;
    const std::uint16_t packet_id = p.packet_id;
    const bool retain = p.retain;
    auto msg = make_message(p);
    b_.counters.messages_received.fetch_add(1, std::memory_order_relaxed);
    if (retain) {
        w_.retain_everywhere(msg);  // store, or clear on an empty payload [MQTT-3.3.1-6], [MQTT-3.3.1-7]
    }
    route_publish(std::move(msg), qos, packet_id, retain);
}

void mqtt_connection::route_publish(std::shared_ptr<const message> msg, std::uint8_t qos,
                                    std::uint16_t packet_id, bool retain) {
    const std::uint64_t generation = ++wake_generation_;
    std::weak_ptr<mqtt_connection> weak = weak_from_this();
    broker_impl* b = &b_;
    const unsigned index = w_.index;
    auto wake = [weak, b, index, generation] {
        b->post(index, [weak, generation](worker&) {
            auto c = weak.lock();
            if (!c || c->finished_ || !c->pending_publish_ || c->wake_generation_ != generation) {
                return;
            }
            auto pending = std::move(*c->pending_publish_);
            c->pending_publish_.reset();
            c->route_publish(std::move(pending.msg), pending.qos, pending.packet_id, pending.retain);
        });
    };
    std::size_t matched = 0;
    if (w_.route(msg, wake, matched, true) == worker::route_result::blocked) {
        // Backpressure: a QoS>0 target is full. Not acknowledged, not read further until it drains.
        pending_publish_ = blocked_publish{std::move(msg), qos, packet_id, retain};
        b_.counters.publishers_paused.fetch_add(1, std::memory_order_relaxed);
        block();
        if (!in_process_) {
            process();  // pause reading now (we were woken from a post)
        }
        return;
    }
    const auto code = matched == 0 ? mqtt::reason_code::no_matching_subscribers : mqtt::reason_code::success;
    if (qos == 2) {
        session_->awaiting_pubrel.add(packet_id, b_.clock.steady_now());
    }
    ack_publish(qos, packet_id, code);
    unblock();
}

void mqtt_connection::ack_publish(std::uint8_t qos, std::uint16_t packet_id, mqtt::reason_code reason,
                                  std::string reason_string) {
    if (!is_v5() && static_cast<std::uint8_t>(reason) >= 0x80) {
        reason = mqtt::reason_code::success;  // 3.1.1 has no negative ack [MQTT-3.3.5-2]
    }
    if (qos == 1) {
        mqtt::puback ack;
        ack.packet_id = packet_id;
        ack.reason_code = reason;
        set_reason(ack.properties, reason_string);
        send_packet(ack);
    } else if (qos == 2) {
        mqtt::pubrec rec;
        rec.packet_id = packet_id;
        rec.reason_code = reason;
        set_reason(rec.properties, reason_string);
        send_packet(rec);
    }
}

void mqtt_connection::handle_pubrel(const mqtt::pubrel& p) {
    mqtt::pubcomp comp;
    comp.packet_id = p.packet_id;
    if (!session_->awaiting_pubrel.release(p.packet_id)) {
        comp.reason_code = mqtt::reason_code::packet_identifier_not_found;  // B2-41
    }
    send_packet(comp);  // [MQTT-4.3.3-11]
}

}  // namespace tollgate::broker
