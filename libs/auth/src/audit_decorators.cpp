// audited_authenticator and audited_authorizer: decorators that log every decision (see audit.hpp).
#include <string>
#include <string_view>

#include <tollgate/auth/audit.hpp>
#include <tollgate/common/secret.hpp>

namespace tollgate::auth {
namespace {

/// The token_id of a principal is the jti, or "fp:<fingerprint>" without one (token_authenticator).
void split_token_id(std::string_view token_id, audit_record& r) {
    if (token_id.starts_with("fp:")) {
        r.token_fp = token_id.substr(3);
    } else {
        r.jti = token_id;
    }
}

/// What the authenticator decorator keeps from the request until the answer arrives.
struct pending_authn {
    broker::auth_request::step kind = broker::auth_request::step::connect;
    std::string client_id;
    std::optional<std::string> username;
    std::optional<common::shared_bytes> token;  ///< to fingerprint it on failure; never written
    std::string peer;
    std::string transport;
};

/// A failed authentication's line gets "detail": the failed check (broker::auth_result::detail,
/// e.g. "signature is invalid", "token has expired (exp)", "token revoked"; never a secret). It is
/// added to the formatted object as its last member.
std::string with_detail(std::string line, std::string_view detail) {
    if (detail.empty() || line.empty() || line.back() != '}') {
        return line;
    }
    line.pop_back();
    line += ",\"detail\":\"";
    append_json_escaped(line, detail);
    line += "\"}";
    return line;
}

void log_authn(audit_log& log, const pending_authn& p, const broker::auth_result& result) {
    audit_record r;
    r.time = log.clock().system_now();
    r.event = p.kind == broker::auth_request::step::reauthenticate ? "reauth" : "authn";
    r.client_id = p.client_id;
    if (p.username) {
        r.username = *p.username;
    }
    r.peer = p.peer;
    r.transport = p.transport;
    std::string fingerprint;
    switch (result.result) {
        case broker::auth_result::outcome::success:
            r.outcome = "success";
            if (result.who) {
                r.subject = result.who->subject;
                r.issuer = result.who->issuer;
                split_token_id(result.who->token_id, r);
            }
            break;
        case broker::auth_result::outcome::continue_auth:
            r.outcome = "continue";
            break;
        case broker::auth_result::outcome::failure:
            r.outcome = "failure";
            r.reason_code = static_cast<std::uint8_t>(result.reason);
            r.reason = result.reason_string;
            if (p.token && p.token->size() > 0) {
                fingerprint = common::secret_fingerprint(p.token->as_string_view());
                r.token_fp = fingerprint;
            }
            break;
    }
    const bool failed = result.result == broker::auth_result::outcome::failure;
    log.append(
        with_detail(format_audit_record(r), failed ? std::string_view(result.detail) : std::string_view{}));
}

/// What the authorizer decorator keeps when the answer may come later.
struct pending_authz {
    std::string client_id;
    std::optional<std::string> username;
    std::string subject;
    std::string issuer;
    std::string token_id;
    broker::action what = broker::action::publish;
    std::string topic;
    std::uint8_t qos = 0;
    bool retain = false;
};

void log_authz(audit_log& log, const pending_authz& p, const broker::verdict& v) {
    audit_record r;
    r.time = log.clock().system_now();
    r.event = "authz";
    r.outcome = v.allow ? "allow" : "deny";
    r.client_id = p.client_id;
    if (p.username) {
        r.username = *p.username;
    }
    r.subject = p.subject;
    r.issuer = p.issuer;
    split_token_id(p.token_id, r);
    r.action = p.what;
    r.topic = p.topic;
    r.qos = p.qos;
    if (p.what == broker::action::publish) {
        r.retain = p.retain;
    }
    r.rule = v.rule;
    r.reason = v.reason;
    log.append(r);
}

}  // namespace

void audited_authenticator::authenticate(broker::auth_request request,
                                         std::function<void(broker::auth_result)> done) {
    auto p = std::make_shared<pending_authn>();
    p->kind = request.kind;
    p->client_id = request.client_id;
    p->username = request.username;
    p->token = request.method ? request.data : request.password;
    if (request.connection != nullptr) {
        const auto& c = *request.connection;
        if (!c.remote_address.empty()) {
            p->peer = c.remote_address.find(':') != std::string::npos
                          ? "[" + c.remote_address + "]:" + std::to_string(c.remote_port)
                          : c.remote_address + ":" + std::to_string(c.remote_port);
        }
        p->transport = c.transport;
    }
    inner_.authenticate(std::move(request),
                        [log = log_, p = std::move(p), done = std::move(done)](broker::auth_result result) {
                            log_authn(*log, *p, result);
                            done(std::move(result));
                        });
}

std::optional<broker::verdict> audited_authorizer::check(const broker::principal& who, broker::action what,
                                                         std::string_view topic_or_filter, std::uint8_t qos,
                                                         bool retain,
                                                         std::function<void(broker::verdict)> done) {
    auto p = std::make_shared<pending_authz>();
    p->client_id = who.client_id;
    p->username = who.username;
    p->subject = who.subject;
    p->issuer = who.issuer;
    p->token_id = who.token_id;
    p->what = what;
    p->topic = std::string(topic_or_filter);
    p->qos = qos;
    p->retain = retain;
    auto wrapped = [log = log_, p, done = std::move(done)](broker::verdict v) {
        log_authz(*log, *p, v);
        done(std::move(v));
    };
    auto now = inner_.check(who, what, topic_or_filter, qos, retain, std::move(wrapped));
    if (now) {
        log_authz(*log_, *p, *now);
    }
    return now;
}

}  // namespace tollgate::auth
