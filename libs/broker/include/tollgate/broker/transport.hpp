#pragma once
// The byte pipe of one network connection, implemented by the host (TCP, TLS, WebSocket, WSS),
// and what the broker is told about the peer.
// Thread-safety: a transport is used only on the worker thread its connection belongs to.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include <tollgate/common/bytes.hpp>

namespace tollgate::broker {

class transport {
  public:
    virtual ~transport();
    /// Queues bytes for writing; the host coalesces queued buffers into few writes. Never blocks.
    /// Bytes sent after close()/abort() are dropped.
    virtual void send(common::shared_bytes bytes) = 0;
    /// Flushes what is queued, then closes. The connection's on_closed() follows.
    virtual void close() = 0;
    /// Closes at once, dropping what is queued. The connection's on_closed() follows.
    virtual void abort() = 0;
    /// Stops delivering on_bytes() until resume_reading() (backpressure, pending verdicts).
    virtual void pause_reading() = 0;
    virtual void resume_reading() = 0;
    /// Bytes queued and not yet written. When it falls to zero after a send the host calls
    /// connection::on_drained().
    [[nodiscard]] virtual std::size_t queued_bytes() const = 0;
};

struct connection_info {
    std::string listener;        ///< the configured listener name
    std::string transport;       ///< "tcp", "tls", "ws" or "wss"
    std::string remote_address;  ///< peer IP address, textual
    std::uint16_t remote_port = 0;
    /// The verified TLS client certificate (DER), when the listener asked for one.
    std::optional<common::shared_bytes> client_certificate_der;
    std::string client_certificate_subject;  ///< RFC 2253 subject of that certificate, or empty
};

}  // namespace tollgate::broker
