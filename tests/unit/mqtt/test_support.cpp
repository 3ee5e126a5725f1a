#include "test_support.hpp"

#include <cstdio>

namespace tollgate::mqtt::test {

std::variant<frame, decode_error> frame_of(const bytes& data) {
    frame_reader reader(268435460U);
    reader.feed(data);
    auto next = reader.next();
    if (auto* f = std::get_if<frame>(&next)) {
        EXPECT_EQ(reader.buffered(), 0U) << "bytes left after the frame";
        return std::move(*f);
    }
    if (auto* e = std::get_if<decode_error>(&next)) {
        return *e;
    }
    ADD_FAILURE() << "incomplete frame: " << hex(data);
    return decode_error{reason_code::malformed_packet, "incomplete frame in test"};
}

std::variant<packet, decode_error> decode_bytes(protocol_version v, const bytes& data,
                                                const decode_limits& limits) {
    auto f = frame_of(data);
    if (auto* e = std::get_if<decode_error>(&f)) {
        return *e;
    }
    return decode(v, std::get<frame>(f), limits);
}

bytes encode_bytes(const packet& p, protocol_version v) {
    bytes out;
    encode(p, v, out);
    return out;
}

std::string hex(const bytes& data) {
    std::string out;
    char buf[4];
    for (const std::uint8_t b : data) {
        std::snprintf(buf, sizeof buf, "%02x ", b);
        out += buf;
    }
    return out;
}

namespace {

common::shared_bytes sb(std::string_view s) {
    return common::shared_bytes::copy_of(s);
}

properties connect_props() {
    properties p;
    p.session_expiry_interval = 3600;
    p.receive_maximum = 20;
    p.maximum_packet_size = 65536;
    p.topic_alias_maximum = 10;
    p.request_response_information = 1;
    p.request_problem_information = 0;
    p.authentication_method = "OAUTH2-JWT";
    p.authentication_data = sb("eyJhbGciOi");
    p.user_properties = {{"region", "eu"}, {"region", "us"}};
    return p;
}

properties will_props() {
    properties p;
    p.will_delay_interval = 30;
    p.payload_format_indicator = 1;
    p.message_expiry_interval = 120;
    p.content_type = "text/plain";
    p.response_topic = "replies/dev1";
    p.correlation_data = sb("\x01\x02\x03");
    p.user_properties = {{"k", "v"}};
    return p;
}

properties connack_props() {
    properties p;
    p.session_expiry_interval = 0;
    p.receive_maximum = 100;
    p.maximum_qos = 1;
    p.retain_available = 0;
    p.maximum_packet_size = 1048576;
    p.assigned_client_identifier = "auto-7f3a";
    p.topic_alias_maximum = 16;
    p.reason_string = "welcome";
    p.wildcard_subscription_available = 1;
    p.subscription_identifier_available = 1;
    p.shared_subscription_available = 0;
    p.server_keep_alive = 30;
    p.response_information = "resp/";
    p.server_reference = "other.example:1883";
    p.authentication_method = "OAUTH2-JWT";
    p.authentication_data = sb("ok");
    p.user_properties = {{"a", "b"}};
    return p;
}

properties publish_props() {
    properties p;
    p.payload_format_indicator = 1;
    p.message_expiry_interval = 60;
    p.topic_alias = 3;
    p.response_topic = "r/1";
    p.correlation_data = sb("cid");
    p.subscription_identifiers = {1, 268435455};
    p.content_type = "application/json";
    p.user_properties = {{"trace", "abc"}, {"trace", "def"}};
    return p;
}

properties reason_props(std::string_view reason) {
    properties p;
    p.reason_string = std::string(reason);
    p.user_properties = {{"x", "y"}};
    return p;
}

std::vector<packet> v5_samples() {
    std::vector<packet> out;
    connect c{protocol_version::v5,
              false,
              60,
              "dev1",
              will{"status/dev1", sb("offline"), 1, true, will_props()},
              "alice",
              sb("secret"),
              connect_props()};
    out.emplace_back(c);
    out.emplace_back(connect{protocol_version::v5, true, 0, "", std::nullopt, std::nullopt, sb("pw"), {}});
    out.emplace_back(connack{true, reason_code::success, connack_props()});
    out.emplace_back(connack{false, reason_code::not_authorized, reason_props("token expired")});
    out.emplace_back(publish{"sensors/a/temp", sb("{\"t\":21.5}"), 1, false, false, 10, publish_props()});
    out.emplace_back(publish{"", sb("aliased"), 2, true, true, 11, [] {
                                 properties p;
                                 p.topic_alias = 3;
                                 return p;
                             }()});
    out.emplace_back(publish{"a", {}, 0, false, false, 0, {}});
    out.emplace_back(puback{7, reason_code::success, {}});
    out.emplace_back(puback{7, reason_code::no_matching_subscribers, {}});
    out.emplace_back(puback{8, reason_code::not_authorized, reason_props("denied")});
    out.emplace_back(pubrec{9, reason_code::quota_exceeded, reason_props("full")});
    out.emplace_back(pubrel{9, reason_code::packet_identifier_not_found, {}});
    out.emplace_back(pubcomp{9, reason_code::success, reason_props("done")});
    subscribe s{
        12,
        {},
        {{"a/+/c", 2, true, true, 2}, {"$share/g/x/#", 1, false, false, 1}, {"#", 0, false, false, 0}}};
    s.properties.subscription_identifiers = {42};
    s.properties.user_properties = {{"u", "v"}};
    out.emplace_back(s);
    out.emplace_back(
        suback{12,
               reason_props("partial"),
               {reason_code::granted_qos_2, reason_code::granted_qos_1, reason_code::not_authorized}});
    unsubscribe u{13, {}, {"a/+/c", "$share/g/x/#"}};
    u.properties.user_properties = {{"why", "done"}};
    out.emplace_back(u);
    out.emplace_back(unsuback{13, {}, {reason_code::success, reason_code::no_subscription_existed}});
    out.emplace_back(pingreq{});
    out.emplace_back(pingresp{});
    out.emplace_back(disconnect{});
    disconnect d{reason_code::session_taken_over, reason_props("taken over")};
    d.properties.session_expiry_interval = 0;
    d.properties.server_reference = "b.example";
    out.emplace_back(d);
    out.emplace_back(disconnect{reason_code::disconnect_with_will, {}});
    auth a{reason_code::continue_authentication, {}};
    a.properties.authentication_method = "SCRAM-SHA-1";
    a.properties.authentication_data = sb("client-first");
    a.properties.reason_string = "step";
    out.emplace_back(a);
    out.emplace_back(auth{});
    return out;
}

std::vector<packet> v311_samples() {
    std::vector<packet> out;
    out.emplace_back(connect{protocol_version::v311,
                             true,
                             30,
                             "dev1",
                             will{"status/dev1", sb("gone"), 2, false, {}},
                             "alice",
                             sb("secret"),
                             {}});
    out.emplace_back(
        connect{protocol_version::v311, true, 0, "", std::nullopt, std::nullopt, std::nullopt, {}});
    out.emplace_back(connect{protocol_version::v311, false, 65535, "c", std::nullopt, "u", std::nullopt, {}});
    out.emplace_back(connack{true, reason_code::success, {}});
    out.emplace_back(connack{false, reason_code::bad_user_name_or_password, {}});
    out.emplace_back(connack{false, reason_code::server_unavailable, {}});
    out.emplace_back(publish{"sensors/a/temp", sb("21.5"), 0, true, false, 0, {}});
    out.emplace_back(publish{"x", sb("q1"), 1, false, true, 65535, {}});
    out.emplace_back(publish{"x/y", sb("q2"), 2, false, false, 1, {}});
    out.emplace_back(puback{1, reason_code::success, {}});
    out.emplace_back(pubrec{2, reason_code::success, {}});
    out.emplace_back(pubrel{3, reason_code::success, {}});
    out.emplace_back(pubcomp{4, reason_code::success, {}});
    out.emplace_back(subscribe{5, {}, {{"a/#", 1, false, false, 0}, {"+/b", 2, false, false, 0}}});
    out.emplace_back(suback{5, {}, {reason_code::granted_qos_1, reason_code::unspecified_error}});
    out.emplace_back(unsubscribe{6, {}, {"a/#"}});
    out.emplace_back(unsuback{6, {}, {}});
    out.emplace_back(pingreq{});
    out.emplace_back(pingresp{});
    out.emplace_back(disconnect{});
    return out;
}

}  // namespace

std::vector<packet> sample_packets(protocol_version v) {
    return v == protocol_version::v5 ? v5_samples() : v311_samples();
}

}  // namespace tollgate::mqtt::test
