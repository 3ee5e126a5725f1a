#include <tollgate/common/clock.hpp>

namespace tollgate::common {

std::int64_t clock::unix_seconds() const noexcept {
    return std::chrono::duration_cast<std::chrono::seconds>(system_now().time_since_epoch()).count();
}

manual_clock::manual_clock(system_time wall_start)
    : wall_ns_(std::chrono::duration_cast<std::chrono::nanoseconds>(wall_start.time_since_epoch()).count()) {}

steady_time manual_clock::steady_now() const noexcept {
    return steady_time{std::chrono::nanoseconds{steady_ns_.load(std::memory_order_relaxed)}};
}

system_time manual_clock::system_now() const noexcept {
    return system_time{std::chrono::duration_cast<system_time::duration>(
        std::chrono::nanoseconds{wall_ns_.load(std::memory_order_relaxed)})};
}

void manual_clock::advance(std::chrono::nanoseconds by) noexcept {
    steady_ns_.fetch_add(by.count(), std::memory_order_relaxed);
    wall_ns_.fetch_add(by.count(), std::memory_order_relaxed);
}

void manual_clock::step_wall(std::chrono::nanoseconds by) noexcept {
    wall_ns_.fetch_add(by.count(), std::memory_order_relaxed);
}

}  // namespace tollgate::common
