#include "inflight.hpp"

#include <gtest/gtest.h>

namespace tollgate::broker {
namespace {

TEST(outbound_window, allocates_unused_ids_and_wraps_past_65535) {
    outbound_window w;
    auto a = w.allocate_id();
    ASSERT_TRUE(a);
    EXPECT_NE(*a, 0);  // [MQTT-2.2.1-3]: non-zero
    w.add(*a, {}, outbound_window::stage::awaiting_puback);
    for (int i = 0; i < 70000; ++i) {
        auto id = w.allocate_id();
        ASSERT_TRUE(id);
        ASSERT_NE(*id, 0);
        ASSERT_NE(*id, *a);  // never an id in use [MQTT-2.2.1-4]
    }
}

TEST(outbound_window, exhausted_when_all_ids_in_flight) {
    outbound_window w;
    for (int i = 0; i < 65535; ++i) {
        auto id = w.allocate_id();
        ASSERT_TRUE(id);
        w.add(*id, {}, outbound_window::stage::awaiting_puback);
    }
    EXPECT_FALSE(w.allocate_id());
    w.erase(42);
    EXPECT_EQ(w.allocate_id(), std::optional<std::uint16_t>(42));
}

TEST(outbound_window, resend_order_is_send_order) {
    outbound_window w;
    w.add(7, {}, outbound_window::stage::awaiting_puback);
    w.add(3, {}, outbound_window::stage::awaiting_pubrec);
    w.add(5, {}, outbound_window::stage::awaiting_pubcomp);
    EXPECT_EQ(w.in_send_order(), (std::vector<std::uint16_t>{7, 3, 5}));  // [MQTT-4.6.0-1]
}

TEST(inbound_qos2, remembers_ids_until_pubrel_and_expires_old_ones) {
    inbound_qos2 q;
    const common::steady_time t0{};
    q.add(1, t0);
    q.add(2, t0 + std::chrono::seconds{10});
    EXPECT_TRUE(q.contains(1));
    EXPECT_TRUE(q.release(1));
    EXPECT_FALSE(q.release(1));
    q.add(3, t0);
    EXPECT_EQ(q.expire(t0 + std::chrono::seconds{5}), 1U);
    EXPECT_TRUE(q.contains(2));
    EXPECT_FALSE(q.contains(3));
}

}  // namespace
}  // namespace tollgate::broker
