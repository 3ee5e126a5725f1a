#pragma once
// The seam between the transport (this library) and a protocol handler (the broker, wired by the
// app). The transport owns the socket; the handler sees bytes in and queues bytes out.
//
// Threading: a connection is pinned to one io_pool worker for its whole life. Every link method
// must be called on that worker's thread (link::worker(); from elsewhere use io_pool::post), and
// every connection_handler callback is made on it.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <system_error>

#include <tollgate/common/bytes.hpp>
#include <tollgate/net/transport.hpp>

namespace tollgate::net {

/// What a protocol handler uses to talk back to its peer.
class link {
  public:
    virtual ~link() = default;

    /// Queues bytes for the peer. Never blocks and never copies the bytes: the buffer is held until
    /// written. Everything queued while a write is in flight, or during one callback (on_data or a
    /// posted function), goes out in one gathered write, in order (coalescing); a PUBLISH is best
    /// queued as two sends, header and shared payload. No-op after close()/abort()/on_closed.
    virtual void send(common::shared_bytes bytes) = 0;
    /// Writes what is queued, then shuts down gracefully (WebSocket: close frame; TLS: close_notify;
    /// TCP: FIN, then waits a bounded time for the peer's FIN). on_closed follows.
    virtual void close() = 0;
    /// Closes the socket now, dropping what is queued. on_closed follows (never from inside this
    /// call: it is posted).
    virtual void abort() = 0;
    /// Backpressure: while paused, no socket reads and no on_data. Bytes already read are kept and
    /// delivered on resume. Idempotent.
    virtual void pause_reading() = 0;
    virtual void resume_reading() = 0;
    /// Bytes queued and not yet handed to the kernel (or the TLS layer).
    [[nodiscard]] virtual std::size_t queued_bytes() const = 0;
    [[nodiscard]] virtual const peer_info& peer() const = 0;
    /// The io_pool worker that owns this connection.
    [[nodiscard]] virtual unsigned worker() const = 0;
};

/// Implemented by the protocol side; one per connection. Callbacks run on the connection's worker.
class connection_handler {
  public:
    virtual ~connection_handler() = default;
    /// Bytes from the peer, in order, split and joined arbitrarily (WebSocket frames and TCP
    /// segments carry no packet boundaries). The span is valid only during the call.
    virtual void on_data(std::span<const std::uint8_t> bytes) = 0;
    /// queued_bytes() went to zero after having exceeded listener_config::drain_threshold.
    virtual void on_drained() {}
    /// The connection is gone (peer closed, error, close() or abort() done). Called exactly once,
    /// unless the io_pool is stopped and destroyed first; afterwards link methods are no-ops and the
    /// transport drops its reference to the handler. A clean close by the peer gives an error code
    /// whose value is boost::asio::error::eof or the WebSocket "closed" code.
    virtual void on_closed(std::error_code reason) = 0;
};

/// Makes the handler of a new connection, once its TLS handshake and WebSocket upgrade are done.
/// Called on the connection's worker thread. Returning nullptr refuses the connection (it is
/// closed). The handler may keep the link; the transport keeps the handler until on_closed.
using handler_factory = std::function<std::shared_ptr<connection_handler>(std::shared_ptr<link>)>;

}  // namespace tollgate::net
