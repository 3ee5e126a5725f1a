#include "config.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <array>
#include <charconv>
#include <fstream>
#include <set>
#include <sstream>
#include <system_error>

#include "config_oauth.hpp"
#include "config_reader.hpp"

namespace tollgate::app {
namespace {

using detail::fail;
using detail::table_reader;
using std::chrono::milliseconds;

constexpr std::string_view embedded_default =
    R"(# tollgate's embedded default configuration (docs/configuration.md).
[server]
threads = 0
data_dir = "./tollgate-data"

[log]
level = "info"
format = "text"

[mqtt]
allow_anonymous = false

[[mqtt.listeners]]
name = "mqtt"
type = "tcp"
address = "127.0.0.1"
port = 1883

[oauth]
enabled = true
issuer = "http://127.0.0.1:8080"
address = "127.0.0.1"
port = 8080

[auth]
enabled = true
builtin_issuer = true
)";

constexpr std::array<std::pair<std::string_view, listener_type>, 4> listener_types{{
    {"tcp", listener_type::tcp},
    {"tls", listener_type::tls},
    {"ws", listener_type::ws},
    {"wss", listener_type::wss},
}};
constexpr std::array<std::pair<std::string_view, client_cert_mode>, 3> cert_modes{{
    {"none", client_cert_mode::none},
    {"request", client_cert_mode::request},
    {"require", client_cert_mode::require},
}};
constexpr std::array<std::pair<std::string_view, std::string_view>, 2> tls_versions{{
    {"1.2", "1.2"},
    {"1.3", "1.3"},
}};
constexpr std::array<std::pair<std::string_view, common::log_format>, 2> log_formats{{
    {"text", common::log_format::text},
    {"json", common::log_format::json},
}};

bool is_tls(listener_type type) {
    return type == listener_type::tls || type == listener_type::wss;
}
bool is_websocket(listener_type type) {
    return type == listener_type::ws || type == listener_type::wss;
}

std::uint16_t default_port(listener_type type) {
    switch (type) {
        case listener_type::tcp:
            return 1883;
        case listener_type::tls:
            return 8883;
        case listener_type::ws:
            return 8083;
        case listener_type::wss:
            return 8084;
    }
    return 1883;
}

void read_server(table_reader& r, server_settings& out) {
    r.integer("threads", out.threads, 0, 1024);
    r.string("data_dir", out.data_dir);
    r.duration("shutdown_timeout", out.shutdown_timeout, milliseconds(100), milliseconds(600'000));
    r.finish();
}

void read_log(table_reader& r, common::log_options& out) {
    r.string("level", out.level);
    spdlog::level::level_enum level{};
    if (!common::parse_log_level(out.level, level)) {
        fail(r.path_of("level"),
             "must be one of trace, debug, info, warn, error, critical, off (got \"" + out.level + "\")");
    }
    r.choice<common::log_format>("format", out.format, log_formats);
    r.string("file", out.file, false);
    r.finish();
}

listener_settings read_listener(table_reader& r) {
    listener_settings out;
    std::string_view min_version = "1.2";
    r.choice<listener_type>("type", out.type, listener_types);
    out.name = std::string(to_string(out.type));
    out.port = default_port(out.type);
    r.string("name", out.name);
    r.string("address", out.address);
    r.integer("port", out.port, 0, 65535);
    const bool tls = is_tls(out.type);
    const bool ws = is_websocket(out.type);
    const auto only_for = [&](std::string_view key, bool allowed, std::string_view which) {
        if (r.has(key) && !allowed) {
            fail(r.path_of(key), "only allowed for " + std::string(which) +
                                     " listeners (this one is type \"" + std::string(to_string(out.type)) +
                                     "\")");
        }
    };
    only_for("path", ws, "ws and wss");
    only_for("cert_file", tls, "tls and wss");
    only_for("key_file", tls, "tls and wss");
    only_for("ca_file", tls, "tls and wss");
    only_for("client_certificates", tls, "tls and wss");
    r.string("path", out.path);
    r.string("cert_file", out.cert_file);
    r.string("key_file", out.key_file);
    r.string("ca_file", out.ca_file);
    r.choice<client_cert_mode>("client_certificates", out.client_certificates, cert_modes);
    r.integer("max_connections", out.max_connections, 1, 10'000'000);
    r.duration("handshake_timeout", out.handshake_timeout, milliseconds(100), milliseconds(300'000));
    only_for("tls_min_version", tls, "tls and wss");
    r.choice<std::string_view>("tls_min_version", min_version, tls_versions);
    out.tls_min_version = std::string(min_version);
    r.finish();
    return out;
}

void read_limits(table_reader& r, broker::broker_config& out) {
    r.integer("max_packet_size", out.max_packet_size, 16, 268'435'455);
    r.integer("max_packet_size_before_connect", out.max_packet_size_before_connect, 16, 268'435'455);
    r.integer("receive_maximum", out.receive_maximum, 1, 65535);
    r.integer("max_inflight", out.max_inflight_out, 1, 65535);
    r.integer("max_queued_messages", out.max_queued_messages, 1, 10'000'000);
    r.integer("max_queued_bytes", out.max_queued_bytes, 1024, std::int64_t{1} << 40);
    r.integer("max_topic_levels", out.max_topic_levels, 1, 65535);
    r.integer("max_subscriptions_per_session", out.max_subscriptions_per_session, 1, 10'000'000);
    r.seconds("connect_timeout", out.connect_timeout, std::chrono::seconds(1), std::chrono::seconds(3600));
    r.integer("max_keep_alive", out.max_keepalive, 1, 65535);
    r.integer("topic_alias_maximum", out.topic_alias_maximum, 0, 65535);
    // [MQTT-3.1.3-5]: a server must allow client identifiers of 1 to 23 characters.
    r.integer("max_client_id_length", out.max_client_id_length, 23, 65535);
    r.integer("max_session_expiry", out.max_session_expiry, 0, 4'294'967'295);
    r.integer("max_user_properties", out.max_user_properties, 0, 65535);
    r.integer("max_user_property_bytes", out.max_user_property_bytes, 0, 268'435'455);
    r.seconds("awaiting_pubrel_timeout", out.awaiting_pubrel_timeout, std::chrono::seconds(1),
              std::chrono::seconds(86400));
    r.integer("maximum_qos", out.maximum_qos, 0, 2);
    r.finish();
    if (!r.has("max_packet_size_before_connect")) {
        // The default (64 KiB) follows a smaller max_packet_size down.
        out.max_packet_size_before_connect =
            std::min(out.max_packet_size_before_connect, out.max_packet_size);
    } else if (out.max_packet_size_before_connect > out.max_packet_size) {
        fail(r.path_of("max_packet_size_before_connect"),
             "must not exceed max_packet_size (" + std::to_string(out.max_packet_size) + ")");
    }
}

void read_features(table_reader& r, broker::broker_config& out) {
    r.boolean("retain", out.retain_available);
    r.boolean("wildcard_subscriptions", out.wildcard_subscription_available);
    r.boolean("shared_subscriptions", out.shared_subscription_available);
    r.boolean("subscription_identifiers", out.subscription_identifier_available);
    r.boolean("assign_client_ids", out.assign_client_ids);
    r.finish();
}

void read_mqtt(table_reader& r, mqtt_settings& out) {
    r.boolean("allow_anonymous", out.allow_anonymous);
    // Token lifetime and 3.1.1 authorization policies (owner: sessions; docs/auth.md "Session lifetime").
    using publish_policy = broker::broker_config::unauthorized_publish_policy;
    static constexpr std::pair<std::string_view, publish_policy> publish_policies[] = {
        {"drop", publish_policy::drop}, {"disconnect", publish_policy::disconnect}};
    r.boolean("token_expiry_publishes_will", out.broker.token_expiry_publishes_will);
    r.integer("token_expiry_session_expiry", out.broker.token_expiry_session_expiry, 0, 4'294'967'295);
    r.choice<publish_policy>("v311_unauthorized_publish", out.broker.v311_unauthorized_publish,
                             publish_policies);
    if (const toml::array* listeners = r.table_array("listeners")) {
        out.listeners.clear();
        for (std::size_t i = 0; i < listeners->size(); ++i) {
            const std::string path = r.path_of("listeners") + "[" + std::to_string(i) + "]";
            const toml::table* t = (*listeners)[i].as_table();
            if (t == nullptr) {
                fail(path, "must be a table (got " + std::string(detail::describe((*listeners)[i])) + ")");
            }
            table_reader lr(*t, path);
            out.listeners.push_back(read_listener(lr));
        }
    }
    if (const toml::table* limits = r.table("limits")) {
        table_reader lr(*limits, r.path_of("limits"));
        read_limits(lr, out.broker);
    }
    if (const toml::table* features = r.table("features")) {
        table_reader fr(*features, r.path_of("features"));
        read_features(fr, out.broker);
    }
    r.finish();
}

void check_readable(const std::string& path, const std::string& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
        fail(path, "cannot read \"" + file + "\"");
    }
}

void validate_listener(const listener_settings& l, const std::string& path) {
    std::array<unsigned char, 16> addr{};
    if (inet_pton(AF_INET, l.address.c_str(), addr.data()) != 1 &&
        inet_pton(AF_INET6, l.address.c_str(), addr.data()) != 1) {
        fail(path + ".address",
             "must be an IPv4 or IPv6 address such as \"127.0.0.1\", \"0.0.0.0\" or \"::\" (got \"" +
                 l.address + "\")");
    }
    if (is_websocket(l.type) && (l.path.empty() || l.path.front() != '/')) {
        fail(path + ".path", "must start with '/' (got \"" + l.path + "\")");
    }
    if (is_tls(l.type)) {
        if (l.cert_file.empty()) {
            fail(path + ".cert_file", "is required for a " + std::string(to_string(l.type)) + " listener");
        }
        if (l.key_file.empty()) {
            fail(path + ".key_file", "is required for a " + std::string(to_string(l.type)) + " listener");
        }
        check_readable(path + ".cert_file", l.cert_file);
        check_readable(path + ".key_file", l.key_file);
        if (l.client_certificates != client_cert_mode::none && l.ca_file.empty()) {
            fail(path + ".ca_file", "is required when client_certificates = \"" +
                                        std::string(to_string(l.client_certificates)) + "\"");
        }
        if (l.client_certificates == client_cert_mode::none && !l.ca_file.empty()) {
            fail(path + ".ca_file",
                 "is only used to verify client certificates; set client_certificates to "
                 "\"request\" or \"require\", or remove ca_file");
        }
        if (!l.ca_file.empty()) {
            check_readable(path + ".ca_file", l.ca_file);
        }
    }
}

}  // namespace

std::string_view to_string(listener_type type) noexcept {
    for (const auto& [name, value] : listener_types) {
        if (value == type) {
            return name;
        }
    }
    return "tcp";
}

std::string_view to_string(client_cert_mode mode) noexcept {
    for (const auto& [name, value] : cert_modes) {
        if (value == mode) {
            return name;
        }
    }
    return "none";
}

std::string_view default_config_text() noexcept {
    return embedded_default;
}

bool parse_duration(std::string_view text, milliseconds& out) {
    std::uint64_t number = 0;
    const auto* const end = text.data() + text.size();
    const auto [rest, ec] = std::from_chars(text.data(), end, number);
    if (ec != std::errc{} || rest == text.data() || number > 100'000'000'000ULL) {
        return false;
    }
    const std::string_view unit(rest, static_cast<std::size_t>(end - rest));
    const auto n = static_cast<std::int64_t>(number);
    if (unit == "ms") {
        out = milliseconds(n);
    } else if (unit == "s") {
        out = std::chrono::seconds(n);
    } else if (unit == "m") {
        out = std::chrono::minutes(n);
    } else if (unit == "h") {
        out = std::chrono::hours(n);
    } else {
        return false;
    }
    return true;
}

void validate(const config& cfg) {
    if (cfg.mqtt.listeners.empty()) {
        fail("mqtt.listeners", "at least one listener is required");
    }
    std::set<std::string> names;
    for (std::size_t i = 0; i < cfg.mqtt.listeners.size(); ++i) {
        const auto& l = cfg.mqtt.listeners[i];
        const std::string path = "mqtt.listeners[" + std::to_string(i) + "]";
        if (!names.insert(l.name).second) {
            fail(path + ".name",
                 "duplicate listener name \"" + l.name + "\" (every listener needs its own name)");
        }
        validate_listener(l, path);
    }
    spdlog::level::level_enum level{};
    if (!common::parse_log_level(cfg.log.level, level)) {
        fail("log.level",
             "must be one of trace, debug, info, warn, error, critical, off (got \"" + cfg.log.level + "\")");
    }
    if (cfg.server.data_dir.empty()) {
        fail("server.data_dir", "must not be empty");
    }
    detail::validate_oauth(cfg.oauth);
}

config parse_config(std::string_view toml_text, std::string_view source) {
    toml::table root;
    try {
        root = toml::parse(toml_text, source);
    } catch (const toml::parse_error& e) {
        const auto& where = e.source().begin;
        throw config_error(std::string(source) + ":" + std::to_string(where.line) + ":" +
                           std::to_string(where.column) + ": invalid TOML: " + std::string(e.description()));
    }
    config cfg;
    table_reader top(root, "");
    if (const toml::table* t = top.table("server")) {
        table_reader r(*t, "server");
        read_server(r, cfg.server);
    }
    if (const toml::table* t = top.table("log")) {
        table_reader r(*t, "log");
        read_log(r, cfg.log);
    }
    if (const toml::table* t = top.table("mqtt")) {
        table_reader r(*t, "mqtt");
        read_mqtt(r, cfg.mqtt);
    }
    if (const toml::table* t = top.table("oauth")) {
        table_reader r(*t, "oauth");
        detail::read_oauth(r, cfg.oauth);
    }
    if (const toml::table* t = top.table("auth")) {
        cfg.auth = parse_auth_settings(*t, "auth");
    }
    top.finish();
    validate(cfg);
    return cfg;
}

config load_config_file(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
        throw config_error(file.string() + ": cannot read the configuration file");
    }
    std::ostringstream text;
    text << in.rdbuf();
    if (in.bad()) {
        throw config_error(file.string() + ": error while reading the configuration file");
    }
    return parse_config(text.str(), file.string());
}

}  // namespace tollgate::app
