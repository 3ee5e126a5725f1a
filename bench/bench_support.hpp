// What the load generators in bench/ (mqtt_load, connect_load, http_load, token_mint) share besides
// the MQTT client connection (mqtt_connection.hpp): reading line files, guarded command-line
// parsing, and the pieces of their one-line JSON reports (latency percentiles, per-code counts,
// string escaping). Benchmark code only: never linked into the libraries. Not thread-safe where it
// takes mutable arguments; the tools report from one thread after their run.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace tollgate::bench {

/// The non-empty lines of `path` (tokens, passwords). Throws std::runtime_error naming `what` and
/// the path when there are none (a missing file reads as empty).
std::vector<std::string> read_lines(const std::string& path, const std::string& what);

/// Runs `parse` and turns an exception from it (std::stoi on a bad number, a missing file) into
/// "<tool>: <message>" on stderr and exit status 2. Returns parse's own status otherwise.
int guarded_parse(const char* tool, const std::function<int()>& parse);

/// The value after option argv[i] (advancing i); throws std::invalid_argument when there is none.
std::string option_value(int argc, char** argv, int& i);

/// Latency percentiles of a run, in µs.
struct latency_summary {
    std::int64_t p50 = 0;
    std::int64_t p90 = 0;
    std::int64_t p99 = 0;
    std::int64_t max = 0;
};
/// Sorts `samples` and reads the percentiles (all 0 for no samples).
latency_summary summarize(std::vector<std::int64_t>& samples);

/// `{"code":count,...}` of a per-code count map, and the sum of the counts in `total`.
std::string counts_json(const std::map<int, std::int64_t>& counts, std::int64_t& total);

/// Text safe inside a JSON string: '"' and '\' escaped, control characters turned into spaces.
std::string json_escape(const std::string& s);

}  // namespace tollgate::bench
