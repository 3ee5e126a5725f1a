#include <array>
#include <string_view>

#include <tollgate/mqtt/topic.hpp>

#include "property_codec.hpp"

namespace tollgate::mqtt::detail {

namespace {

using pc = property_context;
using pid = property_id;

constexpr std::uint32_t bit(pc c) noexcept {
    return 1U << static_cast<unsigned>(c);
}

constexpr std::uint32_t publish_will = bit(pc::publish) | bit(pc::will);
constexpr std::uint32_t reason_string_contexts = bit(pc::connack) | bit(pc::puback) | bit(pc::pubrec) |
                                                 bit(pc::pubrel) | bit(pc::pubcomp) | bit(pc::suback) |
                                                 bit(pc::unsuback) | bit(pc::disconnect) | bit(pc::auth);
constexpr std::uint32_t all_contexts = reason_string_contexts | bit(pc::connect) | bit(pc::publish) |
                                       bit(pc::subscribe) | bit(pc::unsubscribe) | bit(pc::will);

/// Which property lists may carry each identifier (§2.2.2.2 table); 0 = not a property identifier.
constexpr std::array<std::uint32_t, 0x2B> allowed_contexts = [] {
    std::array<std::uint32_t, 0x2B> t{};
    auto set = [&t](pid id, std::uint32_t contexts) { t[static_cast<std::size_t>(id)] = contexts; };
    set(pid::payload_format_indicator, publish_will);
    set(pid::message_expiry_interval, publish_will);
    set(pid::content_type, publish_will);
    set(pid::response_topic, publish_will);
    set(pid::correlation_data, publish_will);
    set(pid::subscription_identifier, bit(pc::publish) | bit(pc::subscribe));
    set(pid::session_expiry_interval, bit(pc::connect) | bit(pc::connack) | bit(pc::disconnect));
    set(pid::assigned_client_identifier, bit(pc::connack));
    set(pid::server_keep_alive, bit(pc::connack));
    set(pid::authentication_method, bit(pc::connect) | bit(pc::connack) | bit(pc::auth));
    set(pid::authentication_data, bit(pc::connect) | bit(pc::connack) | bit(pc::auth));
    set(pid::request_problem_information, bit(pc::connect));
    set(pid::will_delay_interval, bit(pc::will));
    set(pid::request_response_information, bit(pc::connect));
    set(pid::response_information, bit(pc::connack));
    set(pid::server_reference, bit(pc::connack) | bit(pc::disconnect));
    set(pid::reason_string, reason_string_contexts);
    set(pid::receive_maximum, bit(pc::connect) | bit(pc::connack));
    set(pid::topic_alias_maximum, bit(pc::connect) | bit(pc::connack));
    set(pid::topic_alias, bit(pc::publish));
    set(pid::maximum_qos, bit(pc::connack));
    set(pid::retain_available, bit(pc::connack));
    set(pid::user_property, all_contexts);
    set(pid::maximum_packet_size, bit(pc::connect) | bit(pc::connack));
    set(pid::wildcard_subscription_available, bit(pc::connack));
    set(pid::subscription_identifier_available, bit(pc::connack));
    set(pid::shared_subscription_available, bit(pc::connack));
    return t;
}();

/// A Byte property whose only values are 0 and 1 (Protocol Error otherwise).
bool read_flag(reader& r, std::optional<std::uint8_t>& out) {
    std::uint8_t v = 0;
    if (!r.u8(v)) {
        return false;
    }
    if (v > 1) {
        return r.fail(reason_code::protocol_error, "property value must be 0 or 1");
    }
    out = v;
    return true;
}

bool read_u16(reader& r, std::optional<std::uint16_t>& out, bool nonzero) {
    std::uint16_t v = 0;
    if (!r.u16(v)) {
        return false;
    }
    if (nonzero && v == 0) {
        return r.fail(reason_code::protocol_error, "property value must not be 0");
    }
    out = v;
    return true;
}

bool read_u32(reader& r, std::optional<std::uint32_t>& out, bool nonzero) {
    std::uint32_t v = 0;
    if (!r.u32(v)) {
        return false;
    }
    if (nonzero && v == 0) {
        return r.fail(reason_code::protocol_error, "property value must not be 0");
    }
    out = v;
    return true;
}

bool read_string(reader& r, std::optional<std::string>& out) {
    std::string v;
    if (!r.utf8(v)) {
        return false;
    }
    out = std::move(v);
    return true;
}

bool read_binary(reader& r, std::optional<common::shared_bytes>& out) {
    common::shared_bytes v;
    if (!r.binary(v)) {
        return false;
    }
    out = std::move(v);
    return true;
}

struct user_budget {
    std::size_t bytes = 0;
};

bool read_user_property(reader& r, const decode_limits& limits, properties& out, user_budget& budget) {
    user_property pair;
    if (!r.utf8(pair.first) || !r.utf8(pair.second)) {
        return false;
    }
    budget.bytes += pair.first.size() + pair.second.size();
    if (out.user_properties.size() >= limits.max_user_properties ||
        budget.bytes > limits.max_user_property_bytes) {
        return r.fail(reason_code::packet_too_large, "too many user properties");
    }
    out.user_properties.push_back(std::move(pair));
    return true;
}

bool read_subscription_identifier(reader& r, properties& out) {
    std::uint32_t v = 0;
    if (!r.vbi(v)) {
        return false;
    }
    if (v == 0) {
        return r.fail(reason_code::protocol_error, "subscription identifier 0");
    }
    out.subscription_identifiers.push_back(v);
    return true;
}

bool read_topic_alias(reader& r, properties& out) {
    std::uint16_t v = 0;
    if (!r.u16(v)) {
        return false;
    }
    if (v == 0) {
        return r.fail(reason_code::topic_alias_invalid, "topic alias 0 [MQTT-3.3.2-8]");
    }
    out.topic_alias = v;
    return true;
}

bool read_response_topic(reader& r, properties& out) {
    if (!read_string(r, out.response_topic)) {
        return false;
    }
    if (!is_valid_topic_name(*out.response_topic)) {
        return r.fail(reason_code::protocol_error,
                      "response topic is not a valid topic name [MQTT-3.3.2-14]");
    }
    return true;
}

bool read_value(reader& r, pid id, const decode_limits& limits, properties& out, user_budget& budget) {
    switch (id) {
        case pid::payload_format_indicator:
            return read_flag(r, out.payload_format_indicator);
        case pid::message_expiry_interval:
            return read_u32(r, out.message_expiry_interval, false);
        case pid::content_type:
            return read_string(r, out.content_type);
        case pid::response_topic:
            return read_response_topic(r, out);
        case pid::correlation_data:
            return read_binary(r, out.correlation_data);
        case pid::subscription_identifier:
            return read_subscription_identifier(r, out);
        case pid::session_expiry_interval:
            return read_u32(r, out.session_expiry_interval, false);
        case pid::assigned_client_identifier:
            return read_string(r, out.assigned_client_identifier);
        case pid::server_keep_alive:
            return read_u16(r, out.server_keep_alive, false);
        case pid::authentication_method:
            return read_string(r, out.authentication_method);
        case pid::authentication_data:
            return read_binary(r, out.authentication_data);
        case pid::request_problem_information:
            return read_flag(r, out.request_problem_information);
        case pid::will_delay_interval:
            return read_u32(r, out.will_delay_interval, false);
        case pid::request_response_information:
            return read_flag(r, out.request_response_information);
        case pid::response_information:
            return read_string(r, out.response_information);
        case pid::server_reference:
            return read_string(r, out.server_reference);
        case pid::reason_string:
            return read_string(r, out.reason_string);
        case pid::receive_maximum:
            return read_u16(r, out.receive_maximum, true);
        case pid::topic_alias_maximum:
            return read_u16(r, out.topic_alias_maximum, false);
        case pid::topic_alias:
            return read_topic_alias(r, out);
        case pid::maximum_qos:
            return read_flag(r, out.maximum_qos);
        case pid::retain_available:
            return read_flag(r, out.retain_available);
        case pid::user_property:
            return read_user_property(r, limits, out, budget);
        case pid::maximum_packet_size:
            return read_u32(r, out.maximum_packet_size, true);
        case pid::wildcard_subscription_available:
            return read_flag(r, out.wildcard_subscription_available);
        case pid::subscription_identifier_available:
            return read_flag(r, out.subscription_identifier_available);
        case pid::shared_subscription_available:
            return read_flag(r, out.shared_subscription_available);
    }
    return r.fail(reason_code::malformed_packet, "unknown property identifier");
}

template <typename Value, typename Write>
void put(writer& w, pid id, const std::optional<Value>& v, Write write) {
    if (v) {
        w.u8(static_cast<std::uint8_t>(id));
        write(*v);
    }
}

void write_body(writer& w, const properties& p) {
    auto byte = [&w](std::uint8_t v) { w.u8(v); };
    auto two = [&w](std::uint16_t v) { w.u16(v); };
    auto four = [&w](std::uint32_t v) { w.u32(v); };
    auto str = [&w](const std::string& v) { w.string(v); };
    auto bin = [&w](const common::shared_bytes& v) { w.binary(v.span()); };
    put(w, pid::payload_format_indicator, p.payload_format_indicator, byte);
    put(w, pid::message_expiry_interval, p.message_expiry_interval, four);
    put(w, pid::content_type, p.content_type, str);
    put(w, pid::response_topic, p.response_topic, str);
    put(w, pid::correlation_data, p.correlation_data, bin);
    for (const std::uint32_t id : p.subscription_identifiers) {
        w.u8(static_cast<std::uint8_t>(pid::subscription_identifier));
        w.vbi(id > max_vbi ? max_vbi : id);
    }
    put(w, pid::session_expiry_interval, p.session_expiry_interval, four);
    put(w, pid::assigned_client_identifier, p.assigned_client_identifier, str);
    put(w, pid::server_keep_alive, p.server_keep_alive, two);
    put(w, pid::authentication_method, p.authentication_method, str);
    put(w, pid::authentication_data, p.authentication_data, bin);
    put(w, pid::request_problem_information, p.request_problem_information, byte);
    put(w, pid::will_delay_interval, p.will_delay_interval, four);
    put(w, pid::request_response_information, p.request_response_information, byte);
    put(w, pid::response_information, p.response_information, str);
    put(w, pid::server_reference, p.server_reference, str);
    put(w, pid::reason_string, p.reason_string, str);
    put(w, pid::receive_maximum, p.receive_maximum, two);
    put(w, pid::topic_alias_maximum, p.topic_alias_maximum, two);
    put(w, pid::topic_alias, p.topic_alias, two);
    put(w, pid::maximum_qos, p.maximum_qos, byte);
    put(w, pid::retain_available, p.retain_available, byte);
    for (const auto& [key, value] : p.user_properties) {
        w.u8(static_cast<std::uint8_t>(pid::user_property));
        w.string(key);
        w.string(value);
    }
    put(w, pid::maximum_packet_size, p.maximum_packet_size, four);
    put(w, pid::wildcard_subscription_available, p.wildcard_subscription_available, byte);
    put(w, pid::subscription_identifier_available, p.subscription_identifier_available, byte);
    put(w, pid::shared_subscription_available, p.shared_subscription_available, byte);
}

}  // namespace

bool decode_properties(reader& r, property_context ctx, const decode_limits& limits, properties& out) {
    std::uint32_t length = 0;
    if (!r.vbi(length)) {
        return false;
    }
    std::optional<reader> body;
    if (!r.sub(length, body)) {
        return r.fail(reason_code::malformed_packet, "property length past the end of the packet");
    }
    std::uint64_t seen = 0;
    user_budget budget;
    while (!body->at_end()) {
        std::uint32_t id = 0;
        if (!body->vbi(id)) {
            return false;
        }
        if (id >= allowed_contexts.size() || allowed_contexts[id] == 0) {
            return body->fail(reason_code::malformed_packet, "unknown property identifier");
        }
        if ((allowed_contexts[id] & bit(ctx)) == 0) {
            return body->fail(reason_code::malformed_packet,
                              "property not allowed in this packet (§2.2.2.2)");
        }
        const auto property = static_cast<pid>(id);
        const bool repeatable = property == pid::user_property ||
                                (property == pid::subscription_identifier && ctx == pc::publish);
        if (!repeatable && ((seen >> id) & 1U) != 0) {
            return body->fail(reason_code::protocol_error, "property included more than once");
        }
        seen |= std::uint64_t{1} << id;
        if (!read_value(*body, property, limits, out, budget)) {
            return false;
        }
    }
    if (out.authentication_data && !out.authentication_method) {
        return r.fail(reason_code::protocol_error, "authentication data without authentication method");
    }
    return true;
}

void encode_properties(writer& w, const properties& p) {
    writer counter;
    write_body(counter, p);
    w.vbi(static_cast<std::uint32_t>(counter.count()));
    write_body(w, p);
}

}  // namespace tollgate::mqtt::detail
