#include <tollgate/auth/revocation.hpp>

namespace tollgate::auth {

bool revocation_matches(const revocation& r, const broker::principal& who) {
    if (r.value.empty() || who.issuer != r.issuer) {
        return false;
    }
    const session_context* ctx = context_of(who);
    switch (r.what) {
        case revocation::kind::access_token:
            return ctx != nullptr && ctx->jti == r.value;
        case revocation::kind::client:
            return ctx != nullptr && ctx->token_client_id == r.value;
        case revocation::kind::subject:
            return who.subject == r.value;
    }
    return false;
}

void session_revoker::revoke(const revocation& r) {
    if (authn_ != nullptr) {
        authn_->revoke(r);
    }
    broker_.end_sessions([r](const broker::principal& who) { return revocation_matches(r, who); },
                         mqtt::reason_code::administrative_action, "token revoked");
}

}  // namespace tollgate::auth
