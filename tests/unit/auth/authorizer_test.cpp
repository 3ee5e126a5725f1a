// scope_authorizer and session lifetime through the real broker: PUBLISH/SUBSCRIBE checked against
// the compiled scopes, $share and $SYS, re-authentication that narrows scopes on the very next
// PUBLISH, expiry at exp + leeway, and revocation ending live sessions.
#include <gtest/gtest.h>

#include <tollgate/auth/revocation.hpp>

#include "token_env.hpp"

namespace tollgate::auth::test {
namespace {

using namespace std::chrono_literals;
using broker::test::make_publish;
using mqtt::protocol_version;
using mqtt::reason_code;

mqtt::auth reauth_packet(const std::string& token, const std::string& method = "CUSTOM-JWT") {
    mqtt::auth p;
    p.reason_code = reason_code::reauthenticate;
    p.properties.authentication_method = method;
    p.properties.authentication_data = bytes_of(token);
    return p;
}

/// The PUBACK reason for a QoS 1 PUBLISH. Allowed with nobody subscribed is 0x10 (no matching
/// subscribers); refused is 0x87.
constexpr auto allowed = reason_code::no_matching_subscribers;

reason_code puback_code(broker::test::test_client& c, const std::string& topic, std::uint16_t id) {
    c.send(make_publish(topic, "x", 1, id));
    return c.expect<mqtt::puback>().reason_code;
}

TEST(scope_authz, publish_within_scope_only) {
    auth_fixture a;
    auto& c = a.client();
    ASSERT_EQ(a.connect(c, "dev-1", a.env.token("mqtt:pub:devices/{client_id}/up openid")).reason_code,
              reason_code::success);
    EXPECT_EQ(puback_code(c, "devices/dev-1/up", 1), allowed);
    // [MQTT-3.4.2-1] PUBACK 0x87 for an unauthorized PUBLISH.
    EXPECT_EQ(puback_code(c, "devices/dev-2/up", 2), reason_code::not_authorized);
    // The broker itself refuses client PUBLISHes to '$' topics (0x90) before asking the authorizer.
    EXPECT_NE(puback_code(c, "$SYS/x", 3), allowed);
}

TEST(scope_authz, subscribe_coverage_share_and_sys) {
    auth_fixture a;
    auto& c = a.client();
    ASSERT_EQ(a.connect(c, "d", a.env.token("mqtt:sub:sensors/+/temp mqtt:all:#")).reason_code,
              reason_code::success);
    auto ok = c.subscribe("sensors/+/temp", 0, 1);
    EXPECT_EQ(ok.reason_codes.at(0), reason_code::success);
    auto shared = c.subscribe("$share/g/anything/#", 0, 2);
    EXPECT_EQ(shared.reason_codes.at(0), reason_code::success);
    auto sys = c.subscribe("$SYS/#", 0, 3);  // "#" does not grant $SYS
    EXPECT_EQ(sys.reason_codes.at(0), reason_code::not_authorized);
}

TEST(scope_authz, narrow_subscribe_scope) {
    auth_fixture a;
    auto& c = a.client();
    ASSERT_EQ(a.connect(c, "d", a.env.token("mqtt:sub:sensors/+/temp mqtt:sub:$SYS/broker/#")).reason_code,
              reason_code::success);
    EXPECT_EQ(c.subscribe("sensors/#", 0, 1).reason_codes.at(0), reason_code::not_authorized);
    EXPECT_EQ(c.subscribe("sensors/a/temp", 0, 2).reason_codes.at(0), reason_code::success);
    EXPECT_EQ(c.subscribe("$share/g/sensors/+/humidity", 0, 3).reason_codes.at(0),
              reason_code::not_authorized);
    EXPECT_EQ(c.subscribe("$SYS/broker/load", 0, 4).reason_codes.at(0), reason_code::success);
    EXPECT_EQ(puback_code(c, "sensors/a/temp", 5), reason_code::not_authorized);  // sub-only scope
}

// MQTT 3.1.1 §3.9.3: SUBACK return code 0x80 (failure) for a refused filter.
TEST(scope_authz, v311_suback_failure) {
    auth_fixture a;
    auto& c = a.client(protocol_version::v311);
    ASSERT_EQ(static_cast<int>(a.connect(c, "d", a.env.token("mqtt:sub:a/#")).reason_code), 0);
    EXPECT_EQ(static_cast<int>(c.subscribe("b/#", 0, 1).reason_codes.at(0)), 0x80);
    EXPECT_EQ(static_cast<int>(c.subscribe("a/b", 1, 2).reason_codes.at(0)), 1);
}

TEST(scope_authz, anonymous_principal_is_denied) {
    broker::test::broker_fixture f;
    scope_authorizer authz;
    f.start(&authz);  // anonymous authenticator: principals without token context
    auto& c = f.client(0);
    c.connect("anon");
    c.send(make_publish("a", "x", 1, 1));
    EXPECT_EQ(c.expect<mqtt::puback>().reason_code, reason_code::not_authorized);
}

// [MQTT-4.12.1-1] re-authentication; DESIGN.md: the new scopes apply to the very next PUBLISH.
TEST(scope_authz, reauthentication_narrows_scopes_on_next_publish) {
    auth_fixture a;
    auto& c = a.client();
    ASSERT_EQ(a.connect_enhanced(c, "d", a.env.token("mqtt:pub:a/#", 60)).reason_code, reason_code::success);
    EXPECT_EQ(puback_code(c, "a/x", 1), allowed);
    std::vector<std::uint8_t> bytes;
    mqtt::encode(mqtt::packet(reauth_packet(a.env.token("mqtt:pub:a/b", 600))), protocol_version::v5, bytes);
    mqtt::encode(mqtt::packet(make_publish("a/x", "y", 1, 2)), protocol_version::v5, bytes);
    c.send_raw(bytes);  // AUTH and PUBLISH back to back
    auto ack = c.expect<mqtt::auth>();
    EXPECT_EQ(ack.reason_code, reason_code::success);
    EXPECT_EQ(c.expect<mqtt::puback>().reason_code, reason_code::not_authorized);
    EXPECT_EQ(puback_code(c, "a/b", 3), allowed);
    // The expiry deadline moved with the new token: past the old exp + leeway the session lives on.
    a.f.advance(120s);
    EXPECT_FALSE(c.closed());
    EXPECT_EQ(puback_code(c, "a/b", 4), allowed);
}

TEST(scope_authz, reauthentication_with_another_subject_or_bad_token_disconnects) {
    auth_fixture a;
    auto& c = a.client();
    ASSERT_EQ(a.connect_enhanced(c, "d", a.env.token()).reason_code, reason_code::success);
    auto claims = a.env.claims();
    claims["sub"] = "mallory";
    c.send(reauth_packet(a.env.sign(claims)));
    auto d = c.expect<mqtt::disconnect>();
    EXPECT_EQ(d.reason_code, reason_code::not_authorized);  // [MQTT-4.12.1-2]
    EXPECT_TRUE(c.closed());

    auto& c2 = a.client();
    ASSERT_EQ(a.connect_enhanced(c2, "d2", a.env.token()).reason_code, reason_code::success);
    c2.send(reauth_packet("garbage"));
    EXPECT_EQ(c2.expect<mqtt::disconnect>().reason_code, reason_code::not_authorized);
    EXPECT_TRUE(c2.closed());
}

TEST(scope_authz, token_expiry_ends_session_with_reason_string) {
    auth_fixture a;
    auto& c = a.client();
    ASSERT_EQ(a.connect(c, "d", a.env.token("mqtt:all:#", 60)).reason_code, reason_code::success);
    a.f.advance(89s);  // exp 60 + leeway 30
    EXPECT_FALSE(c.closed());
    EXPECT_TRUE(c.inbox_empty());
    a.f.advance(2s);
    auto d = c.expect<mqtt::disconnect>();
    // 0xA0 maximum connect time: the connection time the token authorized is over (MQTT 5
    // §3.14.2.1); distinct from not authorized (0x87) and from a revocation (0x98).
    EXPECT_EQ(d.reason_code, reason_code::maximum_connect_time);
    EXPECT_EQ(d.properties.reason_string, "token expired");
    EXPECT_TRUE(c.closed());
}

TEST(scope_authz, v311_token_expiry_closes_connection) {
    auth_fixture a;
    auto& c = a.client(protocol_version::v311);
    ASSERT_EQ(static_cast<int>(a.connect(c, "d", a.env.token("mqtt:all:#", 10)).reason_code), 0);
    a.f.advance(41s);
    EXPECT_TRUE(c.closed());
}

TEST(revocation, revoked_token_ends_its_session_and_is_refused_on_reconnect) {
    auth_fixture a;
    auto claims = a.env.claims();
    const std::string jti(claims["jti"].as_string());
    auto token = a.env.sign(claims);
    auto& victim = a.client();
    auto& bystander = a.client();
    ASSERT_EQ(a.connect(victim, "v", token).reason_code, reason_code::success);
    ASSERT_EQ(a.connect(bystander, "b", a.env.token()).reason_code, reason_code::success);
    session_revoker revoker(*a.f.b, a.authn.get());
    revoker.revoke(revocation{revocation::kind::access_token, std::string(issuer), jti});
    a.f.settle();  // no clock movement: the session ends at once
    auto d = victim.expect<mqtt::disconnect>();
    EXPECT_EQ(d.reason_code, reason_code::administrative_action);
    EXPECT_EQ(d.properties.reason_string, "token revoked");
    EXPECT_TRUE(victim.closed());
    EXPECT_FALSE(bystander.closed());
    auto& again = a.client();
    EXPECT_EQ(a.connect(again, "v", token).reason_code, reason_code::bad_user_name_or_password);
}

TEST(revocation, client_and_subject_revocations) {
    auth_fixture a;
    auto& c1 = a.client();
    auto& c2 = a.client();
    auto other = a.env.claims();
    other["client_id"] = "app-2";
    other["sub"] = "bob";
    ASSERT_EQ(a.connect(c1, "c1", a.env.token()).reason_code, reason_code::success);
    ASSERT_EQ(a.connect(c2, "c2", a.env.sign(other)).reason_code, reason_code::success);
    session_revoker revoker(*a.f.b, a.authn.get());
    revoker.revoke(revocation{revocation::kind::client, "https://elsewhere.example", "app-1"});
    a.f.settle();
    EXPECT_FALSE(c1.closed());  // another issuer's client of the same name
    revoker.revoke(revocation{revocation::kind::client, std::string(issuer), "app-1"});
    a.f.settle();
    EXPECT_TRUE(c1.closed());
    EXPECT_FALSE(c2.closed());
    revoker.revoke(revocation{revocation::kind::subject, std::string(issuer), "bob"});
    a.f.settle();
    EXPECT_TRUE(c2.closed());
    // A token of app-1 issued after the revocation is accepted again.
    a.f.clock.advance(2s);
    auto& c3 = a.client();
    EXPECT_EQ(a.connect(c3, "c3", a.env.token()).reason_code, reason_code::success);
}

}  // namespace
}  // namespace tollgate::auth::test
