#include <mutex>
#include <stdexcept>
#include <vector>

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>

#include <tollgate/common/log.hpp>

namespace tollgate::common {
namespace {

// %j: the log message escaped as the contents of a JSON string (RFC 8259 §7), so that json-format
// lines stay valid whatever the message holds.
class json_message_flag final : public spdlog::custom_flag_formatter {
  public:
    void format(const spdlog::details::log_msg& msg, const std::tm& /*tm*/,
                spdlog::memory_buf_t& dest) override {
        static constexpr char hex[] = "0123456789abcdef";
        for (char c : std::string_view(msg.payload.data(), msg.payload.size())) {
            const auto u = static_cast<unsigned char>(c);
            if (c == '"' || c == '\\') {
                dest.push_back('\\');
                dest.push_back(c);
            } else if (u < 0x20) {
                const char esc[] = {'\\', 'u', '0', '0', hex[u >> 4], hex[u & 0xF]};
                dest.append(esc, esc + sizeof esc);
            } else {
                dest.push_back(c);
            }
        }
    }
    [[nodiscard]] std::unique_ptr<custom_flag_formatter> clone() const override {
        return std::make_unique<json_message_flag>();
    }
};

std::unique_ptr<spdlog::formatter> make_formatter(const std::string& pattern) {
    auto f = std::make_unique<spdlog::pattern_formatter>();
    f->add_flag<json_message_flag>('j').set_pattern(pattern);
    return f;
}

struct registry {
    std::mutex mutex;
    std::vector<spdlog::sink_ptr> sinks;
    spdlog::level::level_enum level = spdlog::level::info;
    std::string pattern = "%Y-%m-%dT%H:%M:%S.%e%z %^%l%$ [%n] %v";
};

registry& reg() {
    static registry r;
    return r;
}

}  // namespace

bool parse_log_level(std::string_view name, spdlog::level::level_enum& out) {
    static constexpr std::pair<std::string_view, spdlog::level::level_enum> levels[] = {
        {"trace", spdlog::level::trace}, {"debug", spdlog::level::debug},
        {"info", spdlog::level::info},   {"warn", spdlog::level::warn},
        {"error", spdlog::level::err},   {"critical", spdlog::level::critical},
        {"off", spdlog::level::off}};
    for (const auto& [n, l] : levels) {
        if (n == name) {
            out = l;
            return true;
        }
    }
    return false;
}

void configure_logging(const log_options& options) {
    spdlog::level::level_enum level{};
    if (!parse_log_level(options.level, level)) {
        throw std::invalid_argument("log.level: unknown level '" + options.level +
                                    "' (trace, debug, info, warn, error, critical, off)");
    }
    auto& r = reg();
    std::lock_guard lock(r.mutex);
    r.sinks.clear();
    if (options.file.empty()) {
        r.sinks.push_back(std::make_shared<spdlog::sinks::stderr_sink_mt>());
    } else {
        r.sinks.push_back(std::make_shared<spdlog::sinks::basic_file_sink_mt>(options.file));
    }
    r.level = level;
    r.pattern = options.format == log_format::json
                    ? R"({"ts":"%Y-%m-%dT%H:%M:%S.%e%z","level":"%l","area":"%n","msg":"%j"})"
                    : "%Y-%m-%dT%H:%M:%S.%e%z %^%l%$ [%n] %v";
    spdlog::apply_all([&](const std::shared_ptr<spdlog::logger>& l) {
        l->sinks() = r.sinks;
        l->set_level(level);
        l->set_formatter(make_formatter(r.pattern));
    });
}

std::shared_ptr<spdlog::logger> logger(std::string_view area) {
    const std::string name(area);
    if (auto existing = spdlog::get(name)) {
        return existing;
    }
    auto& r = reg();
    std::lock_guard lock(r.mutex);
    if (auto existing = spdlog::get(name)) {
        return existing;
    }
    if (r.sinks.empty()) {
        r.sinks.push_back(std::make_shared<spdlog::sinks::stderr_sink_mt>());
    }
    auto l = std::make_shared<spdlog::logger>(name, r.sinks.begin(), r.sinks.end());
    l->set_level(r.level);
    l->set_formatter(make_formatter(r.pattern));
    spdlog::register_logger(l);
    return l;
}

}  // namespace tollgate::common
