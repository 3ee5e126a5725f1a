#pragma once
// Shared pieces of the libs/net tests: a running io_pool, test certificates, recording handlers and
// small client helpers that wait on events with generous timeouts (never sleeps).
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>

#include <tollgate/net/io_pool.hpp>
#include <tollgate/net/link.hpp>
#include <tollgate/net/server.hpp>

namespace tollgate::net::test {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

constexpr auto event_timeout = 20s;  ///< generous bound on any awaited event

/// Directory holding the certificates made by scripts/gen-test-certs (generated on first use).
const std::string& certs_dir();
std::string cert(const std::string& file);

/// An io_pool running on a background thread for the duration of a test.
class running_pool {
  public:
    explicit running_pool(unsigned threads = 2);
    ~running_pool();
    io_pool& pool() { return pool_; }
    /// Runs fn on worker w and waits for it.
    void run_on(unsigned worker, std::function<void()> fn);

  private:
    io_pool pool_;
    std::thread thread_;
};

/// Records what a connection does. Thread-safe accessors; callbacks come from the worker.
struct connection_record {
    std::mutex mutex;
    std::condition_variable changed;
    std::string data;
    std::size_t data_calls = 0;
    std::size_t drained = 0;
    std::optional<std::error_code> closed;
    int closed_count = 0;
    std::shared_ptr<link> the_link;
    peer_info peer;

    /// Waits until pred() holds (under the lock); false on timeout.
    bool wait(const std::function<bool()>& pred, std::chrono::milliseconds timeout = event_timeout);
};

/// A handler that records and optionally echoes.
class recording_handler : public connection_handler {
  public:
    recording_handler(std::shared_ptr<link> l, std::shared_ptr<connection_record> record, bool echo);
    void on_data(std::span<const std::uint8_t> bytes) override;
    void on_drained() override;
    void on_closed(std::error_code reason) override;
    std::function<void(std::span<const std::uint8_t>, link&)> extra;  ///< called after recording

  private:
    std::shared_ptr<link> link_;
    std::shared_ptr<connection_record> record_;
    bool echo_;
};

/// A factory that makes recording handlers and keeps the records in order of arrival.
struct recording_factory {
    bool echo = true;
    std::function<void(recording_handler&)> customize;
    std::mutex mutex;
    std::condition_variable changed;
    std::vector<std::shared_ptr<connection_record>> records;
    std::atomic<int> calls{0};

    handler_factory make();
    /// Waits for the n-th (0-based) connection to reach the handler; nullptr on timeout.
    std::shared_ptr<connection_record> wait_for(std::size_t index);
};

listener_config make_listener(transport_kind kind, std::string name = "test");
tls_settings server_tls();

/// Runs the client context until done() or the timeout; returns done().
bool run_until(asio::io_context& context, const std::function<bool()>& done,
               std::chrono::milliseconds timeout = event_timeout);

/// Connects a TCP socket to 127.0.0.1:port (waiting at most event_timeout).
tcp::socket connect_tcp(asio::io_context& context, std::uint16_t port);

/// Reads exactly n bytes (or until error/timeout). Returns the bytes read.
template <class Stream>
std::string read_exactly(asio::io_context& context, Stream& stream, std::size_t n, std::error_code& ec);
/// Writes all of data.
template <class Stream>
std::error_code write_all(asio::io_context& context, Stream& stream, std::string_view data);
/// Reads until an error (close); returns that error and appends data read to *out if given.
template <class Stream>
std::error_code read_until_error(asio::io_context& context, Stream& stream, std::string* out = nullptr);

/// A client TLS context trusting ca.crt; optional client certificate; TLS version pinned if given.
std::shared_ptr<asio::ssl::context> client_tls(const std::string& cert_name = "", int version = 0);

/// Sets SNI "localhost" on an OpenSSL SSL*.
void set_sni(void* ssl);

std::uint16_t port_of(const server& s, std::size_t index = 0);

}  // namespace tollgate::net::test
