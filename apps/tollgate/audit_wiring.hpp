#pragma once
// The [auth.audit] section and the audit decorators `tollgate serve` puts around the authenticator
// and authorizer it hands to the broker (libs/auth audit.hpp; docs/auth.md "Audit log").
//
//   [auth.audit]
//   path = "/var/log/tollgate/audit.jsonl"   # JSON lines, appended; "" (default): off
//   max_queue = 10000                        # lines waiting for the writer thread; more are dropped
//   queue_bytes = 16777216                   # bytes waiting for the writer (64 KiB..1 GiB); more dropped
//   fsync = false                            # fdatasync after each written batch
//
// Thread-safety: plain values; audit_wiring is set up on one thread before the broker starts.
#include <cstddef>
#include <memory>
#include <string>

#include <toml++/toml.h>

#include <tollgate/auth/audit.hpp>
#include <tollgate/broker/auth.hpp>
#include <tollgate/common/clock.hpp>

namespace tollgate::app {

struct audit_settings {
    std::string path;  ///< empty: no audit log
    std::size_t max_queue = 10000;
    std::size_t queue_bytes = 16 * 1024 * 1024;
    bool fsync = false;
};

/// Parses the [auth.audit] table (`path` is its key path). Throws config_error naming the key.
[[nodiscard]] audit_settings parse_audit_settings(const toml::table& table,
                                                  const std::string& path = "auth.audit");

/// Owns the audit log and the decorators. Declare it before the broker (it must outlive it).
class audit_wiring {
  public:
    /// Opens the log when settings.path is set. Throws std::runtime_error when the file cannot be
    /// opened (serve then fails to start).
    void open(const audit_settings& settings, const common::clock& clock);
    /// The decorator around `inner` when the log is open (made once; `inner` must outlive this
    /// object), else `inner` itself.
    broker::authenticator& wrap(broker::authenticator& inner);
    broker::authorizer& wrap(broker::authorizer& inner);
    [[nodiscard]] std::shared_ptr<auth::audit_log> log() const { return log_; }
    /// Log rotation (SIGHUP): the writer closes and reopens the path before its next batch; no line
    /// is lost or split (audit_log::reopen). Returns false when no audit log is configured.
    bool reopen();

  private:
    std::shared_ptr<auth::audit_log> log_;
    std::unique_ptr<auth::audited_authenticator> authn_;
    std::unique_ptr<auth::audited_authorizer> authz_;
};

}  // namespace tollgate::app
