#pragma once
// One HTTP/1.1 connection of http_server, over TCP or TLS.
//
// Loop: (TLS handshake) → read header → (100 Continue) → read body → handler → responder posts the
// response back to this worker → write → next request or close. One request at a time; bytes of a
// pipelined next request stay in buffer_. A single timer bounds every read and write
// (http_limits::read_timeout).
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <unordered_map>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <tollgate/net/http_server.hpp>

#include "listener.hpp"

namespace tollgate::net::detail {

namespace beast = boost::beast;

/// Lets http_server::stop() reach its connections from any thread.
class http_connection_base {
  public:
    virtual ~http_connection_base() = default;
    /// Closes the connection if idle, else after the response in progress. Thread-safe (posts).
    virtual void stop_async() = 0;
};

/// What an HTTP listener shares with its connections.
struct http_shared {
    listener_config config;
    std::shared_ptr<asio::ssl::context> tls;
    http_handler handler;
    http_limits limits;
    std::shared_ptr<connection_slots> slots;
    std::atomic<bool> stopping{false};
    std::mutex registry_mutex;
    std::uint64_t next_id = 0;
    std::unordered_map<std::uint64_t, std::weak_ptr<http_connection_base>> registry;
};

void start_http_connection(std::shared_ptr<http_shared> shared, tcp::socket socket, unsigned worker,
                           slot_guard slot);

}  // namespace tollgate::net::detail
