#include <tollgate/common/log.hpp>

#include <mutex>
#include <stdexcept>
#include <vector>

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>

namespace tollgate::common {
namespace {

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
        {"trace", spdlog::level::trace}, {"debug", spdlog::level::debug}, {"info", spdlog::level::info},
        {"warn", spdlog::level::warn},   {"error", spdlog::level::err},   {"critical", spdlog::level::critical},
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
                    ? R"({"ts":"%Y-%m-%dT%H:%M:%S.%e%z","level":"%l","area":"%n","msg":"%v"})"
                    : "%Y-%m-%dT%H:%M:%S.%e%z %^%l%$ [%n] %v";
    spdlog::apply_all([&](const std::shared_ptr<spdlog::logger>& l) {
        l->sinks() = r.sinks;
        l->set_level(level);
        l->set_pattern(r.pattern);
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
    l->set_pattern(r.pattern);
    spdlog::register_logger(l);
    return l;
}

}  // namespace tollgate::common
