// The authenticator and authorizer seams: asynchronous verdicts keep packet order, enhanced
// authentication, re-authentication, token expiry, revocation, shutdown.
#include "harness.hpp"

namespace tollgate::broker::test {
namespace {

using namespace std::chrono_literals;
using mqtt::protocol_version;
using mqtt::reason_code;

/// Method "TEST": CONNECT data "hello" -> challenge "prove"; AUTH data "proof" -> success.
/// Re-authentication with data "good" succeeds (and moves expiry), anything else fails 0x87.
class challenge_authenticator final : public authenticator {
  public:
    void authenticate(auth_request r, std::function<void(auth_result)> done) override {
        auth_result out;
        auto data = r.data ? r.data->to_string() : std::string{};
        auto who = std::make_shared<principal>();
        who->client_id = r.client_id;
        who->subject = "user";
        who->expires_at = expires_at;
        if (!r.method) {
            out.result = auth_result::outcome::success;
            out.who = who;
        } else if (*r.method != "TEST") {
            out.result = auth_result::outcome::failure;
            out.reason = reason_code::bad_authentication_method;
        } else if (r.kind == auth_request::step::connect && data == "hello") {
            out.result = auth_result::outcome::continue_auth;
            out.data = common::shared_bytes::copy_of(std::string("prove"));
        } else if (r.kind == auth_request::step::continue_auth && data == "proof") {
            out.result = auth_result::outcome::success;
            out.data = common::shared_bytes::copy_of(std::string("welcome"));
            out.who = who;
        } else if (r.kind == auth_request::step::reauthenticate && data == "good") {
            who->expires_at = expires_at ? std::optional(*expires_at + 1h) : std::nullopt;
            out.result = auth_result::outcome::success;
            out.who = who;
        } else {
            out.result = auth_result::outcome::failure;
            out.reason = reason_code::not_authorized;
            out.reason_string = "bad proof";
        }
        done(std::move(out));
    }
    std::optional<common::system_time> expires_at;
};

mqtt::connect with_method(test_client& c, const std::string& id, const std::string& data) {
    auto conn = c.make_connect(id);
    conn.properties.authentication_method = "TEST";
    conn.properties.authentication_data = common::shared_bytes::copy_of(data);
    return conn;
}

mqtt::auth auth_packet(reason_code code, const std::string& data, const std::string& method = "TEST") {
    mqtt::auth a;
    a.reason_code = code;
    a.properties.authentication_method = method;
    a.properties.authentication_data = common::shared_bytes::copy_of(data);
    return a;
}

TEST(auth, pending_publish_verdict_holds_later_packets_in_order) {
    broker_fixture f;
    deferred_authorizer authz;
    f.start(&authz);
    auto& c = f.client(0);
    c.connect("c");
    std::vector<std::uint8_t> bytes;
    mqtt::encode(make_publish("a", "1", 1, 1), protocol_version::v5, bytes);
    mqtt::encode(make_publish("b", "2", 1, 2), protocol_version::v5, bytes);
    mqtt::encode(mqtt::pingreq{}, protocol_version::v5, bytes);
    c.send_raw(bytes);
    EXPECT_TRUE(c.transport->paused);  // stopped reading while the verdict is pending
    EXPECT_TRUE(c.inbox_empty());
    ASSERT_EQ(authz.asked.size(), 1U);  // "b" is not even looked at yet
    authz.answer_all();
    f.settle();
    ASSERT_EQ(authz.asked.size(), 1U);
    EXPECT_EQ(authz.asked[0].topic, "b");
    authz.answer_all();
    f.settle();
    EXPECT_EQ(c.expect<mqtt::puback>().packet_id, 1);
    EXPECT_EQ(c.expect<mqtt::puback>().packet_id, 2);
    c.expect<mqtt::pingresp>();
    EXPECT_FALSE(c.transport->paused);
}

TEST(auth, denied_publish_gets_0x87_and_is_not_delivered) {
    broker_fixture f;
    deferred_authorizer authz;
    f.start(&authz);
    auto& s = f.client(1);
    s.connect("s");
    mqtt::subscribe sub;
    sub.packet_id = 1;
    sub.subscriptions.push_back({"#", 1, false, false, 0});
    sub.subscriptions.push_back({"deny/x", 1, false, false, 0});
    s.send(sub);
    authz.answer_all();
    f.settle();
    auto ack = s.expect<mqtt::suback>();
    EXPECT_EQ(ack.reason_codes,
              (std::vector<reason_code>{reason_code::granted_qos_1, reason_code::not_authorized}));
    auto& p = f.client(0);
    p.connect("p");
    p.publish("deny/y", "m", 1, 1);
    authz.answer_all();
    f.settle();
    EXPECT_EQ(p.expect<mqtt::puback>().reason_code, reason_code::not_authorized);
    EXPECT_TRUE(s.publishes().empty());
}

TEST(auth, publish_verdict_after_the_connection_dropped_is_ignored) {
    broker_fixture f;
    deferred_authorizer authz;
    f.start(&authz);
    auto& s = f.client(1);
    s.connect("s");
    mqtt::subscribe sub;
    sub.packet_id = 1;
    sub.subscriptions.push_back({"#", 1, false, false, 0});
    s.send(sub);
    authz.answer_all();
    f.settle();
    EXPECT_EQ(s.expect<mqtt::suback>().reason_codes.at(0), reason_code::granted_qos_1);
    auto& p = f.client(0);
    p.connect("p");
    p.publish("a/b", "parked", 1, 1);
    ASSERT_EQ(authz.asked.size(), 1U);
    p.drop();  // the PUBLISH is parked in the connection, waiting for its verdict
    f.settle();
    authz.answer_all();  // an allow for a connection that is gone
    f.settle();
    EXPECT_TRUE(s.publishes().empty());  // never acknowledged, so never delivered
    auto& q = f.client(0);  // the worker keeps serving: a new connection's PUBLISH is judged anew
    q.connect("q");
    q.publish("a/c", "fresh", 1, 2);
    authz.answer_all();
    f.settle();
    EXPECT_EQ(q.expect<mqtt::puback>().packet_id, 2);
    auto got = s.publishes();
    ASSERT_EQ(got.size(), 1U);
    EXPECT_EQ(got[0].topic, "a/c");
}

TEST(auth, v311_denied_subscribe_is_0x80_MQTT_3_9_3) {
    broker_fixture f;
    deferred_authorizer authz;
    f.start(&authz);
    auto& s = f.client(0, protocol_version::v311);
    s.connect("s");
    mqtt::subscribe sub;
    sub.packet_id = 1;
    sub.subscriptions.push_back({"deny/x", 1, false, false, 0});
    s.send(sub);
    authz.answer_all();
    f.settle();
    // The codec encodes v3.1.1 failures as 0x80 and decodes them back as unspecified_error.
    EXPECT_EQ(s.expect<mqtt::suback>().reason_codes.at(0), reason_code::unspecified_error);
}

TEST(auth, enhanced_authentication_round_trip_MQTT_4_12) {
    broker_fixture f;
    challenge_authenticator authn;
    f.start(nullptr, &authn);
    auto& c = f.client(0);
    c.send(with_method(c, "c", "hello"));
    auto challenge = c.expect<mqtt::auth>();
    EXPECT_EQ(challenge.reason_code, reason_code::continue_authentication);  // 0x18
    EXPECT_EQ(challenge.properties.authentication_data->to_string(), "prove");
    c.send(auth_packet(reason_code::continue_authentication, "proof"));
    auto ack = c.expect<mqtt::connack>();
    EXPECT_EQ(ack.reason_code, reason_code::success);
    EXPECT_EQ(ack.properties.authentication_method, std::optional<std::string>("TEST"));
    EXPECT_EQ(ack.properties.authentication_data->to_string(), "welcome");
}

TEST(auth, failed_enhanced_authentication_gets_connack_with_the_reason) {
    broker_fixture f;
    challenge_authenticator authn;
    f.start(nullptr, &authn);
    auto& c = f.client(0);
    c.send(with_method(c, "c", "hello"));
    c.expect<mqtt::auth>();
    c.send(auth_packet(reason_code::continue_authentication, "wrong"));
    auto ack = c.expect<mqtt::connack>();
    EXPECT_EQ(ack.reason_code, reason_code::not_authorized);
    EXPECT_EQ(ack.properties.reason_string, std::optional<std::string>("bad proof"));
    EXPECT_TRUE(c.closed());
}

TEST(auth, anonymous_authenticator_refuses_methods_with_0x8c) {
    broker_fixture f;
    f.start();
    auto& c = f.client(0);
    c.send(with_method(c, "c", "x"));
    EXPECT_EQ(c.expect<mqtt::connack>().reason_code, reason_code::bad_authentication_method);
}

TEST(auth, anonymous_disabled_refuses_v311_with_rc5) {
    broker_fixture f;
    anonymous_authenticator closed(false);
    f.start(nullptr, &closed);
    auto& c = f.client(0, protocol_version::v311);
    c.connect("c");
    EXPECT_EQ(c.transport->out, (std::vector<std::uint8_t>{0x20, 0x02, 0x00, 0x05}));
    EXPECT_TRUE(c.closed());
}

TEST(auth, reauthentication_success_and_failure_MQTT_4_12_1) {
    broker_fixture f;
    challenge_authenticator authn;
    f.start(nullptr, &authn);
    auto& c = f.client(0);
    c.send(with_method(c, "c", "hello"));
    c.expect<mqtt::auth>();
    c.send(auth_packet(reason_code::continue_authentication, "proof"));
    c.expect<mqtt::connack>();
    c.send(auth_packet(reason_code::reauthenticate, "good"));
    EXPECT_EQ(c.expect<mqtt::auth>().reason_code, reason_code::success);
    c.send(auth_packet(reason_code::reauthenticate, "bad"));
    EXPECT_EQ(c.expect<mqtt::disconnect>().reason_code, reason_code::not_authorized);
    EXPECT_TRUE(c.closed());
}

TEST(auth, auth_with_another_method_is_a_protocol_error_B3_75) {
    broker_fixture f;
    challenge_authenticator authn;
    f.start(nullptr, &authn);
    auto& c = f.client(0);
    c.send(with_method(c, "c", "hello"));
    c.expect<mqtt::auth>();
    c.send(auth_packet(reason_code::continue_authentication, "proof"));
    c.expect<mqtt::connack>();
    c.send(auth_packet(reason_code::reauthenticate, "good", "OTHER"));
    EXPECT_EQ(c.expect<mqtt::disconnect>().reason_code, reason_code::protocol_error);
}

TEST(auth, auth_without_a_method_at_connect_is_a_protocol_error_B3_75) {
    broker_fixture f;
    f.start();
    auto& c = f.client(0);
    c.connect("c");
    c.send(auth_packet(reason_code::reauthenticate, "x"));
    EXPECT_EQ(c.expect<mqtt::disconnect>().reason_code, reason_code::protocol_error);
}

TEST(auth, token_expiry_ends_the_session_and_reauth_moves_the_timer) {
    broker_fixture f;
    challenge_authenticator authn;
    authn.expires_at = f.clock.system_now() + 60s;
    f.start(nullptr, &authn);
    auto& c = f.client(0);
    c.send(with_method(c, "c", "hello"));
    c.expect<mqtt::auth>();
    c.send(auth_packet(reason_code::continue_authentication, "proof"));
    c.expect<mqtt::connack>();
    f.advance(50s);
    c.send(auth_packet(reason_code::reauthenticate, "good"));  // expiry moves by an hour
    c.expect<mqtt::auth>();
    f.advance(20s);
    EXPECT_FALSE(c.closed());
    f.advance(1h);
    auto d = c.expect<mqtt::disconnect>();
    EXPECT_EQ(d.reason_code, reason_code::not_authorized);
    EXPECT_EQ(d.properties.reason_string, std::optional<std::string>("token expired"));
    EXPECT_TRUE(c.closed());
}

TEST(auth, token_expiry_closes_v311) {
    broker_fixture f;
    challenge_authenticator authn;
    authn.expires_at = f.clock.system_now() + 10s;
    f.start(nullptr, &authn);
    auto& c = f.client(1, protocol_version::v311);
    c.connect("c");
    f.advance(11s);
    EXPECT_TRUE(c.closed());
    EXPECT_TRUE(c.inbox_empty());
}

TEST(auth, end_sessions_disconnects_matching_principals) {
    broker_fixture f;
    f.start();
    auto& a = f.client(0);
    a.connect("victim");
    auto& b = f.client(1);
    b.connect("bystander");
    f.b->end_sessions([](const principal& p) { return p.client_id == "victim"; },
                      reason_code::administrative_action, "revoked");
    f.settle();
    auto d = a.expect<mqtt::disconnect>();
    EXPECT_EQ(d.reason_code, reason_code::administrative_action);
    EXPECT_EQ(d.properties.reason_string, std::optional<std::string>("revoked"));
    EXPECT_FALSE(b.closed());
}

TEST(auth, shutdown_sends_0x8b_to_v5_and_closes_v311) {
    broker_fixture f;
    f.start();
    auto& a = f.client(0);
    a.connect("a");
    auto& b = f.client(1, protocol_version::v311);
    b.connect("b");
    bool done = false;
    f.b->begin_shutdown([&] { done = true; });
    f.settle();
    EXPECT_TRUE(done);
    EXPECT_EQ(a.expect<mqtt::disconnect>().reason_code, reason_code::server_shutting_down);
    EXPECT_TRUE(a.closed());
    EXPECT_TRUE(b.closed());
    EXPECT_TRUE(b.inbox_empty());
    auto& late = f.client(0);
    EXPECT_TRUE(late.closed());
}

}  // namespace
}  // namespace tollgate::broker::test
