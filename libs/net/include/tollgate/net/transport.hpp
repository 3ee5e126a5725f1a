#pragma once
// Listener configuration and what a protocol handler learns about its peer. Plain data, no Asio.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <tollgate/common/bytes.hpp>

namespace tollgate::net {

/// The layers of a listener: TCP, TLS over TCP, WebSocket over TCP, WebSocket over TLS.
enum class transport_kind { tcp, tls, ws, wss };

/// "tcp", "tls", "ws" or "wss".
std::string_view to_string(transport_kind kind) noexcept;

/// TLS material and policy of a listener. TLS 1.2 and 1.3 only, AEAD cipher suites with forward
/// secrecy, server cipher preference, no renegotiation, no compression.
struct tls_settings {
    std::string cert_file;  ///< PEM certificate chain (leaf first)
    std::string key_file;   ///< PEM private key of the leaf
    std::string ca_file;    ///< PEM trust anchors for client certificates (needed when requesting one)
    /// Ask the client for a certificate. A certificate that is presented must verify against
    /// ca_file, otherwise the handshake fails.
    bool request_client_cert = false;
    /// A client without a certificate fails the handshake (implies request_client_cert).
    bool require_client_cert = false;
    std::string min_version = "1.2";  ///< "1.2" or "1.3"
};

struct listener_config {
    std::string name;  ///< used in errors and logs
    transport_kind kind = transport_kind::tcp;
    std::string address = "127.0.0.1";
    std::uint16_t port = 0;  ///< 0: an ephemeral port (see server::endpoints())
    std::string ws_path = "/mqtt";
    std::optional<tls_settings> tls;  ///< required for tls and wss
    /// Connections of this listener open at once (handshakes included). Connections past it are
    /// accepted and closed at once.
    std::size_t max_connections = 10000;
    /// Time allowed for the TLS handshake and the WebSocket upgrade together.
    std::chrono::milliseconds handshake_timeout{10000};
    /// Largest WebSocket message accepted. Messages are streamed to the handler as they arrive,
    /// so this bounds only the length a peer may declare; the default is MQTT's largest packet.
    std::size_t ws_max_message_size = 268435460;
    /// link::queued_bytes() above this and then back to zero triggers on_drained().
    std::size_t drain_threshold = 64 * 1024;
};

/// Where a connection comes from. Immutable once the handler factory is called.
struct peer_info {
    transport_kind kind = transport_kind::tcp;
    std::string listener;  ///< listener_config::name
    std::string remote_address;
    std::uint16_t remote_port = 0;
    /// The client certificate (DER) when one was presented and verified against ca_file.
    std::optional<common::shared_bytes> client_certificate_der;
    /// Its subject in RFC 2253 form, e.g. "CN=test-client,O=tollgate"; empty without one.
    std::string client_certificate_subject;
};

/// A listener as bound: the actual port when port 0 was configured.
struct bound_listener {
    std::string name;
    transport_kind kind = transport_kind::tcp;
    std::string address;
    std::uint16_t port = 0;
};

}  // namespace tollgate::net
