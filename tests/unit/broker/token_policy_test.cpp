// The token-lifetime and authorization policies of broker_config: what a token expiry does to the
// will and to the session, who may resume a session, and what an unauthorized MQTT 3.1.1 PUBLISH
// gets (docs/auth.md, "Session lifetime").
#include "harness.hpp"

namespace tollgate::broker::test {
namespace {

using namespace std::chrono_literals;
using mqtt::protocol_version;
using mqtt::reason_code;

/// Every CONNECT succeeds; the subject is the user name (issuer "iss"). The tokens of `expiring`
/// expire at `expires_at` (none when unset); other users' never do.
class subject_authenticator final : public authenticator {
  public:
    void authenticate(auth_request r, std::function<void(auth_result)> done) override {
        auto who = std::make_shared<principal>();
        who->client_id = r.client_id;
        who->username = r.username;
        who->subject = r.username.value_or("");
        who->issuer = "iss";
        if (who->subject == expiring) {
            who->expires_at = expires_at;
        }
        who->expiry_reason = reason_code::maximum_connect_time;
        who->expiry_reason_string = "token expired";
        auth_result out;
        out.result = auth_result::outcome::success;
        out.who = std::move(who);
        done(std::move(out));
    }
    std::optional<common::system_time> expires_at;
    std::string expiring = "alice";
};

mqtt::connack connect_as(test_client& c, const std::string& id, const std::string& user, bool clean,
                         std::uint32_t expiry, std::optional<mqtt::will> will = std::nullopt) {
    auto conn = c.make_connect(id, clean, expiry);
    conn.username = user;
    conn.will = std::move(will);
    c.send(conn);
    return c.expect<mqtt::connack>();
}

mqtt::will will_on(const std::string& topic) {
    mqtt::will wl;
    wl.topic = topic;
    wl.payload = common::shared_bytes::copy_of(std::string("gone"));
    return wl;
}

TEST(token_policy, expiry_sends_the_principals_reason_and_discards_the_will_by_default) {
    broker_fixture f;
    subject_authenticator authn;
    authn.expires_at = f.clock.system_now() + 10s;
    f.start(nullptr, &authn);
    auto& watcher = f.client(1);
    connect_as(watcher, "watcher", "bob", true, 0);
    watcher.subscribe("will/#");
    auto& c = f.client(0);
    connect_as(c, "dev", "alice", true, 0, will_on("will/dev"));
    f.advance(11s);
    auto d = c.expect<mqtt::disconnect>();
    EXPECT_EQ(d.reason_code, reason_code::maximum_connect_time);
    EXPECT_EQ(d.properties.reason_string, std::optional<std::string>("token expired"));
    EXPECT_TRUE(c.closed());
    f.settle();
    EXPECT_FALSE(watcher.closed());
    EXPECT_TRUE(watcher.publishes().empty());  // token_expiry_publishes_will = false
}

TEST(token_policy, expiry_publishes_the_will_when_configured_MQTT_3_1_2_8) {
    broker_fixture f;
    f.config.token_expiry_publishes_will = true;
    subject_authenticator authn;
    authn.expires_at = f.clock.system_now() + 10s;
    f.start(nullptr, &authn);
    auto& c = f.client(0);
    connect_as(c, "dev", "alice", true, 0, will_on("will/dev"));
    auto& watcher = f.client(1);
    connect_as(watcher, "watcher", "bob", true, 0);
    watcher.subscribe("will/#");
    f.advance(11s);
    EXPECT_EQ(c.expect<mqtt::disconnect>().reason_code, reason_code::maximum_connect_time);
    EXPECT_TRUE(c.closed());
    auto got = watcher.publishes();
    ASSERT_EQ(got.size(), 1U);
    EXPECT_EQ(got[0].topic, "will/dev");
}

TEST(token_policy, expiry_keeps_the_session_for_its_negotiated_interval_by_default) {
    broker_fixture f;
    subject_authenticator authn;
    authn.expires_at = f.clock.system_now() + 10s;
    f.start(nullptr, &authn);
    auto& c = f.client(0);
    connect_as(c, "dev", "alice", false, 3600);
    c.subscribe("t/#", 1);
    f.advance(11s);
    EXPECT_TRUE(c.closed());
    authn.expires_at = f.clock.system_now() + 1h;  // a fresh token
    auto& again = f.client(1);
    EXPECT_TRUE(connect_as(again, "dev", "alice", false, 3600).session_present);
}

TEST(token_policy, expiry_session_cap_zero_ends_the_session_with_the_connection) {
    broker_fixture f;
    f.config.token_expiry_session_expiry = 0;
    subject_authenticator authn;
    authn.expires_at = f.clock.system_now() + 10s;
    f.start(nullptr, &authn);
    auto& c = f.client(0);
    connect_as(c, "dev", "alice", false, 3600);
    c.subscribe("t/#", 1);
    f.advance(11s);
    EXPECT_TRUE(c.closed());
    EXPECT_EQ(f.b->stats().sessions, 0U);
    authn.expires_at = f.clock.system_now() + 1h;
    auto& again = f.client(1);
    EXPECT_FALSE(connect_as(again, "dev", "alice", false, 3600).session_present);
}

TEST(token_policy, expiry_session_cap_shortens_the_wait_for_a_fresh_token) {
    broker_fixture f;
    f.config.token_expiry_session_expiry = 60;
    subject_authenticator authn;
    authn.expires_at = f.clock.system_now() + 10s;
    f.start(nullptr, &authn);
    auto& c = f.client(0);
    connect_as(c, "dev", "alice", false, 3600);
    f.advance(11s);
    EXPECT_EQ(f.b->stats().sessions, 1U);
    f.advance(61s);
    EXPECT_EQ(f.b->stats().sessions, 0U);  // gone after 60 s, not 3600 s
}

TEST(token_policy, another_subject_never_resumes_a_session_MQTT_3_1_2_4) {
    broker_fixture f;
    subject_authenticator authn;
    f.start(nullptr, &authn);
    auto& owner = f.client(0);
    connect_as(owner, "dev", "alice", false, 3600);
    owner.subscribe("secret/#", 1);
    owner.drop();
    f.settle();
    auto& intruder = f.client(1);
    EXPECT_FALSE(connect_as(intruder, "dev", "mallory", false, 3600).session_present);
    auto& pub = f.client(0);
    connect_as(pub, "pub", "alice", true, 0);
    pub.publish("secret/x", "m", 1, 1);
    f.settle();
    EXPECT_TRUE(intruder.publishes().empty());  // alice's subscription did not come along
}

TEST(token_policy, another_subject_takes_the_client_id_from_a_live_connection_as_new_session) {
    broker_fixture f;
    subject_authenticator authn;
    f.start(nullptr, &authn);
    auto& owner = f.client(0);
    connect_as(owner, "dev", "alice", false, 3600);
    owner.subscribe("secret/#", 1);
    auto& intruder = f.client(1);
    EXPECT_FALSE(connect_as(intruder, "dev", "mallory", false, 3600).session_present);
    EXPECT_EQ(owner.expect<mqtt::disconnect>().reason_code, reason_code::session_taken_over);
    EXPECT_EQ(f.b->stats().sessions, 1U);
}

TEST(token_policy, the_same_subject_resumes_its_session) {
    broker_fixture f;
    subject_authenticator authn;
    f.start(nullptr, &authn);
    auto& owner = f.client(0);
    connect_as(owner, "dev", "alice", false, 3600);
    owner.subscribe("t/#", 1);
    owner.drop();
    f.settle();
    auto& back = f.client(1);
    EXPECT_TRUE(connect_as(back, "dev", "alice", false, 3600).session_present);
}

TEST(token_policy, resume_check_can_be_switched_off) {
    broker_fixture f;
    f.config.resume_requires_same_subject = false;
    subject_authenticator authn;
    f.start(nullptr, &authn);
    auto& owner = f.client(0);
    connect_as(owner, "dev", "alice", false, 3600);
    owner.drop();
    f.settle();
    auto& other = f.client(1);
    EXPECT_TRUE(connect_as(other, "dev", "mallory", false, 3600).session_present);
}

TEST(token_policy, v311_unauthorized_publish_is_dropped_by_default_MQTT_3_3_5_2) {
    broker_fixture f;
    deferred_authorizer authz;
    f.start(&authz);
    auto& c = f.client(0, protocol_version::v311);
    c.connect("c");
    c.publish("deny/x", "m", 1, 7);
    authz.answer_all();
    f.settle();
    auto ack = c.expect<mqtt::puback>();  // a positive acknowledgement, the message discarded
    EXPECT_EQ(ack.packet_id, 7);
    EXPECT_FALSE(c.closed());
}

TEST(token_policy, v311_unauthorized_publish_closes_when_configured_MQTT_3_3_5_2) {
    broker_fixture f;
    f.config.v311_unauthorized_publish = broker_config::unauthorized_publish_policy::disconnect;
    deferred_authorizer authz;
    f.start(&authz);
    auto& c = f.client(0, protocol_version::v311);
    c.connect("c");
    c.publish("deny/x", "m", 1, 7);
    authz.answer_all();
    f.settle();
    EXPECT_TRUE(c.closed());
    EXPECT_TRUE(c.inbox_empty());  // 3.1.1 has no DISCONNECT from the server
}

TEST(token_policy, v5_unauthorized_publish_is_0x87_whatever_the_v311_policy) {
    broker_fixture f;
    f.config.v311_unauthorized_publish = broker_config::unauthorized_publish_policy::disconnect;
    deferred_authorizer authz;
    f.start(&authz);
    auto& c = f.client(0);
    c.connect("c");
    c.publish("deny/x", "m", 1, 7);
    authz.answer_all();
    f.settle();
    EXPECT_EQ(c.expect<mqtt::puback>().reason_code, reason_code::not_authorized);
    EXPECT_FALSE(c.closed());
}

}  // namespace
}  // namespace tollgate::broker::test

namespace tollgate::broker::test {
namespace {

using namespace std::chrono_literals;
using mqtt::reason_code;

/// Grants travel in the principal: the authentication data (method "G", or the password) is a
/// comma-separated list of first topic levels the principal may use; subject "alice" always.
class grant_authenticator final : public authenticator {
  public:
    void authenticate(auth_request r, std::function<void(auth_result)> done) override {
        auto who = std::make_shared<principal>();
        who->client_id = r.client_id;
        who->subject = "alice";
        who->issuer = "iss";
        const auto& data = r.data ? r.data : r.password;
        who->context = std::make_shared<const std::string>("," + (data ? data->to_string() : "") + ",");
        auth_result out;
        out.result = auth_result::outcome::success;
        out.who = std::move(who);
        done(std::move(out));
    }
};

/// Allows a topic or filter whose first level is in the principal's grant list; answers inline,
/// or later through deferred() when `defer` is set.
class grant_authorizer final : public authorizer {
  public:
    std::optional<verdict> check(const principal& who, action, std::string_view topic, std::uint8_t, bool,
                                 std::function<void(verdict)> done) override {
        const auto& grants = *static_cast<const std::string*>(who.context.get());
        const std::string first(topic.substr(0, topic.find('/')));
        verdict v{grants.find("," + first + ",") != std::string::npos, "grants", "not granted"};
        if (defer) {
            later.push_back([done, v] { done(v); });
            return std::nullopt;
        }
        return v;
    }
    void answer_all() {
        auto now = std::move(later);
        later.clear();
        for (auto& fn : now) {
            fn();
        }
    }
    bool defer = false;
    std::vector<std::function<void()>> later;
};

mqtt::auth reauth(const std::string& grants) {
    mqtt::auth a;
    a.reason_code = reason_code::reauthenticate;
    a.properties.authentication_method = "G";
    a.properties.authentication_data = common::shared_bytes::copy_of(grants);
    return a;
}

mqtt::connack connect_with_grants(test_client& c, const std::string& id, const std::string& grants,
                                  bool clean, std::uint32_t expiry) {
    auto conn = c.make_connect(id, clean, expiry);
    conn.properties.authentication_method = "G";
    conn.properties.authentication_data = common::shared_bytes::copy_of(grants);
    c.send(conn);
    return c.expect<mqtt::connack>();
}

void publish_from(broker_fixture& f, const std::string& topic) {
    auto& p = f.client(0);
    connect_with_grants(p, "pub-" + topic, "a,b", true, 0);
    p.publish(topic, "m", 0);
    f.settle();
}

TEST(token_policy, reauthentication_narrowing_removes_subscriptions_no_longer_granted) {
    broker_fixture f;
    grant_authenticator authn;
    grant_authorizer authz;
    f.start(&authz, &authn);
    auto& c = f.client(1);
    connect_with_grants(c, "c", "a,b", true, 0);
    c.subscribe("a/#", 0, 1);
    c.subscribe("b/#", 0, 2);
    c.send(reauth("a"));
    EXPECT_EQ(c.expect<mqtt::auth>().reason_code, reason_code::success);
    publish_from(f, "b/x");
    publish_from(f, "a/x");
    auto got = c.publishes();
    ASSERT_EQ(got.size(), 1U);
    EXPECT_EQ(got[0].topic, "a/x");
}

TEST(token_policy, pending_subscription_verdicts_after_reauth_hold_the_next_packets) {
    broker_fixture f;
    grant_authenticator authn;
    grant_authorizer authz;
    f.start(&authz, &authn);
    auto& c = f.client(1);
    connect_with_grants(c, "c", "a,b", true, 0);
    c.subscribe("b/#", 0, 1);
    authz.defer = true;
    std::vector<std::uint8_t> bytes;
    mqtt::encode(reauth("a"), mqtt::protocol_version::v5, bytes);
    mqtt::encode(mqtt::pingreq{}, mqtt::protocol_version::v5, bytes);
    c.send_raw(bytes);
    f.settle();
    EXPECT_EQ(c.expect<mqtt::auth>().reason_code, reason_code::success);
    EXPECT_TRUE(c.inbox_empty());  // PINGREQ waits for the subscription verdict
    EXPECT_TRUE(c.transport->paused);
    authz.answer_all();
    f.settle();
    c.expect<mqtt::pingresp>();
    authz.defer = false;
    publish_from(f, "b/x");
    EXPECT_TRUE(c.publishes().empty());
}

TEST(token_policy, resumed_session_keeps_only_subscriptions_the_new_token_grants) {
    broker_fixture f;
    grant_authenticator authn;
    grant_authorizer authz;
    f.start(&authz, &authn);
    auto& c = f.client(1);
    connect_with_grants(c, "dev", "a,b", false, 3600);
    c.subscribe("a/#", 1, 1);
    c.subscribe("b/#", 1, 2);
    c.drop();
    f.settle();
    auto& back = f.client(1);
    EXPECT_TRUE(connect_with_grants(back, "dev", "a", false, 3600).session_present);
    f.settle();
    publish_from(f, "b/x");
    publish_from(f, "a/x");
    auto got = back.publishes();
    ASSERT_EQ(got.size(), 1U);
    EXPECT_EQ(got[0].topic, "a/x");
}

}  // namespace
}  // namespace tollgate::broker::test
