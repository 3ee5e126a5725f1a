#include <gtest/gtest.h>

#include <tollgate/common/clock.hpp>

using namespace std::chrono_literals;

TEST(manual_clock, advances_both_time_lines) {
    tollgate::common::manual_clock c;
    auto s0 = c.steady_now();
    auto w0 = c.unix_seconds();
    c.advance(1500ms);
    EXPECT_EQ(c.steady_now() - s0, 1500ms);
    EXPECT_EQ(c.unix_seconds(), w0 + 1);
}

TEST(manual_clock, wall_step_leaves_monotonic_time_alone) {
    tollgate::common::manual_clock c;
    auto s0 = c.steady_now();
    auto w0 = c.unix_seconds();
    c.step_wall(-3600s);
    EXPECT_EQ(c.steady_now(), s0);
    EXPECT_EQ(c.unix_seconds(), w0 - 3600);
}
