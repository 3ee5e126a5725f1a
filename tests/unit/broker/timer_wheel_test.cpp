#include "timer_wheel.hpp"

#include <gtest/gtest.h>

namespace tollgate::broker {
namespace {

using namespace std::chrono_literals;
const common::steady_time t0{};

TEST(timer_wheel, fires_at_deadline_not_before) {
    timer_wheel w(t0, 100ms, 8);
    int fired = 0;
    w.schedule(t0 + 250ms, [&] { ++fired; });
    EXPECT_EQ(w.advance(t0 + 200ms), 0U);
    EXPECT_EQ(fired, 0);
    EXPECT_EQ(w.advance(t0 + 249ms), 0U);
    EXPECT_EQ(w.advance(t0 + 250ms), 1U);
    EXPECT_EQ(fired, 1);
    EXPECT_EQ(w.size(), 0U);
}

TEST(timer_wheel, deadlines_beyond_one_turn_wait_for_their_turn) {
    timer_wheel w(t0, 100ms, 4);  // one turn = 400 ms
    int fired = 0;
    w.schedule(t0 + 1050ms, [&] { ++fired; });
    for (int i = 1; i <= 10; ++i) {
        w.advance(t0 + i * 100ms);
    }
    EXPECT_EQ(fired, 0);
    w.advance(t0 + 1100ms);
    EXPECT_EQ(fired, 1);
}

TEST(timer_wheel, a_jump_of_many_turns_fires_everything_due) {
    timer_wheel w(t0, 100ms, 4);
    int fired = 0;
    for (int i = 1; i <= 20; ++i) {
        w.schedule(t0 + i * 170ms, [&] { ++fired; });
    }
    w.advance(t0 + 10s);
    EXPECT_EQ(fired, 20);
}

TEST(timer_wheel, cancel_and_reschedule_from_a_callback) {
    timer_wheel w(t0, 100ms, 8);
    int fired = 0;
    auto id = w.schedule(t0 + 100ms, [&] { fired += 100; });
    EXPECT_TRUE(w.cancel(id));
    EXPECT_FALSE(w.cancel(id));
    w.schedule(t0 + 100ms, [&] {
        ++fired;
        w.schedule(t0 + 300ms, [&] { ++fired; });
    });
    w.advance(t0 + 100ms);
    EXPECT_EQ(fired, 1);
    w.advance(t0 + 300ms);
    EXPECT_EQ(fired, 2);
}

TEST(timer_wheel, past_deadline_fires_on_next_advance) {
    timer_wheel w(t0, 100ms, 8);
    w.advance(t0 + 1s);
    int fired = 0;
    w.schedule(t0, [&] { ++fired; });
    EXPECT_EQ(fired, 0);  // never inline
    w.advance(t0 + 1s);
    EXPECT_EQ(fired, 1);
}

TEST(timer_wheel, a_timer_later_in_the_current_tick_is_not_skipped) {
    timer_wheel w(t0, 100ms, 8);
    int fired = 0;
    w.schedule(t0 + 180ms, [&] { ++fired; });
    w.advance(t0 + 150ms);
    EXPECT_EQ(fired, 0);
    w.advance(t0 + 190ms);
    EXPECT_EQ(fired, 1);
}

}  // namespace
}  // namespace tollgate::broker
