// Decoding of every packet but CONNECT/CONNACK (decode_connect.cpp), MQTT 3.1.1 and 5.0.
#include <tollgate/mqtt/codec.hpp>
#include <tollgate/mqtt/topic.hpp>

#include "decode_common.hpp"
#include "property_codec.hpp"

namespace tollgate::mqtt {

namespace detail {

bool expect_end(reader& r) {
    return r.at_end() || r.fail(reason_code::malformed_packet, "bytes after the end of the packet");
}

bool check_reason(reader& r, packet_type type, std::uint8_t byte, reason_code& out) {
    const auto code = static_cast<reason_code>(byte);
    if (!is_reason_code(byte) || !is_allowed_reason_code(type, code)) {
        return r.fail(reason_code::protocol_error, "reason code not allowed in this packet (§2.4)");
    }
    out = code;
    return true;
}

bool check_payload_format(reader& r, const properties& props, const common::shared_bytes& payload,
                          const decode_limits& limits) {
    if (limits.validate_payload_format && props.payload_format_indicator == 1 &&
        !is_well_formed_utf8(payload.as_string_view())) {
        return r.fail(reason_code::payload_format_invalid,
                      "payload is not UTF-8 as its format indicator says");
    }
    return true;
}

bool read_packet_id(reader& r, std::uint16_t& out) {
    if (!r.u16(out)) {
        return false;
    }
    return out != 0 || r.fail(reason_code::protocol_error, "packet identifier 0 [MQTT-2.2.1-3]");
}

}  // namespace detail

namespace {

using detail::reader;
constexpr auto v311 = protocol_version::v311;
constexpr auto v5 = protocol_version::v5;

bool read_publish(reader& r, protocol_version v, std::uint8_t flags, const decode_limits& limits,
                  publish& p) {
    p.retain = (flags & 0x01U) != 0;
    p.qos = static_cast<std::uint8_t>((flags >> 1) & 0x03U);
    p.dup = (flags & 0x08U) != 0;
    if (p.qos == 3) {
        return r.fail(reason_code::malformed_packet, "PUBLISH QoS 3 [MQTT-3.3.1-4]");
    }
    if (p.dup && p.qos == 0) {
        return r.fail(reason_code::malformed_packet, "DUP set on a QoS 0 PUBLISH [MQTT-3.3.1-2]");
    }
    if (!r.utf8(p.topic)) {
        return false;
    }
    if (p.qos > 0 && !detail::read_packet_id(r, p.packet_id)) {
        return false;
    }
    if (v == v5 && !detail::decode_properties(r, detail::property_context::publish, limits, p.properties)) {
        return false;
    }
    if (p.topic.empty()) {
        if (v == v311) {
            return r.fail(reason_code::malformed_packet, "empty topic name [MQTT-4.7.3-1]");
        }
        if (!p.properties.topic_alias) {
            return r.fail(reason_code::protocol_error, "empty topic name without topic alias (§3.3.2.1)");
        }
    } else if (!is_valid_topic_name(p.topic)) {
        return r.fail(reason_code::topic_name_invalid, "wildcard in topic name [MQTT-3.3.2-2]");
    }
    p.payload = r.rest();
    return detail::check_payload_format(r, p.properties, p.payload, limits);
}

template <typename Ack>
bool read_ack(reader& r, protocol_version v, packet_type type, const decode_limits& limits, Ack& a) {
    if (!detail::read_packet_id(r, a.packet_id)) {
        return false;
    }
    if (v == v311 || r.at_end()) {
        return true;  // 3.1.1: exactly two bytes; 5.0: no reason code means success (§3.4.2.1)
    }
    std::uint8_t code = 0;
    if (!r.u8(code) || !detail::check_reason(r, type, code, a.reason_code)) {
        return false;
    }
    return r.at_end() || detail::decode_properties(r, detail::context_of(type), limits, a.properties);
}

/// A topic filter of SUBSCRIBE or UNSUBSCRIBE: wildcard rules [MQTT-4.7.1-2] [MQTT-4.7.1-3], non-empty
/// [MQTT-4.7.3-1]; in 5.0 also the shared subscription form [MQTT-4.8.2-1] [MQTT-4.8.2-2].
bool read_filter(reader& r, protocol_version v, std::string& filter) {
    if (!r.utf8(filter)) {
        return false;
    }
    if (v == v5) {
        const reason_code shared = check_shared_subscription(filter);
        if (shared != reason_code::success) {
            return r.fail(shared, "invalid shared subscription filter (§4.8.2)");
        }
    }
    return is_valid_topic_filter(filter) ||
           r.fail(reason_code::malformed_packet,
                  "invalid topic filter [MQTT-4.7.1-2] [MQTT-4.7.1-3] [MQTT-4.7.3-1]");
}

bool read_options(reader& r, protocol_version v, subscription& s) {
    std::uint8_t options = 0;
    if (!r.u8(options)) {
        return false;
    }
    s.max_qos = options & 0x03U;
    if (v == v311) {
        if ((options & 0xFCU) != 0 || s.max_qos == 3) {
            return r.fail(reason_code::malformed_packet,
                          "reserved bits or QoS 3 in SUBSCRIBE [MQTT-3.8.3-4]");
        }
        return true;
    }
    if ((options & 0xC0U) != 0) {
        return r.fail(reason_code::malformed_packet, "subscription options reserved bits [MQTT-3.8.3-5]");
    }
    if (s.max_qos == 3) {
        return r.fail(reason_code::protocol_error, "subscription maximum QoS 3 (§3.8.3.1)");
    }
    s.no_local = (options & 0x04U) != 0;
    s.retain_as_published = (options & 0x08U) != 0;
    s.retain_handling = static_cast<std::uint8_t>((options >> 4) & 0x03U);
    if (s.retain_handling == 3) {
        return r.fail(reason_code::protocol_error, "retain handling 3 (§3.8.3.1)");
    }
    if (s.no_local && parse_shared_subscription(s.filter)) {
        return r.fail(reason_code::protocol_error, "no local on a shared subscription [MQTT-3.8.3-4]");
    }
    return true;
}

bool no_entries(reader& r, protocol_version v, std::string_view what) {
    // 3.1.1 [MQTT-3.8.3-3] [MQTT-3.10.3-2]: a protocol violation, the connection closes; 5.0
    // [MQTT-3.8.3-2] [MQTT-3.10.3-2]: Protocol Error.
    return r.fail(v == v5 ? reason_code::protocol_error : reason_code::malformed_packet, what);
}

bool read_subscribe(reader& r, protocol_version v, const decode_limits& limits, subscribe& s) {
    if (!detail::read_packet_id(r, s.packet_id)) {
        return false;
    }
    if (v == v5 && !detail::decode_properties(r, detail::property_context::subscribe, limits, s.properties)) {
        return false;
    }
    while (!r.at_end()) {
        subscription sub;
        if (!read_filter(r, v, sub.filter) || !read_options(r, v, sub)) {
            return false;
        }
        s.subscriptions.push_back(std::move(sub));
    }
    return !s.subscriptions.empty() || no_entries(r, v, "SUBSCRIBE without topic filters");
}

bool read_unsubscribe(reader& r, protocol_version v, const decode_limits& limits, unsubscribe& u) {
    if (!detail::read_packet_id(r, u.packet_id)) {
        return false;
    }
    if (v == v5 &&
        !detail::decode_properties(r, detail::property_context::unsubscribe, limits, u.properties)) {
        return false;
    }
    while (!r.at_end()) {
        std::string filter;
        if (!read_filter(r, v, filter)) {
            return false;
        }
        u.filters.push_back(std::move(filter));
    }
    return !u.filters.empty() || no_entries(r, v, "UNSUBSCRIBE without topic filters");
}

bool read_suback(reader& r, protocol_version v, const decode_limits& limits, suback& s) {
    if (!detail::read_packet_id(r, s.packet_id)) {
        return false;
    }
    if (v == v5 && !detail::decode_properties(r, detail::property_context::suback, limits, s.properties)) {
        return false;
    }
    while (!r.at_end()) {
        std::uint8_t byte = 0;
        reason_code code = reason_code::success;
        if (!r.u8(byte)) {
            return false;
        }
        if (v == v311) {
            if (byte > 2 && byte != 0x80) {
                return r.fail(reason_code::malformed_packet, "reserved SUBACK return code [MQTT-3.9.3-2]");
            }
            code = byte == 0x80 ? reason_code::unspecified_error : static_cast<reason_code>(byte);
        } else if (!detail::check_reason(r, packet_type::suback, byte, code)) {
            return false;
        }
        s.reason_codes.push_back(code);
    }
    return !s.reason_codes.empty() || no_entries(r, v, "SUBACK without return codes");
}

bool read_unsuback(reader& r, protocol_version v, const decode_limits& limits, unsuback& u) {
    if (!detail::read_packet_id(r, u.packet_id)) {
        return false;
    }
    if (v == v311) {
        return true;
    }
    if (!detail::decode_properties(r, detail::property_context::unsuback, limits, u.properties)) {
        return false;
    }
    while (!r.at_end()) {
        std::uint8_t byte = 0;
        reason_code code = reason_code::success;
        if (!r.u8(byte) || !detail::check_reason(r, packet_type::unsuback, byte, code)) {
            return false;
        }
        u.reason_codes.push_back(code);
    }
    return !u.reason_codes.empty() || no_entries(r, v, "UNSUBACK without reason codes");
}

/// DISCONNECT and AUTH (5.0): both fields may be omitted (§3.14.2, §3.15.2).
template <typename Packet>
bool read_reason_and_properties(reader& r, packet_type type, const decode_limits& limits, Packet& p) {
    if (r.at_end()) {
        return true;
    }
    std::uint8_t code = 0;
    if (!r.u8(code) || !detail::check_reason(r, type, code, p.reason_code)) {
        return false;
    }
    return r.at_end() || detail::decode_properties(r, detail::context_of(type), limits, p.properties);
}

std::uint8_t required_flags(packet_type type) noexcept {
    switch (type) {
        case packet_type::pubrel:
        case packet_type::subscribe:
        case packet_type::unsubscribe:
            return 0x02;
        default:
            return 0x00;
    }
}

template <typename Packet, typename Read>
std::variant<packet, decode_error> run(const frame& f, Read read) {
    std::optional<decode_error> error;
    reader r(f.body, error);
    Packet p;
    if (!read(r, p) || !detail::expect_end(r)) {
        return error.value_or(decode_error{reason_code::malformed_packet, "malformed packet"});
    }
    return packet(std::move(p));
}

std::variant<packet, decode_error> decode_connect_for(protocol_version v, const frame& f,
                                                      const decode_limits& limits) {
    auto result = decode_connect(f, limits);
    if (auto* error = std::get_if<decode_error>(&result)) {
        return std::move(*error);
    }
    auto& c = std::get<connect>(result);
    if (c.protocol_version != v) {
        return decode_error{reason_code::protocol_error,
                            "CONNECT protocol level differs from the connection's"};
    }
    return packet(std::move(c));
}

}  // namespace

std::variant<packet, decode_error> decode(protocol_version v, const frame& f, const decode_limits& limits) {
    const packet_type type = f.type();
    if (type != packet_type::publish && f.flags() != required_flags(type)) {
        return decode_error{reason_code::malformed_packet, "invalid fixed header flags [MQTT-2.1.3-1]"};
    }
    const std::uint8_t flags = f.flags();
    switch (type) {
        case packet_type::connect:
            return decode_connect_for(v, f, limits);
        case packet_type::connack:
            return run<connack>(f,
                                [&](reader& r, connack& p) { return detail::read_connack(r, v, limits, p); });
        case packet_type::publish:
            return run<publish>(f,
                                [&](reader& r, publish& p) { return read_publish(r, v, flags, limits, p); });
        case packet_type::puback:
            return run<puback>(f, [&](reader& r, puback& p) { return read_ack(r, v, type, limits, p); });
        case packet_type::pubrec:
            return run<pubrec>(f, [&](reader& r, pubrec& p) { return read_ack(r, v, type, limits, p); });
        case packet_type::pubrel:
            return run<pubrel>(f, [&](reader& r, pubrel& p) { return read_ack(r, v, type, limits, p); });
        case packet_type::pubcomp:
            return run<pubcomp>(f, [&](reader& r, pubcomp& p) { return read_ack(r, v, type, limits, p); });
        case packet_type::subscribe:
            return run<subscribe>(f,
                                  [&](reader& r, subscribe& p) { return read_subscribe(r, v, limits, p); });
        case packet_type::suback:
            return run<suback>(f, [&](reader& r, suback& p) { return read_suback(r, v, limits, p); });
        case packet_type::unsubscribe:
            return run<unsubscribe>(
                f, [&](reader& r, unsubscribe& p) { return read_unsubscribe(r, v, limits, p); });
        case packet_type::unsuback:
            return run<unsuback>(f, [&](reader& r, unsuback& p) { return read_unsuback(r, v, limits, p); });
        case packet_type::pingreq:
            return run<pingreq>(f, [](reader&, pingreq&) { return true; });
        case packet_type::pingresp:
            return run<pingresp>(f, [](reader&, pingresp&) { return true; });
        case packet_type::disconnect:
            return run<disconnect>(f, [&](reader& r, disconnect& p) {
                return v == v311 || read_reason_and_properties(r, type, limits, p);
            });
        case packet_type::auth:
            if (v == v311) {
                return decode_error{reason_code::malformed_packet,
                                    "AUTH is a reserved packet type in MQTT 3.1.1"};
            }
            return run<auth>(
                f, [&](reader& r, auth& p) { return read_reason_and_properties(r, type, limits, p); });
    }
    return decode_error{reason_code::malformed_packet, "reserved control packet type 0"};
}

packet_type type_of(const packet& p) noexcept {
    return static_cast<packet_type>(p.index() + 1);
}

}  // namespace tollgate::mqtt
