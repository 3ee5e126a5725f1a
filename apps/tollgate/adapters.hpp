#pragma once
// The seams between libs/net (sockets, event loops) and libs/broker (sans-I/O MQTT):
//   net::io_pool             -> broker::executor            (pool_executor)
//   net::link                -> broker::transport           (link_transport)
//   broker::connection       -> net::connection_handler     (broker_connection_handler)
// and the handler factory that joins them for every accepted connection. Nothing else: no
// protocol logic lives here.
//
// Threading: a connection's link, transport, handler and broker connection are all used only on
// the io_pool worker that owns the connection (net and broker both guarantee it).
#include <memory>

#include <tollgate/broker/broker.hpp>
#include <tollgate/broker/executor.hpp>
#include <tollgate/broker/transport.hpp>
#include <tollgate/net/io_pool.hpp>
#include <tollgate/net/link.hpp>

namespace tollgate::app {

/// Runs the broker's work on the io_pool's workers. The pool must outlive it.
class pool_executor final : public broker::executor {
  public:
    explicit pool_executor(net::io_pool& pool) : pool_(pool) {}
    [[nodiscard]] unsigned worker_count() const override;
    void post(unsigned worker, std::function<void()> fn) override;

  private:
    net::io_pool& pool_;
};

/// A broker transport over a net link. Holds the link until destroyed; the link's methods are
/// no-ops once the connection is closed, so a late call from the broker is harmless.
class link_transport final : public broker::transport {
  public:
    explicit link_transport(std::shared_ptr<net::link> link) : link_(std::move(link)) {}
    void send(common::shared_bytes bytes) override;
    void close() override;
    void abort() override;
    void pause_reading() override;
    void resume_reading() override;
    [[nodiscard]] std::size_t queued_bytes() const override;

  private:
    std::shared_ptr<net::link> link_;
};

/// Feeds a net connection's events to the broker's connection.
class broker_connection_handler final : public net::connection_handler {
  public:
    explicit broker_connection_handler(std::shared_ptr<broker::connection> connection)
        : connection_(std::move(connection)) {}
    void on_data(std::span<const std::uint8_t> bytes) override;
    void on_drained() override;
    void on_closed(std::error_code reason) override;

  private:
    std::shared_ptr<broker::connection> connection_;
};

/// What the broker is told about a peer.
[[nodiscard]] broker::connection_info to_connection_info(const net::peer_info& peer);

/// The factory the net server calls for each accepted (and handshaken) connection: it hands the
/// connection to the broker on the connection's own worker. `b` must outlive the server.
[[nodiscard]] net::handler_factory make_handler_factory(broker::broker& b);

}  // namespace tollgate::app
