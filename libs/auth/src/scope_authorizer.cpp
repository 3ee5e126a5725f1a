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
    const decision d = what == broker::action::publish ? ctx->permissions.check_publish(topic_or_filter)
                                                       : ctx->permissions.check_subscribe(topic_or_filter);
    return broker::verdict{d.allow, d.rule, d.reason};
}

}  // namespace tollgate::auth
