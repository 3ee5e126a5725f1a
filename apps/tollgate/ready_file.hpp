#pragma once
// The ready file: how scripts and tests learn that tollgate is listening, and on which ports.
// Written once every listener is bound, atomically (a temporary file in the same directory, then
// rename), so a reader never sees a partial file:
//   {"pid":1234,"listeners":[{"name":"mqtt","type":"tcp","address":"127.0.0.1","port":1883}]}
#include <filesystem>
#include <string>
#include <vector>

#include <tollgate/net/transport.hpp>

namespace tollgate::app {

/// The JSON text of the ready file.
[[nodiscard]] std::string ready_json(long pid, const std::vector<net::bound_listener>& listeners);

/// Writes the ready file atomically. Throws std::runtime_error naming the path on failure.
void write_ready_file(const std::filesystem::path& path, const std::string& json);

}  // namespace tollgate::app
