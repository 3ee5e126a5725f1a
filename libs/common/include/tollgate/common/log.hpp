#pragma once
// Logging through spdlog. One logger per area ("mqtt", "broker", "net", "auth", "oauth", "audit").
// Never log a secret: tokens, passwords, client secrets and keys go through secret_fingerprint().
#include <memory>
#include <string>
#include <string_view>

#include <spdlog/spdlog.h>

namespace tollgate::common {

enum class log_format { text, json };

struct log_options {
    std::string level = "info";  ///< trace, debug, info, warn, error, critical, off
    log_format format = log_format::text;
    std::string file;  ///< empty: stderr
};

/// Configures every logger. Throws std::invalid_argument naming a bad level.
void configure_logging(const log_options& options);

/// The logger for an area, created on first use with the configured sinks.
std::shared_ptr<spdlog::logger> logger(std::string_view area);

/// Parses a level name; false if unknown.
bool parse_log_level(std::string_view name, spdlog::level::level_enum& out);

}  // namespace tollgate::common
