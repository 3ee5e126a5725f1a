// Sessions: clean start, expiry, session present, takeover across workers, redelivery with DUP.
#include "harness.hpp"

namespace tollgate::broker::test {
namespace {

using namespace std::chrono_literals;
using mqtt::protocol_version;
using mqtt::reason_code;

class session_test : public ::testing::Test {
  protected:
    void SetUp() override { f.start(); }
    broker_fixture f;
};

TEST_F(session_test, session_present_after_resume_MQTT_3_2_2_2) {
    auto& a = f.client(0);
    EXPECT_FALSE(a.connect("s", false, 60).session_present);
    a.drop();
    auto& b = f.client(1);
    EXPECT_TRUE(b.connect("s", false, 60).session_present);
}

TEST_F(session_test, clean_start_discards_the_session_MQTT_3_1_2_4) {
    auto& a = f.client(0);
    a.connect("s", false, 60);
    a.subscribe("t", 1);
    a.drop();
    auto& b = f.client(0);
    EXPECT_FALSE(b.connect("s", true, 60).session_present);
    auto& p = f.client(1);
    p.connect("p");
    p.publish("t", "x", 1, 1);
    EXPECT_TRUE(b.publishes().empty());  // the old subscription went with the old session
}

TEST_F(session_test, expiry_zero_ends_the_session_with_the_connection) {
    auto& a = f.client(0);
    a.connect("s", false, 0);
    a.drop();
    EXPECT_EQ(f.b->stats().sessions, 0U);
    auto& b = f.client(0);
    EXPECT_FALSE(b.connect("s", false, 0).session_present);
}

TEST_F(session_test, session_expires_after_the_interval_MQTT_3_1_2_23) {
    auto& a = f.client(0);
    a.connect("s", false, 30);
    a.subscribe("t", 1);
    a.drop();
    f.advance(29s);
    EXPECT_EQ(f.b->stats().sessions, 1U);
    f.advance(2s);
    EXPECT_EQ(f.b->stats().sessions, 0U);
    auto& b = f.client(1);
    EXPECT_FALSE(b.connect("s", false, 30).session_present);
}

TEST_F(session_test, expiry_ffffffff_is_capped_by_max_session_expiry) {
    f.b.reset();
    f.config.max_session_expiry = 3600;
    f.start();
    auto& a = f.client(0);
    auto ack = a.connect("s", false, 0xFFFFFFFF);
    EXPECT_EQ(ack.properties.session_expiry_interval,
              std::optional<std::uint32_t>(f.config.max_session_expiry));
    a.drop();
    f.advance(std::chrono::seconds{f.config.max_session_expiry - 1});
    EXPECT_EQ(f.b->stats().sessions, 1U);
    f.advance(2s);
    EXPECT_EQ(f.b->stats().sessions, 0U);
}

TEST_F(session_test, v311_clean_session_0_keeps_the_session) {
    auto& a = f.client(0, protocol_version::v311);
    a.connect("s", false);
    a.subscribe("t", 1);
    a.drop();
    auto& p = f.client(1);
    p.connect("p");
    p.publish("t", "queued", 1, 1);
    auto& b = f.client(1, protocol_version::v311);
    EXPECT_TRUE(b.connect("s", false).session_present);
    auto got = b.publishes();
    ASSERT_EQ(got.size(), 1U);  // stored while offline [MQTT-3.1.2-5]
    EXPECT_EQ(payload_of(got[0]), "queued");
}

TEST_F(session_test, takeover_across_workers_sends_0x8e_and_moves_the_session_MQTT_3_1_4_3) {
    auto& a = f.client(0);
    a.connect("s", false, 60);
    a.subscribe("t", 1);
    auto& b = f.client(1);
    EXPECT_TRUE(b.connect("s", false, 60).session_present);
    EXPECT_EQ(a.expect<mqtt::disconnect>().reason_code, reason_code::session_taken_over);
    EXPECT_TRUE(a.closed());
    // The subscription moved with the session: a publisher on worker 0 reaches b on worker 1.
    auto& p = f.client(0);
    p.connect("p");
    p.publish("t", "hello", 1, 1);
    auto got = b.publishes();
    ASSERT_EQ(got.size(), 1U);
    EXPECT_EQ(payload_of(got[0]), "hello");
    EXPECT_TRUE(a.publishes().empty());
}

TEST_F(session_test, takeover_with_clean_start_ends_the_old_session) {
    auto& a = f.client(0);
    a.connect("s", false, 60);
    a.subscribe("t", 1);
    auto& b = f.client(1);
    EXPECT_FALSE(b.connect("s", true, 60).session_present);
    EXPECT_EQ(a.expect<mqtt::disconnect>().reason_code, reason_code::session_taken_over);
    EXPECT_EQ(f.b->stats().sessions, 1U);
}

TEST_F(session_test, takeover_v311_closes_the_old_connection) {
    auto& a = f.client(0, protocol_version::v311);
    a.connect("s", false);
    auto& b = f.client(1, protocol_version::v311);
    EXPECT_TRUE(b.connect("s", false).session_present);
    EXPECT_TRUE(a.closed());
    EXPECT_TRUE(a.inbox_empty());
}

TEST_F(session_test, redelivery_with_dup_after_reconnect_MQTT_4_4_0_1) {
    auto& s = f.client(0);
    s.connect("sub", false, 60);
    s.subscribe("t", 2);
    auto& p = f.client(1);
    p.connect("p");
    p.publish("t", "one", 1, 1);
    p.publish("t", "two", 2, 2);
    auto first = s.publishes();
    ASSERT_EQ(first.size(), 2U);
    EXPECT_FALSE(first[0].dup);
    // Acknowledge the PUBREC stage of "two" only, then lose the connection.
    mqtt::pubrec rec;
    rec.packet_id = first[1].packet_id;
    s.send(rec);
    EXPECT_EQ(s.expect<mqtt::pubrel>().packet_id, first[1].packet_id);
    s.drop();
    auto& again = f.client(1);
    EXPECT_TRUE(again.connect("sub", false, 60).session_present);
    auto redelivered = again.publishes();
    ASSERT_EQ(redelivered.size(), 1U);  // "one" again, with DUP
    EXPECT_TRUE(redelivered[0].dup);
    EXPECT_EQ(payload_of(redelivered[0]), "one");
    EXPECT_EQ(redelivered[0].packet_id, first[0].packet_id);
    auto rel = again.expect<mqtt::pubrel>();  // PUBREL resent for the PUBREC'd one
    EXPECT_EQ(rel.packet_id, first[1].packet_id);
}

TEST_F(session_test, messages_for_an_offline_session_wait_and_arrive_on_resume) {
    auto& s = f.client(0);
    s.connect("sub", false, 60);
    s.subscribe("t", 1);
    s.drop();
    auto& p = f.client(1);
    p.connect("p");
    for (int i = 0; i < 5; ++i) {
        p.publish("t", std::to_string(i), 1, static_cast<std::uint16_t>(i + 1));
    }
    p.publish("t", "qos0", 0);  // QoS 0 is not kept for an offline session
    auto& again = f.client(0);
    again.connect("sub", false, 60);
    auto got = again.publishes();
    ASSERT_EQ(got.size(), 5U);
    for (int i = 0; i < 5; ++i) {
        EXPECT_EQ(payload_of(got[static_cast<std::size_t>(i)]),
                  std::to_string(i));  // order kept [MQTT-4.6.0-6]
    }
}

TEST_F(session_test, disconnect_may_change_expiry_but_not_from_zero_MQTT_3_14_2_2) {
    auto& a = f.client(0);
    a.connect("s", false, 0);
    mqtt::disconnect d;
    d.properties.session_expiry_interval = 100;
    a.send(d);
    EXPECT_EQ(a.expect<mqtt::disconnect>().reason_code, reason_code::protocol_error);
    auto& b = f.client(0);
    b.connect("s2", false, 10);
    d.properties.session_expiry_interval = 100;
    b.send(d);
    f.advance(50s);
    EXPECT_EQ(f.b->stats().sessions, 1U);  // s2 lives 100 s now
}

TEST_F(session_test, persistence_sees_sessions_and_subscriptions) {
    auto& a = f.client(0);
    a.connect("s", false, 60);
    a.subscribe("t/#", 1);
    auto snap = f.store.snapshot();
    ASSERT_EQ(snap.sessions.size(), 1U);
    EXPECT_EQ(snap.sessions[0].client_id, "s");
    ASSERT_EQ(snap.sessions[0].subscriptions.size(), 1U);
    EXPECT_EQ(snap.sessions[0].subscriptions[0].first, "t/#");
    a.drop();
    f.advance(61s);
    EXPECT_TRUE(f.store.snapshot().sessions.empty());
}

TEST_F(session_test, a_new_broker_restores_sessions_and_retained_from_persistence) {
    auto& a = f.client(0);
    a.connect("s", false, 600);
    a.subscribe("t", 1);
    a.publish("r", "kept", 0, 0, true);
    a.drop();
    broker_fixture g;
    auto snap = f.store.snapshot();
    for (auto& s : snap.sessions) {
        g.store.session_saved(s);
        for (auto& [filter, opts] : s.subscriptions) {
            g.store.subscription_added(s.client_id, filter, opts);
        }
    }
    for (auto& m : snap.retained) {
        g.store.retained_set(m);
    }
    g.start();
    auto& p = g.client(1);
    p.connect("p");
    p.publish("t", "after restart", 1, 1);
    auto& back = g.client(0);
    EXPECT_TRUE(back.connect("s", false, 600).session_present);
    auto got = back.publishes();
    ASSERT_EQ(got.size(), 1U);
    EXPECT_EQ(payload_of(got[0]), "after restart");
    auto& r = g.client(0);
    r.connect("r");
    r.subscribe("r");
    ASSERT_EQ(r.publishes().size(), 1U);
}

}  // namespace
}  // namespace tollgate::broker::test
