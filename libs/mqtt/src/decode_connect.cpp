// Decoding of CONNECT (§3.1) and CONNACK (§3.2), MQTT 3.1.1 and 5.0.
#include <tollgate/mqtt/codec.hpp>
#include <tollgate/mqtt/topic.hpp>

#include "decode_common.hpp"
#include "property_codec.hpp"

namespace tollgate::mqtt {

namespace {

using detail::reader;

struct connect_flags {
    bool clean = false;
    bool will = false;
    std::uint8_t will_qos = 0;
    bool will_retain = false;
    bool password = false;
    bool username = false;
};

bool read_protocol(reader& r, connect& c) {
    std::string_view name;
    std::uint8_t level = 0;
    if (!r.raw_string(name) || !r.u8(level)) {
        return false;
    }
    if (name == "MQIsdp") {
        return r.fail(reason_code::unsupported_protocol_version, "MQTT 3.1 (MQIsdp) is not supported");
    }
    if (name != "MQTT") {
        return r.fail(reason_code::malformed_packet, "protocol name is not MQTT [MQTT-3.1.2-1]");
    }
    if (level == 4) {
        c.protocol_version = protocol_version::v311;
    } else if (level == 5) {
        c.protocol_version = protocol_version::v5;
    } else {
        return r.fail(reason_code::unsupported_protocol_version, "unsupported protocol level [MQTT-3.1.2-2]");
    }
    return true;
}

bool read_flags(reader& r, const connect& c, connect_flags& out) {
    std::uint8_t flags = 0;
    if (!r.u8(flags)) {
        return false;
    }
    if ((flags & 0x01U) != 0) {
        return r.fail(reason_code::malformed_packet, "CONNECT reserved flag is set [MQTT-3.1.2-3]");
    }
    out.clean = (flags & 0x02U) != 0;
    out.will = (flags & 0x04U) != 0;
    out.will_qos = static_cast<std::uint8_t>((flags >> 3) & 0x03U);
    out.will_retain = (flags & 0x20U) != 0;
    out.password = (flags & 0x40U) != 0;
    out.username = (flags & 0x80U) != 0;
    if (out.will_qos == 3) {
        return r.fail(reason_code::malformed_packet, "will QoS 3 [MQTT-3.1.2-14]");
    }
    if (!out.will && out.will_qos != 0) {
        return r.fail(reason_code::malformed_packet, "will QoS without will flag [MQTT-3.1.2-13]");
    }
    if (!out.will && out.will_retain) {
        return r.fail(reason_code::malformed_packet, "will retain without will flag [MQTT-3.1.2-15]");
    }
    if (c.protocol_version == protocol_version::v311 && out.password && !out.username) {
        return r.fail(reason_code::malformed_packet, "password without user name [MQTT-3.1.2-22]");
    }
    return true;
}

bool read_will(reader& r, const connect& c, const connect_flags& flags, const decode_limits& limits,
               will& w) {
    w.qos = flags.will_qos;
    w.retain = flags.will_retain;
    if (c.protocol_version == protocol_version::v5 &&
        !detail::decode_properties(r, detail::property_context::will, limits, w.properties)) {
        return false;
    }
    if (!r.utf8(w.topic) || !r.binary(w.payload)) {
        return false;
    }
    if (!is_valid_topic_name(w.topic)) {
        return r.fail(reason_code::topic_name_invalid,
                      "will topic is not a valid topic name (§3.1.3.3, [MQTT-4.7.3-1])");
    }
    return detail::check_payload_format(r, w.properties, w.payload, limits);
}

bool read_payload(reader& r, connect& c, const connect_flags& flags, const decode_limits& limits) {
    if (!r.utf8(c.client_id)) {
        return false;
    }
    if (c.protocol_version == protocol_version::v311 && c.client_id.empty() && !c.clean_start) {
        return r.fail(reason_code::client_identifier_not_valid,
                      "empty client identifier with clean session 0 [MQTT-3.1.3-8]");
    }
    if (flags.will) {
        c.will.emplace();
        if (!read_will(r, c, flags, limits, *c.will)) {
            return false;
        }
    }
    if (flags.username) {
        c.username.emplace();
        if (!r.utf8(*c.username)) {
            return false;
        }
    }
    if (flags.password) {
        c.password.emplace();
        if (!r.binary(*c.password)) {
            return false;
        }
    }
    return true;
}

bool read_connect(reader& r, const decode_limits& limits, connect& c) {
    connect_flags flags;
    if (!read_protocol(r, c) || !read_flags(r, c, flags) || !r.u16(c.keep_alive)) {
        return false;
    }
    c.clean_start = flags.clean;
    if (c.protocol_version == protocol_version::v5 &&
        !detail::decode_properties(r, detail::property_context::connect, limits, c.properties)) {
        return false;
    }
    return read_payload(r, c, flags, limits);
}

}  // namespace

namespace detail {

bool read_connack(reader& r, protocol_version version, const decode_limits& limits, connack& c) {
    std::uint8_t flags = 0;
    std::uint8_t code = 0;
    if (!r.u8(flags) || !r.u8(code)) {
        return false;
    }
    if ((flags & 0xFEU) != 0) {
        return r.fail(reason_code::malformed_packet, "CONNACK reserved flags are set [MQTT-3.2.2-1]");
    }
    c.session_present = (flags & 0x01U) != 0;
    if (version == protocol_version::v311) {
        static constexpr reason_code from_v311[] = {reason_code::success,
                                                    reason_code::unsupported_protocol_version,
                                                    reason_code::client_identifier_not_valid,
                                                    reason_code::server_unavailable,
                                                    reason_code::bad_user_name_or_password,
                                                    reason_code::not_authorized};
        if (code >= std::size(from_v311)) {
            return r.fail(reason_code::malformed_packet, "reserved CONNACK return code");
        }
        c.reason_code = from_v311[code];
        return true;
    }
    if (!check_reason(r, packet_type::connack, code, c.reason_code)) {
        return false;
    }
    return decode_properties(r, property_context::connack, limits, c.properties);
}

}  // namespace detail

std::variant<connect, decode_error> decode_connect(const frame& f, const decode_limits& limits) {
    if (f.type() != packet_type::connect) {
        return decode_error{reason_code::protocol_error, "expected a CONNECT packet"};
    }
    if (f.flags() != 0) {
        return decode_error{reason_code::malformed_packet,
                            "CONNECT fixed header flags are not 0 [MQTT-2.1.3-1]"};
    }
    std::optional<decode_error> error;
    reader r(f.body, error);
    connect c;
    if (!read_connect(r, limits, c) || !detail::expect_end(r)) {
        return error.value_or(decode_error{reason_code::malformed_packet, "malformed CONNECT"});
    }
    return c;
}

}  // namespace tollgate::mqtt
