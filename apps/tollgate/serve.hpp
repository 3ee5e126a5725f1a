#pragma once
// `tollgate serve`: loads the configuration, starts the listeners and the broker, runs until
// SIGINT/SIGTERM, then shuts down gracefully.
#include <filesystem>
#include <optional>
#include <string>

namespace tollgate::app {

/// Process exit codes of `tollgate serve` (docs/configuration.md).
enum class exit_code : int {
    ok = 0,  ///< ran and shut down on SIGTERM/SIGINT (connections still open at the deadline are dropped)
    failure =
        1,  ///< could not start (bind, TLS material, data dir), or a second signal cut the shutdown short
    config_error = 2,  ///< bad command line or configuration
};

/// Command-line settings of `tollgate serve`; each set one overrides its configuration key.
struct serve_options {
    std::optional<std::filesystem::path> config_file;  ///< none: the embedded default
    std::optional<std::string> data_dir;               ///< server.data_dir
    std::optional<std::string> log_level;              ///< log.level
    std::optional<std::string> log_format;             ///< log.format
    std::optional<std::string> log_file;               ///< log.file
    std::optional<unsigned> threads;                   ///< server.threads
    std::optional<std::filesystem::path> ready_file;   ///< written once every listener is bound
    bool check_only = false;                           ///< validate the configuration and exit
    bool print_config = false;                         ///< print the embedded default and exit
};

/// Runs the server; returns when it has stopped. Errors are reported on stderr (and the log).
[[nodiscard]] exit_code run_serve(const serve_options& options);

}  // namespace tollgate::app
