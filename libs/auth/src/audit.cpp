// The JSON-lines audit log: formatting, the bounded queue and its writer thread (see audit.hpp).
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <stdexcept>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <tollgate/auth/audit.hpp>
#include <tollgate/common/log.hpp>

namespace tollgate::auth {
namespace {

bool is_continuation(unsigned char c) noexcept {
    return (c & 0xC0U) == 0x80U;
}

/// Length of the well-formed UTF-8 sequence starting at s[i] (Unicode 15 table 3-7: no overlong
/// forms, no surrogates, nothing above U+10FFFF), or 0.
std::size_t utf8_sequence(std::string_view s, std::size_t i) noexcept {
    const auto at = [&](std::size_t k) { return static_cast<unsigned char>(s[i + k]); };
    const unsigned char c = at(0);
    if (c < 0x80U) {
        return 1;
    }
    std::size_t len = 0;
    unsigned char lo = 0x80U;
    unsigned char hi = 0xBFU;
    if (c >= 0xC2U && c <= 0xDFU) {
        len = 2;
    } else if (c >= 0xE0U && c <= 0xEFU) {
        len = 3;
        lo = c == 0xE0U ? 0xA0U : 0x80U;
        hi = c == 0xEDU ? 0x9FU : 0xBFU;
    } else if (c >= 0xF0U && c <= 0xF4U) {
        len = 4;
        lo = c == 0xF0U ? 0x90U : 0x80U;
        hi = c == 0xF4U ? 0x8FU : 0xBFU;
    } else {
        return 0;
    }
    if (i + len > s.size() || at(1) < lo || at(1) > hi) {
        return 0;
    }
    for (std::size_t k = 2; k < len; ++k) {
        if (!is_continuation(at(k))) {
            return 0;
        }
    }
    return len;
}

void append_escape(std::string& out, unsigned char c) {
    switch (c) {
        case '"':
            out += "\\\"";
            return;
        case '\\':
            out += "\\\\";
            return;
        case '\b':
            out += "\\b";
            return;
        case '\f':
            out += "\\f";
            return;
        case '\n':
            out += "\\n";
            return;
        case '\r':
            out += "\\r";
            return;
        case '\t':
            out += "\\t";
            return;
        default:
            break;
    }
    char buf[8];
    std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
    out += buf;
}

/// Builds one JSON object member by member.
class json_object_writer {
  public:
    json_object_writer() { out_.reserve(256); }
    void string(std::string_view key, std::string_view value) {
        start(key);
        out_ += '"';
        append_json_escaped(out_, value);
        out_ += '"';
    }
    void string_if(std::string_view key, std::string_view value) {
        if (!value.empty()) {
            string(key, value);
        }
    }
    void number(std::string_view key, std::uint64_t value) {
        start(key);
        out_ += std::to_string(value);
    }
    void boolean(std::string_view key, bool value) {
        start(key);
        out_ += value ? "true" : "false";
    }
    std::string finish() {
        out_ += '}';
        return std::move(out_);
    }

  private:
    void start(std::string_view key) {
        out_ += out_.empty() ? "{\"" : ",\"";
        out_ += key;  // keys are ASCII literals of this file
        out_ += "\":";
    }
    std::string out_;
};

}  // namespace

void append_json_escaped(std::string& out, std::string_view text) {
    for (std::size_t i = 0; i < text.size();) {
        const auto c = static_cast<unsigned char>(text[i]);
        if (c < 0x20U || c == '"' || c == '\\' || c == 0x7FU) {
            append_escape(out, c);
            ++i;
            continue;
        }
        const std::size_t len = utf8_sequence(text, i);
        if (len == 0) {
            out += "\\ufffd";  // one replacement per invalid byte
            ++i;
            continue;
        }
        out.append(text.substr(i, len));
        i += len;
    }
}

std::string rfc3339_utc_ms(common::system_time t) {
    using namespace std::chrono;
    const auto ms_total = duration_cast<milliseconds>(t.time_since_epoch()).count();
    auto secs = static_cast<std::time_t>(ms_total / 1000);
    auto ms = ms_total % 1000;
    if (ms < 0) {
        ms += 1000;
        --secs;
    }
    std::tm tm{};
    ::gmtime_r(&secs, &tm);
    char buf[96];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                  tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
    return buf;
}

std::string format_audit_record(const audit_record& r) {
    json_object_writer w;
    w.string("time", rfc3339_utc_ms(r.time));
    w.string("event", r.event);
    w.string("outcome", r.outcome);
    w.string_if("client_id", r.client_id);
    if (r.username) {
        w.string("username", *r.username);
    }
    w.string_if("subject", r.subject);
    w.string_if("issuer", r.issuer);
    w.string_if("jti", r.jti);
    if (r.jti.empty()) {
        w.string_if("token_fp", r.token_fp);
    }
    w.string_if("peer", r.peer);
    w.string_if("transport", r.transport);
    if (r.reason_code) {
        char buf[8];
        std::snprintf(buf, sizeof buf, "0x%02X", static_cast<unsigned>(*r.reason_code));
        w.string("reason_code", buf);
    }
    if (r.action) {
        const bool publish = *r.action == broker::action::publish;
        w.string("action", publish ? "publish" : "subscribe");
        w.string(publish ? "topic" : "filter", r.topic);
    }
    if (r.qos) {
        w.number("qos", *r.qos);
    }
    if (r.retain) {
        w.boolean("retain", *r.retain);
    }
    w.string_if("rule", r.rule);
    w.string_if("reason", r.reason);
    return w.finish();
}

audit_log::audit_log(audit_options options, const common::clock& clock)
    : options_(std::move(options)), clock_(clock) {
    if (options_.max_queue == 0 || options_.max_queue_bytes == 0) {
        throw std::invalid_argument("audit log: the queue limits must be at least 1");
    }
    open_file();
    if (fd_ < 0) {
        throw std::runtime_error("cannot open audit log " + options_.path + ": " + std::strerror(errno));
    }
    writer_ = std::thread([this] { run(); });
}

audit_log::~audit_log() {
    {
        std::lock_guard lock(mutex_);
        stop_ = true;
    }
    wake_.notify_one();
    writer_.join();
    if (fd_ >= 0) {
        ::close(fd_);
    }
}

void audit_log::open_file() {
    fd_ = ::open(options_.path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
}

void audit_log::append(std::string line) {
    {
        std::lock_guard lock(mutex_);
        if (queue_.size() >= options_.max_queue ||
            queued_bytes_ + line.size() + 1 > options_.max_queue_bytes) {
            ++stats_.dropped;
            ++unreported_;
            return;
        }
        queued_bytes_ += line.size() + 1;
        queue_.push_back(std::move(line));
        ++enqueued_;
    }
    wake_.notify_one();
}

void audit_log::flush() {
    std::unique_lock lock(mutex_);
    const auto target = enqueued_;
    wake_.notify_one();
    written_.wait(lock, [&] { return done_ >= target; });
}

void audit_log::reopen() {
    {
        std::lock_guard lock(mutex_);
        reopen_ = true;
    }
    wake_.notify_one();
}

audit_stats audit_log::stats() const {
    std::lock_guard lock(mutex_);
    return stats_;
}

bool audit_log::write_all(std::string_view data) {
    while (!data.empty()) {
        const ssize_t n = ::write(fd_, data.data(), data.size());
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            const int error = errno;
            {
                std::lock_guard lock(mutex_);
                ++stats_.write_errors;
            }
            common::logger("audit")->error("audit log {}: write failed: {}", options_.path,
                                           std::strerror(error));
            return false;
        }
        data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

void audit_log::run() {
    std::unique_lock lock(mutex_);
    for (;;) {
        wake_.wait(lock, [&] { return stop_ || reopen_ || !queue_.empty() || unreported_ > 0; });
        const bool stopping = stop_;
        const bool reopen = std::exchange(reopen_, false);
        std::deque<std::string> batch;
        batch.swap(queue_);
        queued_bytes_ = 0;
        const std::uint64_t dropped = std::exchange(unreported_, 0);
        lock.unlock();

        if (reopen || fd_ < 0) {  // rotation, or a failed open retried on every batch
            if (fd_ >= 0) {
                ::close(fd_);
            }
            open_file();
            if (fd_ < 0) {
                common::logger("audit")->error("audit log {}: reopen failed: {}", options_.path,
                                               std::strerror(errno));
            }
        }
        std::string text;
        std::uint64_t lines = batch.size();
        if (dropped > 0) {
            text = R"({"time":")" + rfc3339_utc_ms(clock_.system_now()) +
                   R"(","event":"audit_dropped","count":)" + std::to_string(dropped) + "}\n";
            ++lines;
        }
        for (auto& line : batch) {
            text += line;
            text += '\n';
        }
        const bool open = fd_ >= 0;
        const bool ok = open && (text.empty() || write_all(text));
        if (ok && !text.empty() && options_.fsync) {
            ::fdatasync(fd_);
        }

        lock.lock();
        if (ok) {
            stats_.written += lines;
        } else if (!open) {
            ++stats_.write_errors;
        }
        done_ += batch.size();
        written_.notify_all();
        if (stopping && queue_.empty() && unreported_ == 0) {
            return;
        }
    }
}

}  // namespace tollgate::auth
