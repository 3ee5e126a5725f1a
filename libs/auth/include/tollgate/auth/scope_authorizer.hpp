#pragma once
// scope_authorizer: answers the broker's authorization questions inline from the permissions that
// token_authenticator compiled into the principal (session_context). Default deny: a principal
// without a session_context (anonymous, or made by another authenticator) is refused everything.
//  - PUBLISH: some publish grant's filter must match the topic name.
//  - SUBSCRIBE: some subscribe grant must cover the filter (filter_covers); "$share/g/f" is judged
//    on f (the share group is not restricted).
//  - '$' topics ($SYS...): only a grant whose first level names them literally allows them
//    ([MQTT-4.7.2-1] keeps "#" and "+/..." from matching them).
// verdict.rule names the granting scope (or "default deny"); verdict.reason explains a denial (it is
// the v5 Reason String) and is empty on an allow, so the per-message path builds no string but the
// rule; permission_set::check_publish/check_subscribe give the full explanation (admin explain).
// Thread-safety: stateless; check() may run on any number of threads at once.
#include <tollgate/broker/auth.hpp>

namespace tollgate::auth {

class scope_authorizer final : public broker::authorizer {
  public:
    std::optional<broker::verdict> check(const broker::principal& who, broker::action what,
                                         std::string_view topic_or_filter, std::uint8_t qos, bool retain,
                                         std::function<void(broker::verdict)> done) override;
};

}  // namespace tollgate::auth
