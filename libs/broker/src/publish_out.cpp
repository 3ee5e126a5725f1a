// Broker -> client PUBLISH: the send window, topic aliases towards the client, the client's
// Maximum Packet Size, message expiry, redelivery and the client's acknowledgements.
#include <algorithm>
#include <utility>

#include "broker_impl.hpp"
#include "connection_impl.hpp"

namespace tollgate::broker {

namespace {

// Bytes the transport may hold before we stop pumping more into it: a client that stops reading
// leaves its messages in the session queue, where max_queued_messages bounds them.
constexpr std::size_t transport_high_water = 1024 * 1024;

}  // namespace

std::size_t mqtt_connection::window() const noexcept {
    // [MQTT-3.3.4-7]: never more unacknowledged QoS>0 PUBLISHes than the client's Receive Maximum.
    return std::min<std::size_t>(b_.config.max_inflight_out, client_receive_maximum_);
}

void mqtt_connection::pump() {
    if (session_ == nullptr || state_ != state::connected || finished_) {
        return;
    }
    session& s = *session_;
    std::uint32_t released = 0;
    const auto now = b_.clock.steady_now();
    while (!s.queue.empty() && t_->queued_bytes() < transport_high_water) {
        if (s.queue.front().qos > 0 && s.inflight.size() >= window()) {
            break;
        }
        outbound_message out = std::move(s.queue.front());
        s.queue.pop_front();
        s.queued_bytes -= std::min(s.queued_bytes, out.msg->payload.size());
        if (out.msg->expires_at && *out.msg->expires_at <= now) {
            b_.counters.dropped_expired.fetch_add(1, std::memory_order_relaxed);  // [MQTT-3.3.2-5]
            w_.message_done(s, out);
            ++released;
            continue;
        }
        if (out.qos == 0) {
            send_publish(out, 0, false);
            ++released;
            continue;
        }
        const auto id = s.inflight.allocate_id();
        if (!id || !send_publish(out, *id, false)) {
            w_.message_done(s, out);
            ++released;  // too large for this client: dropped for it alone [MQTT-3.1.2-25]
            continue;
        }
        const auto at =
            out.qos == 1 ? outbound_window::stage::awaiting_puback : outbound_window::stage::awaiting_pubrec;
        s.inflight.add(*id, std::move(out), at);
    }
    if (released > 0) {
        w_.release(*s.handle, released);
    }
}

bool mqtt_connection::send_publish(const outbound_message& out, std::uint16_t packet_id, bool dup) {
    const message& m = *out.msg;
    mqtt::publish p;
    p.topic = m.topic;
    p.payload = m.payload;
    p.qos = out.qos;
    p.retain = out.retain;
    p.dup = dup;
    p.packet_id = packet_id;
    bool new_alias = false;
    if (is_v5()) {
        auto& props = p.properties;
        props.payload_format_indicator = m.payload_format_indicator;  // [MQTT-3.3.2-4]
        props.content_type = m.content_type;
        props.response_topic = m.response_topic;
        props.correlation_data = m.correlation_data;
        props.user_properties = m.user_properties;  // [MQTT-3.3.2-17], order kept [MQTT-3.3.2-18]
        props.subscription_identifiers = out.subscription_identifiers;  // [MQTT-3.3.4-3]
        if (m.expires_at) {
            // [MQTT-3.3.2-6]: the interval left, rounded up so an unexpired message never says 0.
            const auto left = *m.expires_at - b_.clock.steady_now();
            const auto secs = std::chrono::ceil<std::chrono::seconds>(left).count();
            props.message_expiry_interval = static_cast<std::uint32_t>(std::max<std::int64_t>(secs, 1));
        }
        if (client_topic_alias_maximum_ > 0 && !dup) {
            auto it = aliases_out_.find(m.topic);
            if (it != aliases_out_.end()) {
                props.topic_alias = it->second;
                p.topic.clear();
            } else if (aliases_out_.size() < client_topic_alias_maximum_) {
                // [MQTT-3.3.2-10]: only aliases up to the client's Topic Alias Maximum.
                const auto alias = static_cast<std::uint16_t>(aliases_out_.size() + 1);
                props.topic_alias = alias;
                new_alias = true;
            }
        }
    }
    const bool plain = p.qos == 0 && !p.properties.topic_alias &&
                       p.properties.subscription_identifiers.empty() && !p.properties.message_expiry_interval;
    auto& cache = w_.qos0_headers;
    const std::size_t v = is_v5() ? 1 : 0;
    const std::size_t r = p.retain ? 1 : 0;
    if (plain && cache.msg != out.msg) {
        cache = worker::header_cache{};
        cache.msg = out.msg;
    }
    std::size_t size = plain ? cache.size[v][r] : 0;
    if (size == 0) {
        size = mqtt::encoded_size(p, version_);
    }
    if (size > client_max_packet_size_) {
        b_.counters.dropped_too_large.fetch_add(1, std::memory_order_relaxed);
        return false;
    }
    if (new_alias) {
        aliases_out_.emplace(m.topic, *p.properties.topic_alias);
    }
    // Zero-copy fan-out: this subscriber's header (shared too when it is the same for every
    // subscriber), then the payload buffer every subscriber shares.
    if (plain && cache.size[v][r] != 0) {
        send_bytes(cache.header[v][r]);
    } else {
        std::vector<std::uint8_t> header;
        mqtt::encode_publish_header(p, version_, header);
        common::shared_bytes bytes(std::move(header));
        if (plain) {
            cache.header[v][r] = bytes;
            cache.size[v][r] = size;
        }
        send_bytes(std::move(bytes));
    }
    if (!m.payload.empty()) {
        send_bytes(m.payload);
    }
    b_.counters.messages_sent.fetch_add(1, std::memory_order_relaxed);
    return true;
}

void mqtt_connection::resend_inflight() {
    session& s = *session_;
    std::uint32_t released = 0;
    for (const std::uint16_t id : s.inflight.in_send_order()) {
        auto* e = s.inflight.find(id);
        if (e->at == outbound_window::stage::awaiting_pubcomp) {
            mqtt::pubrel rel;  // PUBREC was seen: resend PUBREL, not the message [MQTT-4.4.0-1]
            rel.packet_id = id;
            send_packet(rel);
        } else if (!send_publish(e->out, id, true)) {  // DUP = 1 [MQTT-3.3.1-1]
            w_.message_done(s, e->out);
            s.inflight.erase(id);
            ++released;
        }
    }
    if (released > 0) {
        w_.release(*s.handle, released);
    }
}

void mqtt_connection::handle_puback(const mqtt::puback& p) {
    auto* e = session_->inflight.find(p.packet_id);
    if (e == nullptr || e->at != outbound_window::stage::awaiting_puback) {
        return;  // unknown id: nothing to complete (B2-41)
    }
    w_.message_done(*session_, e->out);
    session_->inflight.erase(p.packet_id);
    w_.release(*session_->handle, 1);
    pump();
}

void mqtt_connection::handle_pubrec(const mqtt::pubrec& p) {
    auto* e = session_->inflight.find(p.packet_id);
    mqtt::pubrel rel;
    rel.packet_id = p.packet_id;
    if (e == nullptr) {
        rel.reason_code = mqtt::reason_code::packet_identifier_not_found;
        send_packet(rel);
        return;
    }
    if (e->at == outbound_window::stage::awaiting_puback) {
        return;  // a PUBREC for a QoS 1 message: ignore
    }
    w_.message_done(*session_, e->out);  // the subscriber has it (or refused it)
    if (static_cast<std::uint8_t>(p.reason_code) >= 0x80) {
        session_->inflight.erase(p.packet_id);  // the receiver refused it: the flow ends (§4.3.3)
        w_.release(*session_->handle, 1);
        pump();
        return;
    }
    e->at = outbound_window::stage::awaiting_pubcomp;
    e->out.msg = std::make_shared<const message>();  // the payload is no longer needed
    send_packet(rel);                                // [MQTT-4.3.3-4]
}

void mqtt_connection::handle_pubcomp(const mqtt::pubcomp& p) {
    auto* e = session_->inflight.find(p.packet_id);
    if (e == nullptr || e->at != outbound_window::stage::awaiting_pubcomp) {
        return;
    }
    session_->inflight.erase(p.packet_id);
    w_.release(*session_->handle, 1);
    pump();
}

}  // namespace tollgate::broker
