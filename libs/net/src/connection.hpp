#pragma once
// A byte-stream connection over one of four stream stacks, implementing link.
//
// Life: accepted on its worker → (TLS handshake) → (WebSocket upgrade) under one handshake timer →
// handler_factory → read loop + write queue → close/abort/error → on_closed (posted, once).
//
// Read side: one fixed buffer per connection, reused for every read. A read that completes while
// paused is held (pending_) and delivered on resume; no read is started while paused.
// Write side: send() appends to queue_; a flush is posted once per batch, so every send of the
// current callback joins one gathered write; while a write is in flight, sends accumulate in queue_
// and go out together when it completes. Buffers are never copied on the TCP path; TLS coalesces
// small buffers into one record (beast::flat_stream) because encryption copies anyway.
#include <array>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/beast/websocket/stream.hpp>

#include <tollgate/net/link.hpp>

#include "listener.hpp"

namespace tollgate::net::detail {

namespace beast = boost::beast;

using tls_stream = beast::ssl_stream<tcp::socket>;
using ws_stream = beast::websocket::stream<tcp::socket>;
using wss_stream = beast::websocket::stream<tls_stream>;

/// A connection as the server's registry sees it.
class registered_connection {
  public:
    virtual ~registered_connection() = default;
    /// Closes the socket and drops the handler without on_closed. Only while no worker runs
    /// (the pool stopped): used by ~server to release handlers before their owners go away.
    virtual void detach() = 0;
};

/// What a listener shares with its connections. Holds no I/O object.
struct listener_shared {
    listener_config config;
    /// The TLS context new connections use (tls and wss). Replaced by server::reload_tls() while
    /// connections are accepted: read it through tls_context(). A connection's SSL object holds its
    /// own reference to the SSL_CTX it was made from, so replacing it never affects open connections.
    std::shared_ptr<asio::ssl::context> tls;
    std::mutex tls_mutex;  ///< guards tls
    std::shared_ptr<asio::ssl::context> tls_context() {
        std::lock_guard lock(tls_mutex);
        return tls;
    }
    handler_factory factory;
    std::shared_ptr<connection_slots> slots;
    std::mutex registry_mutex;  ///< guards registry
    std::unordered_map<const void*, std::weak_ptr<registered_connection>> registry;
};

/// Starts a connection on an accepted socket. Call on the socket's worker thread. `slot` is the
/// connection's place in the listener's count.
void start_tcp_connection(std::shared_ptr<listener_shared> listener, tcp::socket socket, unsigned worker,
                          slot_guard slot);
void start_tls_connection(std::shared_ptr<listener_shared> listener, tcp::socket socket, unsigned worker,
                          slot_guard slot);
void start_ws_connection(std::shared_ptr<listener_shared> listener, tcp::socket socket, unsigned worker,
                         slot_guard slot);
void start_wss_connection(std::shared_ptr<listener_shared> listener, tcp::socket socket, unsigned worker,
                          slot_guard slot);

/// peer_info of an accepted socket (address, port, kind, listener name).
peer_info make_peer(const listener_config& config, const tcp::socket& socket);

template <class Stream>
class connection final : public link,
                         public registered_connection,
                         public std::enable_shared_from_this<connection<Stream>> {
  public:
    static constexpr bool is_ws = std::is_same_v<Stream, ws_stream> || std::is_same_v<Stream, wss_stream>;
    static constexpr bool is_tls = std::is_same_v<Stream, tls_stream> || std::is_same_v<Stream, wss_stream>;
    static constexpr std::size_t read_buffer_size = 16 * 1024;

    connection(std::shared_ptr<listener_shared> listener, tcp::socket socket, unsigned worker,
               slot_guard slot);
    connection(const connection&) = delete;
    connection& operator=(const connection&) = delete;
    ~connection() override;

    void start();
    void detach() override;

    // link
    void send(common::shared_bytes bytes) override;
    void close() override;
    void abort() override;
    void pause_reading() override;
    void resume_reading() override;
    [[nodiscard]] std::size_t queued_bytes() const override { return queued_bytes_; }
    [[nodiscard]] const peer_info& peer() const override { return peer_; }
    [[nodiscard]] unsigned worker() const override { return worker_; }

  private:
    enum class phase { handshake, open, closing, closed };
    struct upgrade_state;

    tcp::socket& socket() { return beast::get_lowest_layer(stream_); }
    void arm_timer(std::chrono::milliseconds timeout);
    void start_tls();
    void start_upgrade();
    void on_upgrade_request(const boost::system::error_code& ec);
    void refuse_upgrade(unsigned status, std::string reason);
    void on_handshake_done();
    void do_read();
    void on_read(const boost::system::error_code& ec, std::size_t bytes);
    void deliver();
    void schedule_flush();
    void start_write();
    void on_write(const boost::system::error_code& ec);
    void begin_shutdown();
    void finish(std::error_code reason);

    Stream stream_;
    asio::steady_timer timer_;
    std::shared_ptr<listener_shared> listener_;
    slot_guard slot_;
    peer_info peer_;
    unsigned worker_;
    std::shared_ptr<connection_handler> handler_;
    std::unique_ptr<upgrade_state> upgrade_;
    phase phase_ = phase::handshake;
    std::error_code close_reason_;

    bool reading_ = false;
    bool paused_ = false;
    bool deliver_posted_ = false;
    bool in_on_data_ = false;
    std::size_t pending_ = 0;  ///< bytes read into read_buffer_ and not yet delivered

    std::vector<common::shared_bytes> queue_;    ///< waiting for the next write
    std::vector<common::shared_bytes> writing_;  ///< owned by the write in flight
    std::vector<asio::const_buffer> buffers_;    ///< gather list of the write in flight
    std::size_t queued_bytes_ = 0;
    bool writing_active_ = false;
    bool flush_posted_ = false;
    bool close_requested_ = false;
    bool above_threshold_ = false;

    std::array<std::uint8_t, read_buffer_size> read_buffer_;
};

}  // namespace tollgate::net::detail
