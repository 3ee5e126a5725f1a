#pragma once
// Byte-stream listeners: TCP, TLS, WebSocket and WebSocket over TLS. Knows nothing of MQTT.
//
// Each listener has one accept loop (on worker 0). Accepted sockets go round-robin to the workers,
// accepted directly onto the chosen worker's io_context; TCP_NODELAY is set; the TLS handshake and
// the WebSocket upgrade run on that worker under listener_config::handshake_timeout; then the
// handler_factory is called there. WebSocket: binary frames only (a text frame closes the
// connection, [MQTT-6.0.0-1]), the request path must equal ws_path (else HTTP 404), the client must
// offer subprotocol "mqtt" (else HTTP 400) and the server selects "mqtt" ([MQTT-6.0.0-3],
// [MQTT-6.0.0-4]).
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include <tollgate/net/io_pool.hpp>
#include <tollgate/net/link.hpp>
#include <tollgate/net/transport.hpp>

namespace tollgate::net {

class server {
  public:
    /// Validates nothing yet; see start(). The pool must outlive the server.
    server(io_pool& pool, std::vector<listener_config> listeners, handler_factory factory);
    /// Stops accepting. While the pool runs, open connections keep running until they close. Once
    /// the pool has stopped (run() returned), every open connection is closed and its handler
    /// released here, without on_closed, so handlers never outlive what they refer to when the
    /// server is destroyed before them (declare the server after the broker).
    ~server();
    server(const server&) = delete;
    server& operator=(const server&) = delete;

    /// Loads TLS material and binds every listener. Throws std::runtime_error naming the listener,
    /// the address and port or file, and the cause, e.g.
    ///   "listener 'mqtt-tls': cannot read cert_file /x: No such file or directory"
    ///   "listener 'mqtt': cannot bind 127.0.0.1:1883: Address already in use".
    /// On failure nothing stays bound. Call once, from any thread; accepting begins when the pool
    /// runs.
    void start();

    /// The bound listeners with their actual ports (valid after start()). Thread-safe.
    [[nodiscard]] std::vector<bound_listener> endpoints() const;

    /// Closes the listening sockets; established connections are not affected. Thread-safe,
    /// idempotent.
    void stop_accepting();

    /// Connections open now over all listeners, handshakes included. Thread-safe.
    [[nodiscard]] std::size_t connection_count() const;

    /// One listener's outcome of reload_tls().
    struct tls_reload {
        std::string listener;
        bool ok = false;
        bool changed = false;     ///< ok and the certificate differs from the one in use before
        std::string certificate;  ///< ok: the new certificate's SHA-256 prefix (public, for logs)
        std::string error;        ///< !ok: the file or setting at fault; the old context stays
    };
    /// Re-reads cert_file, key_file and ca_file of every TLS / WSS listener (SIGHUP). A listener
    /// whose files load and match gets the new context for connections accepted from now on; open
    /// connections keep theirs. On any error that listener keeps its old context. Thread-safe
    /// (blocking file reads: call it off the event loop); valid after start().
    std::vector<tls_reload> reload_tls();

    struct state;

  private:
    std::shared_ptr<state> state_;
};

}  // namespace tollgate::net
