#pragma once
// A small HTTP/1.1 server (TCP or TLS listeners) for the OAuth authorization server and metrics.
// Keep-alive, one request at a time per connection (pipelined requests are answered in order),
// explicit limits. The handler runs on an io_pool worker and must not block: it answers through
// the responder, from any thread (e.g. after a work_pool job).
//
// Errors answered by the server itself, without calling the handler: malformed request → 400,
// body over http_limits::max_body → 413, header block over max_header → 431, unsupported
// Transfer-Encoding → 501 (through 400). Every response carries "Server: tollgate" and a
// Content-Length; a response to HEAD has no body.
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <tollgate/net/io_pool.hpp>
#include <tollgate/net/transport.hpp>

namespace tollgate::net {

struct http_request {
    std::string method;  ///< as sent, e.g. "GET"
    std::string target;  ///< request target as sent, e.g. "/token?x=1"
    /// Header fields in arrival order; names lower-cased, values as sent (surrounding whitespace
    /// trimmed); duplicates kept.
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    peer_info peer;

    /// The first value of the header (name compared case-insensitively); empty if absent.
    [[nodiscard]] std::string header(std::string_view name) const;
    /// How many times the header occurs (case-insensitive).
    [[nodiscard]] std::size_t header_count(std::string_view name) const;
};

struct http_response {
    unsigned status = 200;
    /// Sent in order. Content-Length and Server are set by the server (values given here for them
    /// are replaced). "Connection: close" closes the connection after the response.
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
};

/// Sends the response. Callable once (later calls are ignored), from any thread. If every copy is
/// destroyed without a call, the client gets 500.
using http_responder = std::function<void(http_response)>;
/// Handles one request on the connection's worker thread. Must not block. An exception thrown
/// from it answers 500 (if the responder was not called).
using http_handler = std::function<void(http_request, http_responder)>;

struct http_limits {
    std::size_t max_body = 64 * 1024;
    std::size_t max_header = 16 * 1024;
    /// Time allowed to receive a whole request, and to wait for the next one on a kept-alive
    /// connection; also bounds writing a response and the TLS handshake.
    std::chrono::milliseconds read_timeout{30000};
    bool keep_alive = true;  ///< false: every response closes the connection
};

class http_server {
  public:
    /// Listener kinds must be tcp or tls (start() throws std::invalid_argument otherwise). The pool
    /// must outlive the server.
    http_server(io_pool& pool, std::vector<listener_config> listeners, http_handler handler,
                http_limits limits = {});
    ~http_server();  ///< stop()
    http_server(const http_server&) = delete;
    http_server& operator=(const http_server&) = delete;

    /// Binds every listener; throws std::runtime_error naming listener, address, port or file and
    /// cause (as server::start()).
    void start();
    [[nodiscard]] std::vector<bound_listener> endpoints() const;
    /// Stops accepting and closes idle connections; a request being handled still gets its
    /// response, then its connection closes. Thread-safe, idempotent.
    void stop();
    /// Connections open now. Thread-safe.
    [[nodiscard]] std::size_t connection_count() const;

    struct state;

  private:
    std::shared_ptr<state> state_;
};

}  // namespace tollgate::net
