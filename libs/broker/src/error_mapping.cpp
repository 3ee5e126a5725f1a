#include <tollgate/broker/error_mapping.hpp>

namespace tollgate::broker {

namespace {

// The CONNECT refusals MQTT 3.1.1 has a CONNACK return code for (§3.2.2.3). Everything else is a
// malformed or protocol-violating CONNECT, which 3.1.1 answers by closing.
bool v311_has_connack_code(mqtt::reason_code reason) noexcept {
    using rc = mqtt::reason_code;
    switch (reason) {
        case rc::unsupported_protocol_version:
        case rc::client_identifier_not_valid:
        case rc::server_unavailable:
        case rc::server_busy:
        case rc::server_shutting_down:
        case rc::use_another_server:
        case rc::server_moved:
        case rc::connection_rate_exceeded:
        case rc::quota_exceeded:
        case rc::implementation_specific_error:
        case rc::unspecified_error:
        case rc::bad_user_name_or_password:
        case rc::not_authorized:
        case rc::banned:
        case rc::bad_authentication_method:
            return true;
        default:
            return false;
    }
}

}  // namespace

refusal map_refusal(mqtt::reason_code reason, refusal_stage stage, mqtt::protocol_version version) noexcept {
    refusal out;
    if (version == mqtt::protocol_version::v5) {
        const mqtt::packet_type type = stage == refusal_stage::before_connack ? mqtt::packet_type::connack
                                                                              : mqtt::packet_type::disconnect;
        out.what =
            stage == refusal_stage::before_connack ? refusal::kind::connack : refusal::kind::disconnect;
        out.reason = mqtt::allowed_reason_code(type, reason);
        out.wire_code = static_cast<std::uint8_t>(out.reason);
        return out;
    }
    if (stage == refusal_stage::before_connack && v311_has_connack_code(reason)) {
        out.what = refusal::kind::connack;
        out.reason = reason;
        out.wire_code = mqtt::v311_connack_code(reason);
        return out;
    }
    out.what = refusal::kind::close;
    out.reason = reason;
    return out;
}

std::uint8_t map_suback(mqtt::reason_code reason, mqtt::protocol_version version) noexcept {
    if (version == mqtt::protocol_version::v5) {
        return static_cast<std::uint8_t>(mqtt::allowed_reason_code(mqtt::packet_type::suback, reason));
    }
    return mqtt::v311_suback_code(reason);
}

bool refusable_in_ack(mqtt::reason_code reason, mqtt::protocol_version version) noexcept {
    return version == mqtt::protocol_version::v5 &&
           mqtt::is_allowed_reason_code(mqtt::packet_type::puback, reason);
}

}  // namespace tollgate::broker
