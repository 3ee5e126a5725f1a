// token_authenticator: the checks after verification (a cached token's exp/nbf, remembered
// revocations, the client id binding, RFC 8705 certificate binding, re-authentication identity,
// the re-check state), the refusal and the principal (see token_authenticator.hpp).
#include <spdlog/spdlog.h>

#include <tollgate/common/secret.hpp>
#include <tollgate/jose/key.hpp>

#include "token_authenticator_impl.hpp"

namespace tollgate::auth {

bool token_authenticator::impl::still_valid(const detail::cached_token& t) const {
    const auto now = clock.unix_seconds();
    const auto leeway = config.leeway.count();
    if (now >= t.exp + leeway) {
        return false;
    }
    return !t.nbf || now + leeway >= *t.nbf;
}

std::optional<std::string> token_authenticator::impl::binding_value(const detail::cached_token& t) const {
    switch (config.binding) {
        case client_id_binding::none:
            return std::nullopt;
        case client_id_binding::client_id_claim:
            return t.client_id;
        case client_id_binding::subject:
            return t.subject;
        case client_id_binding::claim:
            return detail::string_member(t.claims, config.binding_claim).value_or(std::string{});
    }
    return std::nullopt;
}

std::optional<std::string> token_authenticator::impl::connection_checks(
    const detail::cached_token& t, const auth_request& req,
    const std::optional<common::shared_bytes>& cert) const {
    if (auto want = binding_value(t); want && (want->empty() || *want != req.client_id)) {
        return "client id not bound to the token";
    }
    if (t.cnf_x5t_s256) {  // RFC 8705 §3: the token is bound to a certificate
        if (!cert) {
            return "certificate-bound token without a client certificate";
        }
        auto thumb = jose::x5t_s256(cert->span());
        if (!thumb || !common::constant_time_equal(*thumb, *t.cnf_x5t_s256)) {
            return "client certificate does not match cnf.x5t#S256";
        }
    }
    if (req.kind == auth_request::step::reauthenticate && req.current &&
        (req.current->issuer != t.issuer || req.current->subject != subject_of(t))) {
        return "re-authentication changes the issuer or subject";
    }
    return std::nullopt;
}

std::string token_authenticator::impl::subject_of(const detail::cached_token& t) {
    return t.subject.empty() ? t.client_id : t.subject;
}

std::shared_ptr<const broker::principal> token_authenticator::impl::make_principal(
    const detail::cached_token& t, const auth_request& req, std::shared_ptr<token_recheck> recheck) {
    auto ctx = std::unique_ptr<session_context>(new session_context);
    substitution_values values;
    values.client_id = req.client_id;
    values.subject = subject_of(t);
    values.username = req.username;
    values.claim = [&t](std::string_view name) { return detail::string_member(t.claims, name); };
    std::vector<std::pair<std::string, std::string>> dropped;
    ctx->permissions = permission_set::compile(t.scopes, t.claims, values, config.scopes, &dropped);
    for (const auto& [scope, why] : dropped) {
        log->info("auth: scope '{}' of jti={} ignored: {}", scope, t.jti, why);
    }
    ctx->token_client_id = t.client_id;
    ctx->jti = t.jti;
    ctx->scopes = t.scopes;
    ctx->claims = std::make_shared<const boost::json::object>(t.claims);
    ctx->recheck = std::move(recheck);
    auto who = std::make_shared<broker::principal>();
    who->client_id = req.client_id;
    who->username = req.username;
    who->subject = subject_of(t);
    who->issuer = t.issuer;
    who->token_id = t.jti.empty() ? "fp:" + t.fingerprint : t.jti;
    who->expires_at = common::system_time(std::chrono::seconds(t.exp) + config.leeway);
    who->expiry_reason = reason_code::maximum_connect_time;  // 0xA0: distinct from 0x87 and 0x98
    who->expiry_reason_string = "token expired";
    who->context = std::shared_ptr<const session_context>(ctx.release(), detail::session_context_deleter{});
    return who;
}

broker::auth_result token_authenticator::impl::fail(const auth_request& req, reason_code code,
                                                    std::string_view reason_string, std::string_view check,
                                                    const detail::cached_token* t,
                                                    std::string_view fingerprint) {
    ++failures;
    if (req.kind == auth_request::step::reauthenticate) {
        code = reason_code::not_authorized;  // 0x86 is not a DISCONNECT reason code
    }
    log->warn("auth: refused client_id='{}' step={} check='{}' jti={} sub={} token_fp={}", req.client_id,
              static_cast<int>(req.kind), check, t != nullptr ? t->jti : "-", t != nullptr ? t->subject : "-",
              fingerprint.empty() ? "-" : fingerprint);
    auth_result r;
    r.result = auth_result::outcome::failure;
    r.reason = code;
    r.reason_string = std::string(reason_string);
    r.detail = std::string(check);
    return r;
}

broker::auth_result token_authenticator::impl::finish(const auth_request& req,
                                                      const std::optional<common::shared_bytes>& cert,
                                                      std::shared_ptr<const detail::cached_token> t,
                                                      const detail::token_ref& tok) {
    const std::string& fingerprint = tok.fingerprint;
    if (is_revoked(*t)) {
        return fail(req, reason_code::bad_user_name_or_password, detail::invalid_token, "token revoked",
                    t.get(), fingerprint);
    }
    if (auto failed = connection_checks(*t, req, cert)) {
        return fail(req, reason_code::not_authorized, detail::not_accepted, *failed, t.get(), fingerprint);
    }
    std::shared_ptr<token_recheck> recheck;
    if (const issuer_state* st = issuer_named(t->issuer); st != nullptr && rechecks(st->config)) {
        recheck = recheck_state(*st, tok, tok.verified_at.value_or(clock.steady_now()));
        switch (recheck->state(clock.steady_now())) {
            case token_recheck::status::inactive:
                return fail(req, reason_code::bad_user_name_or_password, detail::invalid_token,
                            "token no longer active (introspection)", t.get(), fingerprint);
            case token_recheck::status::stale:
                recheck->start_if_due(notify_inactive(recheck));
                return fail(req, reason_code::bad_user_name_or_password, detail::invalid_token,
                            "no fresh introspection verdict within the grace", t.get(), fingerprint);
            case token_recheck::status::due:
                recheck->start_if_due(notify_inactive(recheck));
                if (recheck->inactive()) {  // answered inline: this CONNECT is refused too
                    return fail(req, reason_code::bad_user_name_or_password, detail::invalid_token,
                                "token no longer active (introspection)", t.get(), fingerprint);
                }
                break;
            case token_recheck::status::fresh:
                break;
        }
    }
    ++successes;
    log->debug("auth: accepted client_id='{}' iss={} sub={} jti={}", req.client_id, t->issuer, t->subject,
               t->jti);
    auth_result r;
    r.result = auth_result::outcome::success;
    r.who = make_principal(*t, req, std::move(recheck));
    return r;
}

}  // namespace tollgate::auth
