#include <algorithm>
#include <array>
#include <span>

#include <tollgate/mqtt/reason_code.hpp>

namespace tollgate::mqtt {

namespace {

using rc = reason_code;

constexpr std::array connack_codes{rc::success,
                                   rc::unspecified_error,
                                   rc::malformed_packet,
                                   rc::protocol_error,
                                   rc::implementation_specific_error,
                                   rc::unsupported_protocol_version,
                                   rc::client_identifier_not_valid,
                                   rc::bad_user_name_or_password,
                                   rc::not_authorized,
                                   rc::server_unavailable,
                                   rc::server_busy,
                                   rc::banned,
                                   rc::bad_authentication_method,
                                   rc::topic_name_invalid,
                                   rc::packet_too_large,
                                   rc::quota_exceeded,
                                   rc::payload_format_invalid,
                                   rc::retain_not_supported,
                                   rc::qos_not_supported,
                                   rc::use_another_server,
                                   rc::server_moved,
                                   rc::connection_rate_exceeded};

constexpr std::array puback_codes{rc::success,
                                  rc::no_matching_subscribers,
                                  rc::unspecified_error,
                                  rc::implementation_specific_error,
                                  rc::not_authorized,
                                  rc::topic_name_invalid,
                                  rc::packet_identifier_in_use,
                                  rc::quota_exceeded,
                                  rc::payload_format_invalid};

constexpr std::array pubrel_codes{rc::success, rc::packet_identifier_not_found};

constexpr std::array suback_codes{rc::success,
                                  rc::granted_qos_1,
                                  rc::granted_qos_2,
                                  rc::unspecified_error,
                                  rc::implementation_specific_error,
                                  rc::not_authorized,
                                  rc::topic_filter_invalid,
                                  rc::packet_identifier_in_use,
                                  rc::quota_exceeded,
                                  rc::shared_subscriptions_not_supported,
                                  rc::subscription_identifiers_not_supported,
                                  rc::wildcard_subscriptions_not_supported};

constexpr std::array unsuback_codes{rc::success,
                                    rc::no_subscription_existed,
                                    rc::unspecified_error,
                                    rc::implementation_specific_error,
                                    rc::not_authorized,
                                    rc::topic_filter_invalid,
                                    rc::packet_identifier_in_use};

constexpr std::array disconnect_codes{rc::success,
                                      rc::disconnect_with_will,
                                      rc::unspecified_error,
                                      rc::malformed_packet,
                                      rc::protocol_error,
                                      rc::implementation_specific_error,
                                      rc::not_authorized,
                                      rc::server_busy,
                                      rc::server_shutting_down,
                                      rc::keep_alive_timeout,
                                      rc::session_taken_over,
                                      rc::topic_filter_invalid,
                                      rc::topic_name_invalid,
                                      rc::receive_maximum_exceeded,
                                      rc::topic_alias_invalid,
                                      rc::packet_too_large,
                                      rc::message_rate_too_high,
                                      rc::quota_exceeded,
                                      rc::administrative_action,
                                      rc::payload_format_invalid,
                                      rc::retain_not_supported,
                                      rc::qos_not_supported,
                                      rc::use_another_server,
                                      rc::server_moved,
                                      rc::shared_subscriptions_not_supported,
                                      rc::connection_rate_exceeded,
                                      rc::maximum_connect_time,
                                      rc::subscription_identifiers_not_supported,
                                      rc::wildcard_subscriptions_not_supported};

constexpr std::array auth_codes{rc::success, rc::continue_authentication, rc::reauthenticate};

std::span<const reason_code> allowed_codes(packet_type type) noexcept {
    switch (type) {
        case packet_type::connack:
            return connack_codes;
        case packet_type::puback:
        case packet_type::pubrec:
            return puback_codes;
        case packet_type::pubrel:
        case packet_type::pubcomp:
            return pubrel_codes;
        case packet_type::suback:
            return suback_codes;
        case packet_type::unsuback:
            return unsuback_codes;
        case packet_type::disconnect:
            return disconnect_codes;
        case packet_type::auth:
            return auth_codes;
        default:
            return {};
    }
}

}  // namespace

std::string_view to_string(reason_code code) noexcept {
    switch (code) {
        case rc::success:
            return "success";
        case rc::granted_qos_1:
            return "granted_qos_1";
        case rc::granted_qos_2:
            return "granted_qos_2";
        case rc::disconnect_with_will:
            return "disconnect_with_will";
        case rc::no_matching_subscribers:
            return "no_matching_subscribers";
        case rc::no_subscription_existed:
            return "no_subscription_existed";
        case rc::continue_authentication:
            return "continue_authentication";
        case rc::reauthenticate:
            return "reauthenticate";
        case rc::unspecified_error:
            return "unspecified_error";
        case rc::malformed_packet:
            return "malformed_packet";
        case rc::protocol_error:
            return "protocol_error";
        case rc::implementation_specific_error:
            return "implementation_specific_error";
        case rc::unsupported_protocol_version:
            return "unsupported_protocol_version";
        case rc::client_identifier_not_valid:
            return "client_identifier_not_valid";
        case rc::bad_user_name_or_password:
            return "bad_user_name_or_password";
        case rc::not_authorized:
            return "not_authorized";
        case rc::server_unavailable:
            return "server_unavailable";
        case rc::server_busy:
            return "server_busy";
        case rc::banned:
            return "banned";
        case rc::server_shutting_down:
            return "server_shutting_down";
        case rc::bad_authentication_method:
            return "bad_authentication_method";
        case rc::keep_alive_timeout:
            return "keep_alive_timeout";
        case rc::session_taken_over:
            return "session_taken_over";
        case rc::topic_filter_invalid:
            return "topic_filter_invalid";
        case rc::topic_name_invalid:
            return "topic_name_invalid";
        case rc::packet_identifier_in_use:
            return "packet_identifier_in_use";
        case rc::packet_identifier_not_found:
            return "packet_identifier_not_found";
        case rc::receive_maximum_exceeded:
            return "receive_maximum_exceeded";
        case rc::topic_alias_invalid:
            return "topic_alias_invalid";
        case rc::packet_too_large:
            return "packet_too_large";
        case rc::message_rate_too_high:
            return "message_rate_too_high";
        case rc::quota_exceeded:
            return "quota_exceeded";
        case rc::administrative_action:
            return "administrative_action";
        case rc::payload_format_invalid:
            return "payload_format_invalid";
        case rc::retain_not_supported:
            return "retain_not_supported";
        case rc::qos_not_supported:
            return "qos_not_supported";
        case rc::use_another_server:
            return "use_another_server";
        case rc::server_moved:
            return "server_moved";
        case rc::shared_subscriptions_not_supported:
            return "shared_subscriptions_not_supported";
        case rc::connection_rate_exceeded:
            return "connection_rate_exceeded";
        case rc::maximum_connect_time:
            return "maximum_connect_time";
        case rc::subscription_identifiers_not_supported:
            return "subscription_identifiers_not_supported";
        case rc::wildcard_subscriptions_not_supported:
            return "wildcard_subscriptions_not_supported";
    }
    return "unknown";
}

std::string_view to_string(packet_type type) noexcept {
    switch (type) {
        case packet_type::connect:
            return "CONNECT";
        case packet_type::connack:
            return "CONNACK";
        case packet_type::publish:
            return "PUBLISH";
        case packet_type::puback:
            return "PUBACK";
        case packet_type::pubrec:
            return "PUBREC";
        case packet_type::pubrel:
            return "PUBREL";
        case packet_type::pubcomp:
            return "PUBCOMP";
        case packet_type::subscribe:
            return "SUBSCRIBE";
        case packet_type::suback:
            return "SUBACK";
        case packet_type::unsubscribe:
            return "UNSUBSCRIBE";
        case packet_type::unsuback:
            return "UNSUBACK";
        case packet_type::pingreq:
            return "PINGREQ";
        case packet_type::pingresp:
            return "PINGRESP";
        case packet_type::disconnect:
            return "DISCONNECT";
        case packet_type::auth:
            return "AUTH";
    }
    return "RESERVED";
}

bool is_reason_code(std::uint8_t byte) noexcept {
    return to_string(static_cast<reason_code>(byte)) != "unknown";
}

bool is_allowed_reason_code(packet_type type, reason_code code) noexcept {
    const auto codes = allowed_codes(type);
    return std::find(codes.begin(), codes.end(), code) != codes.end();
}

reason_code allowed_reason_code(packet_type type, reason_code code) noexcept {
    if (is_allowed_reason_code(type, code)) {
        return code;
    }
    const bool error = static_cast<std::uint8_t>(code) >= 0x80;
    if (!error) {
        return rc::success;
    }
    if (type == packet_type::pubrel || type == packet_type::pubcomp) {
        return rc::packet_identifier_not_found;
    }
    if (type == packet_type::auth) {
        // AUTH cannot carry an error; a failed exchange ends with CONNACK or DISCONNECT instead.
        return rc::continue_authentication;
    }
    return rc::unspecified_error;
}

std::uint8_t v311_connack_code(reason_code code) noexcept {
    switch (code) {
        case rc::success:
            return 0;
        case rc::unsupported_protocol_version:
            return 1;
        case rc::client_identifier_not_valid:
            return 2;
        case rc::server_unavailable:
        case rc::server_busy:
        case rc::server_shutting_down:
        case rc::use_another_server:
        case rc::server_moved:
        case rc::connection_rate_exceeded:
        case rc::quota_exceeded:
        case rc::maximum_connect_time:
        case rc::unspecified_error:
        case rc::implementation_specific_error:
            return 3;
        case rc::bad_user_name_or_password:
            return 4;
        default:
            return 5;
    }
}

std::uint8_t v311_suback_code(reason_code code) noexcept {
    switch (code) {
        case rc::success:
            return 0x00;
        case rc::granted_qos_1:
            return 0x01;
        case rc::granted_qos_2:
            return 0x02;
        default:
            return 0x80;
    }
}

}  // namespace tollgate::mqtt
