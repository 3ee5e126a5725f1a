#pragma once
// session_revoker: turns a revocation (of one access token, every token of a client, or every token
// of a subject, all from one issuer) into broker::end_sessions() for the matching live sessions and
// tells the authenticator (token_authenticator::revoke: cache entries dropped, the revocation
// remembered until the tokens it covers have expired), so neither a live session nor a reconnect
// with a revoked token survives it. MQTT 5 sessions get DISCONNECT 0x98
// (administrative action) with the reason string "token revoked"; MQTT 3.1.1 connections are closed.
//
// It knows nothing of libs/oauth: apps/tollgate/auth_wiring.cpp subscribes to the authorization
// server's revocation_hub and forwards each event here.
// Thread-safety: revoke() may be called from any thread; the broker runs the match on its workers.
#include <cstdint>
#include <string>

#include <tollgate/auth/token_authenticator.hpp>
#include <tollgate/broker/broker.hpp>

namespace tollgate::auth {

/// Does this principal fall under the revocation?
bool revocation_matches(const revocation& r, const broker::principal& who);

class session_revoker {
  public:
    /// Both must outlive the revoker. `authn` may be null (no cache to invalidate).
    session_revoker(broker::broker& b, token_authenticator* authn) : broker_(b), authn_(authn) {}
    void revoke(const revocation& r);

  private:
    broker::broker& broker_;
    token_authenticator* authn_;
};

}  // namespace tollgate::auth
