#pragma once
// Listener plumbing shared by server and http_server: binding, the accept loop, TLS contexts.
#include <atomic>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <tollgate/net/io_pool.hpp>
#include <tollgate/net/transport.hpp>

namespace tollgate::net::detail {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

/// Builds the server TLS context of a listener. Throws std::runtime_error naming the listener and
/// the file or setting at fault.
std::shared_ptr<asio::ssl::context> make_server_tls_context(const listener_config& config);

/// The first 16 hex digits of the SHA-256 of the context's certificate (DER), for logs; "none".
std::string certificate_fingerprint(asio::ssl::context& context);

/// Fills peer.client_certificate_der/subject from a completed handshake, if the peer presented a
/// certificate that verified.
void read_peer_certificate(void* native_ssl, peer_info& peer);

/// Opens, binds and listens. Throws std::runtime_error "listener 'n': cannot bind a:p: cause".
tcp::acceptor bind_listener(asio::io_context& context, const listener_config& config);

/// A listener's accept loop. Runs on the acceptor's io_context (worker 0). Each accepted socket is
/// accepted directly onto the io_context of the next worker (round-robin, shared counter) and
/// handed to on_accept on the acceptor's thread. Transient errors (EMFILE, ENFILE, ENOBUFS,
/// ENOMEM) back off exponentially from 10 ms to 1 s instead of spinning.
class accept_loop : public std::enable_shared_from_this<accept_loop> {
  public:
    using accept_fn = std::function<void(tcp::socket socket, unsigned worker)>;
    accept_loop(io_pool& pool, tcp::acceptor acceptor, std::shared_ptr<std::atomic<unsigned>> next_worker,
                accept_fn on_accept);
    /// Starts accepting (posts to the acceptor's context). Thread-safe.
    void start();
    /// Closes the acceptor (on its own thread). Thread-safe, idempotent.
    void stop();
    [[nodiscard]] std::uint16_t port() const noexcept { return port_; }

  private:
    void accept();
    void on_error(const boost::system::error_code& ec);

    io_pool& pool_;
    tcp::acceptor acceptor_;
    asio::steady_timer backoff_timer_;
    std::chrono::milliseconds backoff_{0};
    std::shared_ptr<std::atomic<unsigned>> next_worker_;
    accept_fn on_accept_;
    std::uint16_t port_;
    bool stopped_ = false;
};

/// Counts a listener's open connections against its limit. Shared by the accept loop and the
/// connections (which release their slot when destroyed).
struct connection_slots {
    explicit connection_slots(std::size_t max) : limit(max) {}
    bool try_acquire() noexcept {
        std::size_t now = count.load(std::memory_order_relaxed);
        do {
            if (now >= limit) {
                return false;
            }
        } while (!count.compare_exchange_weak(now, now + 1, std::memory_order_relaxed));
        return true;
    }
    void release() noexcept { count.fetch_sub(1, std::memory_order_relaxed); }
    const std::size_t limit;
    std::atomic<std::size_t> count{0};
};

/// A held slot; released by release() or on destruction.
class slot_guard {
  public:
    explicit slot_guard(std::shared_ptr<connection_slots> slots) : slots_(std::move(slots)) {}
    ~slot_guard() { release(); }
    /// Gives the slot back now (when the socket closes); idempotent.
    void release() noexcept {
        if (slots_) {
            slots_->release();
            slots_.reset();
        }
    }
    slot_guard(slot_guard&&) = default;
    slot_guard& operator=(slot_guard&&) = delete;
    slot_guard(const slot_guard&) = delete;
    slot_guard& operator=(const slot_guard&) = delete;

  private:
    std::shared_ptr<connection_slots> slots_;
};

/// "listener 'name'"
std::string listener_label(const listener_config& config);

/// Binds `config` and makes its accept loop (not started) for server and http_server alike: each
/// accepted socket takes a slot of `slots` (over the limit it is closed with a warning) and is
/// handed to `start_connection` on its worker's io_context, with the slot it holds.
using connection_starter = std::function<void(tcp::socket socket, unsigned worker, slot_guard slot)>;
std::shared_ptr<accept_loop> make_accept_loop(io_pool& pool, const listener_config& config,
                                              std::shared_ptr<connection_slots> slots,
                                              std::shared_ptr<std::atomic<unsigned>> next_worker,
                                              connection_starter start_connection);

}  // namespace tollgate::net::detail
