#pragma once
// introspection_monitor: the periodic RFC 7662 re-check of live sessions, as a broker::authorizer
// decorator around the real authorizer (scope_authorizer, a policy chain, ...).
//
// On every PUBLISH and SUBSCRIBE check of a session whose principal carries a token_recheck
// (session_context::recheck, set by token_authenticator for issuers with introspection and a
// recheck interval), it reads the token's verdict age (a few relaxed atomic loads):
//  - fresh (younger than the interval): the inner authorizer decides.
//  - due (older than the interval, within the grace): one introspection starts in the background
//    (only if none is in flight for the token and no failed attempt is younger than policy.retry),
//    and the inner authorizer decides now: the message is never held up. A busy client therefore
//    costs one introspection per interval, not one per message.
//  - inactive (a re-check answered that the token is no longer active): denied (PUBACK/PUBREC/SUBACK
//    0x87, rule "introspection") and every session of the token is ended: MQTT 5 DISCONNECT 0x98
//    administrative action, reason string "token no longer active"; MQTT 3.1.1 closed. A background
//    re-check answering inactive ends them at once, without waiting for their next packet; so does
//    an inactive verdict that token_authenticator learns during another client's CONNECT, when its
//    token_auth_config::on_inactive is inactive_handler() (auth_wiring does this).
//  - stale (no fresh verdict for interval + grace, e.g. the endpoint is unreachable): fail closed:
//    denied, and the session ended with DISCONNECT 0x87 not authorized, reason string
//    "token could not be re-checked".
// Sessions without a token_recheck are passed straight to the inner authorizer.
//
// Lifetime: the inner authorizer and the clock must outlive the monitor. attach() the broker once
// it exists, and detach() before destroying it (background answers may arrive until then; after
// detach they end nothing). Thread-safety: check() may run on any number of threads at once; the
// background callbacks run on the HTTP client's thread.
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>

#include <tollgate/auth/token_authenticator.hpp>
#include <tollgate/broker/auth.hpp>
#include <tollgate/broker/broker.hpp>
#include <tollgate/common/clock.hpp>

namespace tollgate::auth {

inline constexpr std::string_view inactive_reason_string = "token no longer active";
inline constexpr std::string_view stale_reason_string = "token could not be re-checked";

class introspection_monitor final : public broker::authorizer {
  public:
    introspection_monitor(broker::authorizer& inner, const common::clock& clock);
    ~introspection_monitor() override;
    introspection_monitor(const introspection_monitor&) = delete;
    introspection_monitor& operator=(const introspection_monitor&) = delete;

    /// Sessions are ended through `b` from now on. Any thread.
    void attach(broker::broker& b) noexcept;
    /// No session is ended from now on (denials still apply). Any thread.
    void detach() noexcept;

    std::optional<broker::verdict> check(const broker::principal& who, broker::action what,
                                         std::string_view topic_or_filter, std::uint8_t qos, bool retain,
                                         std::function<void(broker::verdict)> done) override;

    /// A function that ends every live session of a token (by its shared token_recheck), as an
    /// inactive re-check does: MQTT 5 DISCONNECT 0x98 "token no longer active", MQTT 3.1.1 closed.
    /// For token_auth_config::on_inactive, so that an inactive verdict found during a CONNECT ends
    /// the token's other sessions at once. Any thread; holds the monitor weakly (a no-op once the
    /// monitor is destroyed or detached).
    [[nodiscard]] std::function<void(const std::shared_ptr<token_recheck>&)> inactive_handler() const;

    /// Background re-checks started by this monitor.
    [[nodiscard]] std::uint64_t rechecks_started() const noexcept;

    struct target;

  private:
    broker::authorizer& inner_;
    const common::clock& clock_;
    std::shared_ptr<target> target_;  ///< shared with background callbacks (held weakly)
};

}  // namespace tollgate::auth
