#pragma once
// The configuration of `tollgate serve`: one TOML document (docs/configuration.md lists every key
// with its default), or the embedded default when no file is given.
//
// Loading is strict. Every key must be known and every value must have the right type and lie in
// its range; otherwise loading fails with a config_error naming the key path
// ("mqtt.listeners[0].port") and the problem. Nothing falls back silently to a default.
//
// Thread-safety: the functions are pure (apart from reading the file); the structs are plain
// values.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <tollgate/broker/config.hpp>
#include <tollgate/common/log.hpp>
#include <tollgate/oauth/config.hpp>

#include "auth_wiring.hpp"

namespace tollgate::app {

enum class listener_type { tcp, tls, ws, wss };
enum class client_cert_mode { none, request, require };

[[nodiscard]] std::string_view to_string(listener_type type) noexcept;
[[nodiscard]] std::string_view to_string(client_cert_mode mode) noexcept;

/// One [[mqtt.listeners]] entry.
struct listener_settings {
    std::string name = "mqtt";
    listener_type type = listener_type::tcp;
    std::string address = "127.0.0.1";
    std::uint16_t port = 1883;   ///< 0: an ephemeral port (the ready file tells which)
    std::string path = "/mqtt";  ///< ws and wss only
    std::string cert_file;       ///< tls and wss: PEM server certificate chain
    std::string key_file;        ///< tls and wss: PEM private key
    std::string ca_file;         ///< tls and wss: PEM CAs that verify client certificates
    client_cert_mode client_certificates = client_cert_mode::none;
    std::uint32_t max_connections = 10000;
    std::chrono::milliseconds handshake_timeout{10000};  ///< TLS and WebSocket handshakes
    std::string tls_min_version = "1.2";                 ///< tls and wss: "1.2" or "1.3"
};

struct mqtt_settings {
    /// Whether clients may connect without credentials. true for now: no token authentication
    /// exists yet. Its default becomes false once token authentication lands.
    bool allow_anonymous = true;
    std::vector<listener_settings> listeners{listener_settings{}};
    /// [mqtt.limits] and [mqtt.features]: every limit and switch of the broker, with the broker's
    /// own defaults (allow_anonymous above is copied into it by the app).
    broker::broker_config broker;
};

struct server_settings {
    std::uint32_t threads = 0;  ///< I/O and broker worker threads; 0: one per core
    std::string data_dir = "./tollgate-data";
    std::chrono::milliseconds shutdown_timeout{5000};  ///< graceful shutdown deadline
};

/// [oauth]: the built-in authorization server. Its data directory is server.data_dir.
struct oauth_settings {
    bool enabled = true;
    oauth::server_config server;
};

struct config {
    server_settings server;
    common::log_options log;
    mqtt_settings mqtt;
    oauth_settings oauth;
    auth_settings auth;
};

/// A configuration that cannot be used. what() is "<key path>: <problem>" (or "<file>: <problem>"
/// for syntax errors), suitable after a "config error: " prefix.
class config_error : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

/// The embedded default configuration (its TOML text, as documented).
[[nodiscard]] std::string_view default_config_text() noexcept;

/// Parses and validates TOML text. `source` names it in syntax errors. Throws config_error.
[[nodiscard]] config parse_config(std::string_view toml_text, std::string_view source = "<config>");

/// Reads and parses a file. Throws config_error (unreadable file, syntax, unknown key, bad value).
[[nodiscard]] config load_config_file(const std::filesystem::path& file);

/// Checks constraints that span several keys (duplicate listener names, missing certificate for
/// a TLS listener, ...). parse_config calls it; call it again after applying command-line
/// overrides. Throws config_error.
void validate(const config& cfg);

/// Parses a duration: an integer number of seconds, or a string "<n>ms", "<n>s", "<n>m", "<n>h".
/// False if malformed or negative.
bool parse_duration(std::string_view text, std::chrono::milliseconds& out);

}  // namespace tollgate::app
