// introspection_monitor: periodic re-check of live sessions (see introspection_monitor.hpp).
#include <mutex>
#include <string>

#include <tollgate/auth/introspection_monitor.hpp>

namespace tollgate::auth {

/// The broker to end sessions through, shared with background callbacks. The mutex keeps detach()
/// from returning while a callback is using the broker.
struct introspection_monitor::target {
    std::mutex mutex;
    broker::broker* b = nullptr;
    std::atomic<std::uint64_t> started{0};

    void end_sessions_of(const std::shared_ptr<token_recheck>& state, mqtt::reason_code reason,
                         std::string_view reason_string) {
        std::lock_guard lock(mutex);
        if (b == nullptr) {
            return;
        }
        b->end_sessions(
            [state](const broker::principal& who) {
                const session_context* ctx = context_of(who);
                return ctx != nullptr && ctx->recheck == state;
            },
            reason, std::string(reason_string));
    }
};

introspection_monitor::introspection_monitor(broker::authorizer& inner, const common::clock& clock)
    : inner_(inner), clock_(clock), target_(std::make_shared<target>()) {}

introspection_monitor::~introspection_monitor() {
    detach();
}

void introspection_monitor::attach(broker::broker& b) noexcept {
    std::lock_guard lock(target_->mutex);
    target_->b = &b;
}

void introspection_monitor::detach() noexcept {
    std::lock_guard lock(target_->mutex);
    target_->b = nullptr;
}

std::uint64_t introspection_monitor::rechecks_started() const noexcept {
    return target_->started.load();
}

std::function<void(const std::shared_ptr<token_recheck>&)> introspection_monitor::inactive_handler() const {
    return [weak = std::weak_ptr<target>(target_)](const std::shared_ptr<token_recheck>& state) {
        if (auto t = weak.lock(); t && state) {
            t->end_sessions_of(state, mqtt::reason_code::administrative_action, inactive_reason_string);
        }
    };
}

std::optional<broker::verdict> introspection_monitor::check(const broker::principal& who, broker::action what,
                                                            std::string_view topic_or_filter,
                                                            std::uint8_t qos, bool retain,
                                                            std::function<void(broker::verdict)> done) {
    const session_context* ctx = context_of(who);
    if (ctx != nullptr && ctx->recheck) {
        const auto& state = ctx->recheck;
        const auto status = state->state(clock_.steady_now());
        if (status == token_recheck::status::due || status == token_recheck::status::stale) {
            const bool started = state->start_if_due(
                [weak = std::weak_ptr<target>(target_), state](const introspection_result& r) {
                    auto t = weak.lock();
                    if (t && r.state == introspection_result::verdict::inactive) {
                        t->end_sessions_of(state, mqtt::reason_code::administrative_action,
                                           inactive_reason_string);
                    }
                });
            if (started) {
                ++target_->started;
            }
        }
        // Re-read: an inline answer may have changed the state.
        switch (state->state(clock_.steady_now())) {
            case token_recheck::status::inactive:
                target_->end_sessions_of(state, mqtt::reason_code::administrative_action,
                                         inactive_reason_string);
                return broker::verdict{false, "introspection", std::string(inactive_reason_string)};
            case token_recheck::status::stale:
                target_->end_sessions_of(state, mqtt::reason_code::not_authorized, stale_reason_string);
                return broker::verdict{false, "introspection", std::string(stale_reason_string)};
            case token_recheck::status::due:
            case token_recheck::status::fresh:
                break;
        }
    }
    return inner_.check(who, what, topic_or_filter, qos, retain, std::move(done));
}

}  // namespace tollgate::auth
