#pragma once
// The clock is injected everywhere time matters, so keep-alive, expiry, will delay and token
// lifetimes are tested on a manual clock without sleeping.
// Monotonic time (steady) drives timers; wall time (system) is only for token claims and logs.
// Thread-safety: implementations are safe to call from any thread.
#include <atomic>
#include <chrono>

namespace tollgate::common {

using steady_time = std::chrono::steady_clock::time_point;
using system_time = std::chrono::system_clock::time_point;

class clock {
public:
    virtual ~clock() = default;
    [[nodiscard]] virtual steady_time steady_now() const noexcept = 0;
    [[nodiscard]] virtual system_time system_now() const noexcept = 0;
    /// Seconds since the Unix epoch, from system_now().
    [[nodiscard]] std::int64_t unix_seconds() const noexcept;
};

/// The real clocks of the machine.
class real_clock final : public clock {
public:
    [[nodiscard]] steady_time steady_now() const noexcept override { return std::chrono::steady_clock::now(); }
    [[nodiscard]] system_time system_now() const noexcept override { return std::chrono::system_clock::now(); }
};

/// A clock that moves only when told to. Both time lines advance together.
class manual_clock final : public clock {
public:
    explicit manual_clock(system_time wall_start = system_time{std::chrono::seconds{1'700'000'000}});
    [[nodiscard]] steady_time steady_now() const noexcept override;
    [[nodiscard]] system_time system_now() const noexcept override;
    void advance(std::chrono::nanoseconds by) noexcept;
    /// Steps wall time only (an NTP step); monotonic time is unaffected.
    void step_wall(std::chrono::nanoseconds by) noexcept;

private:
    std::atomic<std::int64_t> steady_ns_{0};
    std::atomic<std::int64_t> wall_ns_;
};

}  // namespace tollgate::common
