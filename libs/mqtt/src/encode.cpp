// Encoding of every packet, MQTT 3.1.1 and 5.0. Each packet is written twice through the same code:
// once into a counting writer (for the remaining length) and once into the output.
#include <tollgate/mqtt/codec.hpp>

#include "property_codec.hpp"
#include "wire.hpp"

namespace tollgate::mqtt {

namespace {

using detail::writer;
constexpr auto v5 = protocol_version::v5;

bool has_properties(const properties& p) {
    return p != properties{};
}

void write_connect(writer& w, const connect& c, protocol_version v) {
    w.string("MQTT");
    w.u8(static_cast<std::uint8_t>(v));
    std::uint8_t flags = c.clean_start ? 0x02 : 0x00;
    if (c.will) {
        flags |=
            0x04U | static_cast<std::uint8_t>((c.will->qos & 0x03U) << 3) | (c.will->retain ? 0x20U : 0x00U);
    }
    flags |= (c.password ? 0x40U : 0x00U) | (c.username ? 0x80U : 0x00U);
    w.u8(flags);
    w.u16(c.keep_alive);
    if (v == v5) {
        detail::encode_properties(w, c.properties);
    }
    w.string(c.client_id);
    if (c.will) {
        if (v == v5) {
            detail::encode_properties(w, c.will->properties);
        }
        w.string(c.will->topic);
        w.binary(c.will->payload.span());
    }
    if (c.username) {
        w.string(*c.username);
    }
    if (c.password) {
        w.binary(c.password->span());
    }
}

void write_connack(writer& w, const connack& c, protocol_version v) {
    w.u8(c.session_present ? 0x01 : 0x00);
    if (v == v5) {
        w.u8(static_cast<std::uint8_t>(allowed_reason_code(packet_type::connack, c.reason_code)));
        detail::encode_properties(w, c.properties);
    } else {
        w.u8(v311_connack_code(c.reason_code));
    }
}

void write_publish(writer& w, const publish& p, protocol_version v, bool with_payload) {
    w.string(p.topic);
    if (p.qos > 0) {
        w.u16(p.packet_id);
    }
    if (v == v5) {
        detail::encode_properties(w, p.properties);
    }
    if (with_payload) {
        w.bytes(p.payload.span());
    }
}

template <typename Ack>
void write_ack(writer& w, const Ack& a, protocol_version v, packet_type type) {
    w.u16(a.packet_id);
    if (v != v5) {
        return;
    }
    const reason_code code = allowed_reason_code(type, a.reason_code);
    const bool props = has_properties(a.properties);
    if (code == reason_code::success && !props) {
        return;  // §3.4.2.1: Remaining Length 2 means success, no properties
    }
    w.u8(static_cast<std::uint8_t>(code));
    if (props) {
        detail::encode_properties(w, a.properties);
    }
}

void write_subscribe(writer& w, const subscribe& s, protocol_version v) {
    w.u16(s.packet_id);
    if (v == v5) {
        detail::encode_properties(w, s.properties);
    }
    for (const subscription& sub : s.subscriptions) {
        w.string(sub.filter);
        auto options = static_cast<std::uint8_t>(sub.max_qos & 0x03U);
        if (v == v5) {
            options |= static_cast<std::uint8_t>((sub.no_local ? 0x04U : 0U) |
                                                 (sub.retain_as_published ? 0x08U : 0U) |
                                                 ((sub.retain_handling & 0x03U) << 4));
        }
        w.u8(options);
    }
}

void write_suback(writer& w, const suback& s, protocol_version v) {
    w.u16(s.packet_id);
    if (v == v5) {
        detail::encode_properties(w, s.properties);
    }
    for (const reason_code code : s.reason_codes) {
        w.u8(v == v5 ? static_cast<std::uint8_t>(allowed_reason_code(packet_type::suback, code))
                     : v311_suback_code(code));
    }
}

void write_unsubscribe(writer& w, const unsubscribe& u, protocol_version v) {
    w.u16(u.packet_id);
    if (v == v5) {
        detail::encode_properties(w, u.properties);
    }
    for (const std::string& filter : u.filters) {
        w.string(filter);
    }
}

void write_unsuback(writer& w, const unsuback& u, protocol_version v) {
    w.u16(u.packet_id);
    if (v != v5) {
        return;
    }
    detail::encode_properties(w, u.properties);
    for (const reason_code code : u.reason_codes) {
        w.u8(static_cast<std::uint8_t>(allowed_reason_code(packet_type::unsuback, code)));
    }
}

/// DISCONNECT and AUTH (5.0 only): both fields omitted when success without properties.
template <typename Packet>
void write_reason_and_properties(writer& w, const Packet& p, protocol_version v, packet_type type) {
    if (v != v5) {
        return;
    }
    const reason_code code = allowed_reason_code(type, p.reason_code);
    const bool props = has_properties(p.properties);
    if (code == reason_code::success && !props) {
        return;
    }
    w.u8(static_cast<std::uint8_t>(code));
    // DISCONNECT may stop after the reason code (§3.14.2.2.1); AUTH always carries the property length
    // after one (§3.15.2), and in practice the Authentication Method with it.
    if (props || type == packet_type::auth) {
        detail::encode_properties(w, p.properties);
    }
}

struct body_visitor {
    writer& w;
    protocol_version v;

    void operator()(const connect& p) const { write_connect(w, p, v); }
    void operator()(const connack& p) const { write_connack(w, p, v); }
    void operator()(const publish& p) const { write_publish(w, p, v, true); }
    void operator()(const puback& p) const { write_ack(w, p, v, packet_type::puback); }
    void operator()(const pubrec& p) const { write_ack(w, p, v, packet_type::pubrec); }
    void operator()(const pubrel& p) const { write_ack(w, p, v, packet_type::pubrel); }
    void operator()(const pubcomp& p) const { write_ack(w, p, v, packet_type::pubcomp); }
    void operator()(const subscribe& p) const { write_subscribe(w, p, v); }
    void operator()(const suback& p) const { write_suback(w, p, v); }
    void operator()(const unsubscribe& p) const { write_unsubscribe(w, p, v); }
    void operator()(const unsuback& p) const { write_unsuback(w, p, v); }
    void operator()(const pingreq&) const {}
    void operator()(const pingresp&) const {}
    void operator()(const disconnect& p) const {
        write_reason_and_properties(w, p, v, packet_type::disconnect);
    }
    void operator()(const auth& p) const { write_reason_and_properties(w, p, v, packet_type::auth); }
};

std::uint8_t publish_first_byte(const publish& p) {
    return static_cast<std::uint8_t>(0x30U | (p.dup ? 0x08U : 0U) | ((p.qos & 0x03U) << 1) |
                                     (p.retain ? 0x01U : 0U));
}

std::uint8_t first_byte(const packet& p) {
    if (const auto* pub = std::get_if<publish>(&p)) {
        return publish_first_byte(*pub);
    }
    const packet_type t = type_of(p);
    const bool flags_0010 =
        t == packet_type::pubrel || t == packet_type::subscribe || t == packet_type::unsubscribe;
    return static_cast<std::uint8_t>((static_cast<unsigned>(t) << 4) | (flags_0010 ? 0x02U : 0U));
}

bool encodable(const packet& p, protocol_version v) {
    return v == v5 || !std::holds_alternative<auth>(p);
}

std::size_t clamp_remaining(std::size_t n) {
    return std::min<std::size_t>(n, detail::max_vbi);
}

}  // namespace

void encode(const packet& p, protocol_version v, std::vector<std::uint8_t>& out) {
    if (!encodable(p, v)) {
        return;
    }
    writer counter;
    std::visit(body_visitor{counter, v}, p);
    const std::size_t remaining = clamp_remaining(counter.count());
    out.reserve(out.size() + 1 + detail::vbi_size(static_cast<std::uint32_t>(remaining)) + counter.count());
    writer w(out);
    w.u8(first_byte(p));
    w.vbi(static_cast<std::uint32_t>(remaining));
    std::visit(body_visitor{w, v}, p);
}

void encode_publish_header(const publish& p, protocol_version v, std::vector<std::uint8_t>& out) {
    writer counter;
    write_publish(counter, p, v, false);
    const std::size_t remaining = clamp_remaining(counter.count() + p.payload.size());
    writer w(out);
    out.reserve(out.size() + 1 + detail::vbi_size(static_cast<std::uint32_t>(remaining)) + counter.count());
    w.u8(publish_first_byte(p));
    w.vbi(static_cast<std::uint32_t>(remaining));
    write_publish(w, p, v, false);
}

std::size_t encoded_size(const packet& p, protocol_version v) {
    if (!encodable(p, v)) {
        return 0;
    }
    writer counter;
    std::visit(body_visitor{counter, v}, p);
    return 1 + detail::vbi_size(static_cast<std::uint32_t>(clamp_remaining(counter.count()))) +
           counter.count();
}

}  // namespace tollgate::mqtt
