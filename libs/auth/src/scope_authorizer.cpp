#include <tollgate/auth/scope_authorizer.hpp>
#include <tollgate/auth/token_authenticator.hpp>

namespace tollgate::auth {

std::optional<broker::verdict> scope_authorizer::check(const broker::principal& who, broker::action what,
                                                       std::string_view topic_or_filter, std::uint8_t /*qos*/,
                                                       bool /*retain*/,
                                                       std::function<void(broker::verdict)> /*done*/) {
    const session_context* ctx = context_of(who);
    if (ctx == nullptr) {
        return broker::verdict{false, "default deny", "no token permissions"};
    }
    // Per message: an allow costs one copy of the granting scope's text (the rule, for the audit log),
    // no other string; only a denial builds its explanation.
    const grant* g = what == broker::action::publish ? ctx->permissions.find_publish(topic_or_filter)
                                                     : ctx->permissions.find_subscribe(topic_or_filter);
    if (g != nullptr) {
        return broker::verdict{true, g->source, {}};
    }
    decision d = what == broker::action::publish ? ctx->permissions.check_publish(topic_or_filter)
                                                 : ctx->permissions.check_subscribe(topic_or_filter);
    return broker::verdict{d.allow, std::move(d.rule), std::move(d.reason)};
}

}  // namespace tollgate::auth
