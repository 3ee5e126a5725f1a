#pragma once
// The audit log: one JSON object per line (JSON Lines) for every authentication and authorization
// decision the broker makes (docs/auth.md "Audit log").
//
//   {"time":"2026-11-28T15:32:20.123Z","event":"authz","outcome":"deny","client_id":"dev-1",
//    "username":"oauth2","subject":"alice","issuer":"http://127.0.0.1:8080","jti":"Yx3...",
//    "action":"publish","topic":"devices/dev-2/up","qos":1,"retain":false,"rule":"default deny",
//    "reason":"no publish scope matches the topic"}
//
// Members (absent when unknown or empty): time (RFC 3339, UTC, milliseconds), event (authn for
// CONNECT and its AUTH steps, reauth for AUTH 0x19, authz), outcome (authn/reauth: success, failure,
// continue; authz: allow, deny), client_id, username, subject, issuer, jti, token_fp (the first 12
// hex digits of the token's SHA-256, only when no jti is known), peer ("address:port"), transport,
// reason_code (authn failures, "0x86"), action (publish, subscribe), topic (publish) or filter
// (subscribe), qos, retain (publish), rule (verdict.rule), reason. A token itself is never written.
// Strings are escaped per RFC 8259: '"', '\\' and control characters are escaped (\n, \t, \u001f,
// ...); DEL is written as \u007f; bytes that are not valid UTF-8 are each replaced by \ufffd, so
// every line is valid UTF-8 JSON.
//
// Writing never blocks the caller (the broker's event loop). Design: a FIFO of formatted lines
// (std::deque<std::string>) under one mutex, bounded by max_queue lines and max_queue_bytes; a
// single writer thread swaps the whole queue out under the mutex and writes it with write(2) outside
// it. When the queue is full a line is dropped and counted; the writer then writes
// {"time":...,"event":"audit_dropped","count":N} before the next line it writes, so a gap is never
// silent. The caller's cost is the formatting plus an O(1) push under the mutex.
// Durability: each batch is written with write(2) to a file opened O_APPEND (it survives a crash of
// the process); with options::fsync each batch is also fdatasync'ed (survives power loss, costs a
// disk flush per batch). The destructor writes everything queued before it returns.
// Rotation: reopen() makes the writer close and reopen the path before its next batch (call it
// from a SIGHUP handler after logrotate has moved the file).
//
// Thread-safety: every member function of audit_log may be called from any thread.
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include <tollgate/broker/auth.hpp>
#include <tollgate/common/clock.hpp>

namespace tollgate::auth {

/// Appends `text` to `out` as the inside of a JSON string (RFC 8259 §7): see the header comment.
void append_json_escaped(std::string& out, std::string_view text);

/// RFC 3339 UTC with milliseconds: "2026-11-28T15:32:20.123Z".
std::string rfc3339_utc_ms(common::system_time t);

/// One decision, as the decorators below see it. Views must stay valid during format_audit_record.
struct audit_record {
    common::system_time time;
    std::string_view event;    ///< "authn", "reauth", "authz"
    std::string_view outcome;  ///< "success", "failure", "continue", "allow", "deny"
    std::string_view client_id;
    std::optional<std::string_view> username;
    std::string_view subject;
    std::string_view issuer;
    std::string_view jti;
    std::string_view token_fp;
    std::string_view peer;
    std::string_view transport;
    std::optional<std::uint8_t> reason_code;  ///< authn/reauth failures
    std::optional<broker::action> action;     ///< authz
    std::string_view topic;                   ///< authz: the topic name or the filter
    std::optional<std::uint8_t> qos;          ///< authz
    std::optional<bool> retain;               ///< authz, publish
    std::string_view rule;
    std::string_view reason;
};

/// The record as one JSON object, without the trailing newline.
std::string format_audit_record(const audit_record& r);

struct audit_options {
    std::string path;                                ///< file, appended to (created 0600)
    std::size_t max_queue = 10000;                   ///< lines waiting for the writer; more are dropped
    std::size_t max_queue_bytes = 16 * 1024 * 1024;  ///< bytes waiting for the writer
    bool fsync = false;                              ///< fdatasync after each batch
};

struct audit_stats {
    std::uint64_t written = 0;       ///< lines written (drop reports included)
    std::uint64_t dropped = 0;       ///< lines dropped because the queue was full
    std::uint64_t write_errors = 0;  ///< failed write(2) / open calls
};

class audit_log {
  public:
    /// Opens (creates) the file and starts the writer thread. Throws std::runtime_error naming the
    /// path when it cannot be opened, std::invalid_argument when max_queue is 0.
    audit_log(audit_options options, const common::clock& clock);
    /// Writes everything still queued, then stops the writer.
    ~audit_log();
    audit_log(const audit_log&) = delete;
    audit_log& operator=(const audit_log&) = delete;

    /// Queues one line (a JSON object without newline). Never blocks on I/O; drops and counts the
    /// line when the queue is full.
    void append(std::string line);
    /// Formats and queues a record.
    void append(const audit_record& r) { append(format_audit_record(r)); }
    /// Blocks until every line queued before the call has been written (tests, shutdown; never call
    /// it on an event loop).
    void flush();
    /// The writer closes and reopens the path before its next batch (log rotation).
    void reopen();

    [[nodiscard]] audit_stats stats() const;
    [[nodiscard]] const common::clock& clock() const noexcept { return clock_; }

  private:
    void run();
    void open_file();
    bool write_all(std::string_view data);

    audit_options options_;
    const common::clock& clock_;
    int fd_ = -1;
    mutable std::mutex mutex_;
    std::condition_variable wake_;     ///< the writer: work, reopen or stop
    std::condition_variable written_;  ///< flush(): a batch was written
    std::deque<std::string> queue_;
    std::size_t queued_bytes_ = 0;
    std::uint64_t enqueued_ = 0;    ///< lines accepted so far (flush waits for done_ to reach it)
    std::uint64_t done_ = 0;        ///< accepted lines written (or failed) so far
    std::uint64_t unreported_ = 0;  ///< drops not yet reported in the file
    audit_stats stats_;
    bool reopen_ = false;
    bool stop_ = false;
    std::thread writer_;
};

/// Decorator: forwards every authentication step to `inner` and logs its answer (wraps `done`, so
/// asynchronous answers are logged when they arrive, before the broker sees them). `inner` and
/// `log` must outlive it. Thread-safety: as `inner`.
class audited_authenticator final : public broker::authenticator {
  public:
    audited_authenticator(broker::authenticator& inner, std::shared_ptr<audit_log> log)
        : inner_(inner), log_(std::move(log)) {}
    void authenticate(broker::auth_request request, std::function<void(broker::auth_result)> done) override;

  private:
    broker::authenticator& inner_;
    std::shared_ptr<audit_log> log_;
};

/// Decorator: forwards every authorization question to `inner` and logs the verdict, whether it
/// comes back inline or later through `done`. Thread-safety: as `inner`.
class audited_authorizer final : public broker::authorizer {
  public:
    audited_authorizer(broker::authorizer& inner, std::shared_ptr<audit_log> log)
        : inner_(inner), log_(std::move(log)) {}
    std::optional<broker::verdict> check(const broker::principal& who, broker::action what,
                                         std::string_view topic_or_filter, std::uint8_t qos, bool retain,
                                         std::function<void(broker::verdict)> done) override;

  private:
    broker::authorizer& inner_;
    std::shared_ptr<audit_log> log_;
};

}  // namespace tollgate::auth
