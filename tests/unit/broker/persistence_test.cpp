// The persistence event stream: QoS 1/2 messages of persistent sessions are reported when queued
// and when they leave, only if the sink wants them.
#include <map>

#include "harness.hpp"

namespace tollgate::broker::test {
namespace {

class recording_persistence final : public persistence {
  public:
    void session_saved(const session_record&) override {}
    void session_removed(std::string_view) override {}
    void subscription_added(std::string_view, std::string_view, const subscription_options&) override {}
    void subscription_removed(std::string_view, std::string_view) override {}
    [[nodiscard]] bool wants_messages() const override { return true; }
    void message_enqueued(std::string_view client, std::uint64_t seq, const message& m) override {
        live[std::string(client) + "#" + std::to_string(seq)] = m.payload.to_string();
    }
    void message_acked(std::string_view client, std::uint64_t seq) override {
        acked += live.erase(std::string(client) + "#" + std::to_string(seq));
    }
    void retained_set(const std::shared_ptr<const message>&) override {}
    void retained_cleared(std::string_view) override {}
    persistence_snapshot restore() override { return {}; }

    std::map<std::string, std::string> live;
    std::size_t acked = 0;
};

TEST(persistence_events, queued_and_acknowledged_messages_of_persistent_sessions) {
    recording_persistence store;
    broker_fixture f;
    f.b = std::make_unique<broker>(f.config, f.exec, f.clock, f.authn, f.authz, store);
    auto& s = f.client(1);
    s.connect("s", false, 60);
    s.subscribe("t", 2);
    auto& transient = f.client(1);
    transient.connect("x", true, 0);
    transient.subscribe("t", 1);
    auto& p = f.client(0);
    p.connect("p");
    p.publish("t", "one", 1, 1);
    p.publish("t", "two", 2, 2);
    p.publish("t", "zero", 0);
    EXPECT_EQ(store.live.size(), 2U);  // only the persistent session's QoS>0 messages
    auto got = s.publishes();
    ASSERT_EQ(got.size(), 3U);
    for (auto& m : got) {
        s.ack(m);
    }
    EXPECT_TRUE(store.live.empty());
    EXPECT_EQ(store.acked, 2U);
}

}  // namespace
}  // namespace tollgate::broker::test
