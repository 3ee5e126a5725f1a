// [auth.audit] parsing and the audit decorators (see audit_wiring.hpp).
#include "audit_wiring.hpp"

#include "config_reader.hpp"

namespace tollgate::app {

audit_settings parse_audit_settings(const toml::table& table, const std::string& path) {
    detail::table_reader r(table, path);
    audit_settings out;
    r.string("path", out.path, false);
    r.integer("max_queue", out.max_queue, 1, 10'000'000);
    r.integer("queue_bytes", out.queue_bytes, 64 * 1024, 1024 * 1024 * 1024);
    r.boolean("fsync", out.fsync);
    r.finish();
    return out;
}

void audit_wiring::open(const audit_settings& settings, const common::clock& clock) {
    if (settings.path.empty()) {
        return;
    }
    auth::audit_options options;
    options.path = settings.path;
    options.max_queue = settings.max_queue;
    options.max_queue_bytes = settings.queue_bytes;
    options.fsync = settings.fsync;
    log_ = std::make_shared<auth::audit_log>(std::move(options), clock);
}

bool audit_wiring::reopen() {
    if (!log_) {
        return false;
    }
    log_->reopen();
    return true;
}

broker::authenticator& audit_wiring::wrap(broker::authenticator& inner) {
    if (!log_) {
        return inner;
    }
    if (!authn_) {
        authn_ = std::make_unique<auth::audited_authenticator>(inner, log_);
    }
    return *authn_;
}

broker::authorizer& audit_wiring::wrap(broker::authorizer& inner) {
    if (!log_) {
        return inner;
    }
    if (!authz_) {
        authz_ = std::make_unique<auth::audited_authorizer>(inner, log_);
    }
    return *authz_;
}

}  // namespace tollgate::app
