// Unit tests of the `tollgate serve` configuration loader (apps/tollgate/config.cpp): the embedded
// default, every section, and that every bad key or value is an error naming its key path.
#include "config.hpp"

#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

namespace tollgate::app {
namespace {

using std::chrono::milliseconds;

// The message of the config_error thrown by parse_config, or "" if none was thrown.
std::string error_of(std::string_view text) {
    try {
        (void)parse_config(text, "test.toml");
    } catch (const config_error& e) {
        return e.what();
    }
    return "";
}

// DESIGN.md: the embedded default is secure: token authentication against the built-in
// authorization server (HTTP on 127.0.0.1:8080), anonymous access off.
TEST(AppConfigTest, EmbeddedDefaultIsTcpOnLoopback1883) {
    const config cfg = parse_config(default_config_text(), "<default>");
    ASSERT_EQ(cfg.mqtt.listeners.size(), 1U);
    const auto& l = cfg.mqtt.listeners[0];
    EXPECT_EQ(l.name, "mqtt");
    EXPECT_EQ(l.type, listener_type::tcp);
    EXPECT_EQ(l.address, "127.0.0.1");
    EXPECT_EQ(l.port, 1883);
    EXPECT_FALSE(cfg.mqtt.allow_anonymous);
    EXPECT_TRUE(cfg.auth.enabled);
    EXPECT_TRUE(cfg.auth.builtin_issuer);
    EXPECT_TRUE(cfg.oauth.enabled);
    EXPECT_EQ(cfg.oauth.server.listen_address, "127.0.0.1");
    EXPECT_EQ(cfg.oauth.server.port, 8080);
    EXPECT_EQ(cfg.server.threads, 0U);
    EXPECT_EQ(cfg.server.data_dir, "./tollgate-data");
    EXPECT_EQ(cfg.log.level, "info");
}

TEST(AppConfigTest, EmptyDocumentGivesTheSameDefaults) {
    const config cfg = parse_config("", "empty.toml");
    ASSERT_EQ(cfg.mqtt.listeners.size(), 1U);
    EXPECT_EQ(cfg.mqtt.listeners[0].port, 1883);
    EXPECT_EQ(cfg.mqtt.broker.max_packet_size, broker::broker_config{}.max_packet_size);
    EXPECT_EQ(cfg.mqtt.broker.receive_maximum, broker::broker_config{}.receive_maximum);
}

TEST(AppConfigTest, ReadsEverySection) {
    const config cfg = parse_config(R"(
[server]
threads = 3
data_dir = "/var/lib/tollgate"
shutdown_timeout = "2s"
[log]
level = "debug"
format = "json"
file = "/tmp/x.log"
[mqtt]
allow_anonymous = false
[[mqtt.listeners]]
name = "plain"
port = 0
[[mqtt.listeners]]
name = "web"
type = "ws"
address = "::"
path = "/broker"
max_connections = 5
handshake_timeout = "1500ms"
[mqtt.limits]
max_packet_size = 4096
max_packet_size_before_connect = 1024
receive_maximum = 10
max_inflight = 20
max_queued_messages = 30
max_queued_bytes = 2048
max_topic_levels = 8
max_subscriptions_per_session = 40
connect_timeout = 3
max_keep_alive = 120
topic_alias_maximum = 0
max_client_id_length = 64
max_session_expiry = 60
max_user_properties = 5
max_user_property_bytes = 500
awaiting_pubrel_timeout = "2m"
maximum_qos = 1
[mqtt.features]
retain = false
wildcard_subscriptions = false
shared_subscriptions = false
subscription_identifiers = false
assign_client_ids = false
)");
    EXPECT_EQ(cfg.server.threads, 3U);
    EXPECT_EQ(cfg.server.data_dir, "/var/lib/tollgate");
    EXPECT_EQ(cfg.server.shutdown_timeout, milliseconds(2000));
    EXPECT_EQ(cfg.log.level, "debug");
    EXPECT_EQ(cfg.log.format, common::log_format::json);
    EXPECT_EQ(cfg.log.file, "/tmp/x.log");
    EXPECT_FALSE(cfg.mqtt.allow_anonymous);
    ASSERT_EQ(cfg.mqtt.listeners.size(), 2U);
    EXPECT_EQ(cfg.mqtt.listeners[0].name, "plain");
    EXPECT_EQ(cfg.mqtt.listeners[0].port, 0);
    const auto& ws = cfg.mqtt.listeners[1];
    EXPECT_EQ(ws.type, listener_type::ws);
    EXPECT_EQ(ws.address, "::");
    EXPECT_EQ(ws.path, "/broker");
    EXPECT_EQ(ws.max_connections, 5U);
    EXPECT_EQ(ws.handshake_timeout, milliseconds(1500));
    const auto& lim = cfg.mqtt.broker;
    EXPECT_EQ(lim.max_packet_size, 4096U);
    EXPECT_EQ(lim.max_packet_size_before_connect, 1024U);
    EXPECT_EQ(lim.receive_maximum, 10);
    EXPECT_EQ(lim.max_inflight_out, 20);
    EXPECT_EQ(lim.max_queued_messages, 30U);
    EXPECT_EQ(lim.max_queued_bytes, 2048U);
    EXPECT_EQ(lim.max_topic_levels, 8U);
    EXPECT_EQ(lim.max_subscriptions_per_session, 40U);
    EXPECT_EQ(lim.connect_timeout, std::chrono::seconds(3));
    EXPECT_EQ(lim.max_keepalive, 120);
    EXPECT_EQ(lim.topic_alias_maximum, 0);
    EXPECT_EQ(lim.max_client_id_length, 64U);
    EXPECT_EQ(lim.max_session_expiry, 60U);
    EXPECT_EQ(lim.max_user_properties, 5U);
    EXPECT_EQ(lim.max_user_property_bytes, 500U);
    EXPECT_EQ(lim.awaiting_pubrel_timeout, std::chrono::seconds(120));
    EXPECT_EQ(lim.maximum_qos, 1);
    EXPECT_FALSE(lim.retain_available);
    EXPECT_FALSE(lim.wildcard_subscription_available);
    EXPECT_FALSE(lim.shared_subscription_available);
    EXPECT_FALSE(lim.subscription_identifier_available);
    EXPECT_FALSE(lim.assign_client_ids);
}

TEST(AppConfigTest, PreConnectPacketLimitFollowsASmallerMaxPacketSize) {
    EXPECT_EQ(
        parse_config("[mqtt.limits]\nmax_packet_size = 4096\n").mqtt.broker.max_packet_size_before_connect,
        4096U);
    EXPECT_EQ(
        parse_config("[mqtt.limits]\nmax_packet_size = 200000\n").mqtt.broker.max_packet_size_before_connect,
        broker::broker_config{}.max_packet_size_before_connect);
    EXPECT_EQ(parse_config("[mqtt.limits]\nmax_packet_size = 4096\nmax_packet_size_before_connect = 100\n")
                  .mqtt.broker.max_packet_size_before_connect,
              100U);
}

TEST(AppConfigTest, ListenerDefaultsDependOnType) {
    const config cfg = parse_config(R"(
[[mqtt.listeners]]
type = "ws"
[[mqtt.listeners]]
type = "tcp"
)");
    ASSERT_EQ(cfg.mqtt.listeners.size(), 2U);
    EXPECT_EQ(cfg.mqtt.listeners[0].name, "ws");
    EXPECT_EQ(cfg.mqtt.listeners[0].port, 8083);
    EXPECT_EQ(cfg.mqtt.listeners[0].path, "/mqtt");
    EXPECT_EQ(cfg.mqtt.listeners[1].name, "tcp");
    EXPECT_EQ(cfg.mqtt.listeners[1].port, 1883);
}

TEST(AppConfigTest, OutOfRangeNamesTheKeyAndTheRange) {
    EXPECT_EQ(error_of("[mqtt.limits]\nmax_packet_size = 0\n"),
              "mqtt.limits.max_packet_size: must be between 16 and 268435455 (got 0)");
    EXPECT_EQ(error_of("[mqtt.limits]\nmax_packet_size = 268435456\n"),
              "mqtt.limits.max_packet_size: must be between 16 and 268435455 (got 268435456)");
    EXPECT_EQ(error_of("[[mqtt.listeners]]\nport = 65536\n"),
              "mqtt.listeners[0].port: must be between 0 and 65535 (got 65536)");
    EXPECT_EQ(error_of("[server]\nthreads = -1\n"), "server.threads: must be between 0 and 1024 (got -1)");
    EXPECT_EQ(error_of("[mqtt.limits]\nmaximum_qos = 3\n"),
              "mqtt.limits.maximum_qos: must be between 0 and 2 (got 3)");
    EXPECT_EQ(error_of("[mqtt.limits]\nmax_client_id_length = 22\n"),
              "mqtt.limits.max_client_id_length: must be between 23 and 65535 (got 22)");
}

TEST(AppConfigTest, WrongTypeNamesTheKey) {
    EXPECT_EQ(error_of("[server]\nthreads = \"4\"\n"), "server.threads: must be an integer (got a string)");
    EXPECT_EQ(error_of("[server]\nthreads = 1.5\n"), "server.threads: must be an integer (got a float)");
    EXPECT_EQ(error_of("[mqtt]\nallow_anonymous = \"yes\"\n"),
              "mqtt.allow_anonymous: must be true or false (got a string)");
    EXPECT_EQ(error_of("mqtt = 3\n"), "mqtt: must be a table (got an integer)");
    EXPECT_EQ(error_of("[mqtt]\nlisteners = 1\n"),
              "mqtt.listeners: must be an array of tables, written [[mqtt.listeners]] (got an integer)");
    EXPECT_EQ(error_of("[mqtt]\nlisteners = [1]\n"), "mqtt.listeners[0]: must be a table (got an integer)");
    EXPECT_EQ(error_of("[log]\nfile = 3\n"), "log.file: must be a string (got an integer)");
}

TEST(AppConfigTest, BadEnumListsTheChoices) {
    EXPECT_EQ(error_of("[[mqtt.listeners]]\ntype = \"udp\"\n"),
              "mqtt.listeners[0].type: must be one of tcp, tls, ws, wss (got \"udp\")");
    EXPECT_EQ(error_of("[log]\nformat = \"xml\"\n"), "log.format: must be one of text, json (got \"xml\")");
    EXPECT_EQ(error_of("[log]\nlevel = \"loud\"\n"),
              "log.level: must be one of trace, debug, info, warn, error, critical, off (got \"loud\")");
}

TEST(AppConfigTest, UnknownKeysAnywhereAreErrors) {
    EXPECT_EQ(error_of("colour = 1\n"), "colour: unknown key");
    EXPECT_EQ(error_of("[sever]\nthreads = 1\n"), "sever: unknown key (did you mean server?)");
    EXPECT_EQ(error_of("[mqtt.limits]\nmax_pakcet_size = 100\n"),
              "mqtt.limits.max_pakcet_size: unknown key (did you mean max_packet_size?)");
    EXPECT_EQ(error_of("[mqtt.limts]\nmax_packet_size = 100\n"),
              "mqtt.limts: unknown key (did you mean limits?)");
    EXPECT_EQ(error_of("[[mqtt.listeners]]\nprot = 1\n"),
              "mqtt.listeners[0].prot: unknown key (did you mean port?)");
    EXPECT_EQ(error_of("[[mqtt.listeners]]\n[[mqtt.listeners]]\nname = \"b\"\nbogus = true\n"),
              "mqtt.listeners[1].bogus: unknown key");
    EXPECT_EQ(error_of("[log]\nlevel = \"info\"\n[log.extra]\na = 1\n"), "log.extra: unknown key");
    EXPECT_EQ(error_of("[mqtt.features]\nretain_available = true\n"),
              "mqtt.features.retain_available: unknown key");
    EXPECT_EQ(error_of("[mqtt.limits]\nmax_packet_size = 100\nmax_packet_size_before_connect = 200\n"),
              "mqtt.limits.max_packet_size_before_connect: must not exceed max_packet_size (100)");
    EXPECT_EQ(error_of("[[mqtt.listeners]]\ntls_min_version = \"1.3\"\n"),
              "mqtt.listeners[0].tls_min_version: only allowed for tls and wss listeners (this one is type "
              "\"tcp\")");
}

TEST(AppConfigTest, DurationsTakeUnitsOrSeconds) {
    milliseconds d{};
    EXPECT_TRUE(parse_duration("250ms", d));
    EXPECT_EQ(d, milliseconds(250));
    EXPECT_TRUE(parse_duration("10s", d));
    EXPECT_EQ(d, milliseconds(10000));
    EXPECT_TRUE(parse_duration("2m", d));
    EXPECT_EQ(d, milliseconds(120000));
    EXPECT_TRUE(parse_duration("1h", d));
    EXPECT_EQ(d, milliseconds(3600000));
    EXPECT_FALSE(parse_duration("10", d));
    EXPECT_FALSE(parse_duration("s", d));
    EXPECT_FALSE(parse_duration("-1s", d));
    EXPECT_FALSE(parse_duration("10 s", d));
    EXPECT_FALSE(parse_duration("1d", d));
    EXPECT_EQ(
        error_of("[mqtt.limits]\nconnect_timeout = \"soon\"\n"),
        "mqtt.limits.connect_timeout: must be a duration such as \"10s\", \"250ms\", \"5m\" or a number of "
        "seconds (got \"soon\")");
    EXPECT_EQ(error_of("[mqtt.limits]\nconnect_timeout = \"5ms\"\n"),
              "mqtt.limits.connect_timeout: must be between 1000ms and 3600000ms (got \"5ms\")");
    EXPECT_EQ(
        error_of("[mqtt.limits]\nconnect_timeout = -3\n"),
        "mqtt.limits.connect_timeout: must be a duration such as \"10s\", \"250ms\", \"5m\" or a number of "
        "seconds (got -3)");
}

TEST(AppConfigTest, ListenerConsistencyIsChecked) {
    EXPECT_EQ(error_of("[mqtt]\nlisteners = []\n"), "mqtt.listeners: at least one listener is required");
    EXPECT_EQ(error_of("[[mqtt.listeners]]\nport = 1\n[[mqtt.listeners]]\nport = 2\n"),
              "mqtt.listeners[1].name: duplicate listener name \"tcp\" (every listener needs its own name)");
    EXPECT_EQ(error_of("[[mqtt.listeners]]\npath = \"/x\"\n"),
              "mqtt.listeners[0].path: only allowed for ws and wss listeners (this one is type \"tcp\")");
    EXPECT_EQ(
        error_of("[[mqtt.listeners]]\ncert_file = \"a.pem\"\n"),
        "mqtt.listeners[0].cert_file: only allowed for tls and wss listeners (this one is type \"tcp\")");
    EXPECT_EQ(error_of("[[mqtt.listeners]]\ntype = \"tls\"\n"),
              "mqtt.listeners[0].cert_file: is required for a tls listener");
    EXPECT_EQ(error_of("[[mqtt.listeners]]\ntype = \"ws\"\npath = \"mqtt\"\n"),
              "mqtt.listeners[0].path: must start with '/' (got \"mqtt\")");
    EXPECT_EQ(
        error_of("[[mqtt.listeners]]\naddress = \"example.com\"\n"),
        "mqtt.listeners[0].address: must be an IPv4 or IPv6 address such as \"127.0.0.1\", \"0.0.0.0\" or "
        "\"::\" (got \"example.com\")");
    EXPECT_EQ(
        error_of(
            "[[mqtt.listeners]]\ntype = \"wss\"\ncert_file = \"/nonexistent/c.pem\"\nkey_file = \"k\"\n"),
        "mqtt.listeners[0].cert_file: cannot read \"/nonexistent/c.pem\"");
}

TEST(AppConfigTest, ClientCertificatesNeedACa) {
    const auto dir = std::filesystem::temp_directory_path() / "tollgate_config_test";
    std::filesystem::create_directories(dir);
    const auto pem = (dir / "x.pem").string();
    std::ofstream(pem) << "not checked here\n";
    const std::string base =
        "[[mqtt.listeners]]\ntype = \"tls\"\ncert_file = \"" + pem + "\"\nkey_file = \"" + pem + "\"\n";
    EXPECT_EQ(error_of(base), "");
    EXPECT_EQ(error_of(base + "client_certificates = \"require\"\n"),
              "mqtt.listeners[0].ca_file: is required when client_certificates = \"require\"");
    EXPECT_EQ(
        error_of(base + "ca_file = \"" + pem + "\"\n"),
        "mqtt.listeners[0].ca_file: is only used to verify client certificates; set client_certificates to "
        "\"request\" or \"require\", or remove ca_file");
    EXPECT_EQ(
        error_of(base + "client_certificates = \"sometimes\"\n"),
        "mqtt.listeners[0].client_certificates: must be one of none, request, require (got \"sometimes\")");
    const config cfg = parse_config(base + "client_certificates = \"request\"\nca_file = \"" + pem + "\"\n");
    EXPECT_EQ(cfg.mqtt.listeners[0].client_certificates, client_cert_mode::request);
    EXPECT_EQ(cfg.mqtt.listeners[0].port, 8883);
    std::filesystem::remove_all(dir);
}

TEST(AppConfigTest, SyntaxErrorsGiveLineAndColumn) {
    const std::string e = error_of("[server\nthreads = 1\n");
    EXPECT_EQ(e.rfind("test.toml:1:", 0), 0U) << e;
    EXPECT_NE(e.find("invalid TOML"), std::string::npos) << e;
}

TEST(AppConfigTest, MissingFileIsAnError) {
    EXPECT_THROW((void)load_config_file("/nonexistent/tollgate.toml"), config_error);
}

}  // namespace
}  // namespace tollgate::app
