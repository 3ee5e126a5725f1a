#pragma once
// Member definitions of connection<Stream>; included by the .cpp files that instantiate it.
#include <algorithm>
#include <utility>

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include <tollgate/common/log.hpp>

#include "connection.hpp"

namespace tollgate::net::detail {

namespace http = beast::http;
namespace websocket = beast::websocket;

template <class Stream>
struct connection<Stream>::upgrade_state {
    static constexpr std::size_t max_header = 16 * 1024;
    upgrade_state() : buffer(max_header) { parser.header_limit(max_header); }
    beast::flat_buffer buffer;
    http::request_parser<http::empty_body> parser;
    http::response<http::string_body> refusal;
};

template <class Stream>
connection<Stream>::connection(std::shared_ptr<listener_shared> listener, tcp::socket socket, unsigned worker,
                               slot_guard slot)
    : stream_([&]() -> Stream {
        if constexpr (is_tls) {
            return Stream(std::move(socket), *listener->tls_context());
        } else {
            return Stream(std::move(socket));
        }
    }())
    , timer_(beast::get_lowest_layer(stream_).get_executor())
    , listener_(std::move(listener))
    , slot_(std::move(slot))
    , peer_(make_peer(listener_->config, beast::get_lowest_layer(stream_)))
    , worker_(worker) {}

template <class Stream>
connection<Stream>::~connection() {
    std::lock_guard lock(listener_->registry_mutex);
    listener_->registry.erase(this);
}

template <class Stream>
void connection<Stream>::detach() {
    phase_ = phase::closed;
    boost::system::error_code ignored;
    socket().close(ignored);
    slot_.release();
    queue_.clear();
    handler_.reset();
}

template <class Stream>
void connection<Stream>::start() {
    {
        std::lock_guard lock(listener_->registry_mutex);
        listener_->registry.emplace(this, this->weak_from_this());
    }
    boost::system::error_code ignored;
    socket().set_option(tcp::no_delay(true), ignored);
    if constexpr (is_tls || is_ws) {
        arm_timer(listener_->config.handshake_timeout);
    }
    if constexpr (is_tls) {
        start_tls();
    } else if constexpr (is_ws) {
        start_upgrade();
    } else {
        on_handshake_done();
    }
}

template <class Stream>
void connection<Stream>::arm_timer(std::chrono::milliseconds timeout) {
    timer_.expires_after(timeout);
    timer_.async_wait([self = this->shared_from_this()](boost::system::error_code ec) {
        // A wait that completed before a re-arm still runs: ignore it unless the deadline passed.
        if (ec || self->timer_.expiry() > std::chrono::steady_clock::now() || self->phase_ == phase::closed) {
            return;
        }
        if (self->phase_ == phase::open) {
            return;
        }
        self->finish(std::make_error_code(std::errc::timed_out));
    });
}

template <class Stream>
void connection<Stream>::start_tls() {
    if constexpr (is_tls) {
        auto& tls = [this]() -> tls_stream& {
            if constexpr (is_ws) {
                return stream_.next_layer();
            } else {
                return stream_;
            }
        }();
        tls.async_handshake(
            asio::ssl::stream_base::server, [self = this->shared_from_this()](boost::system::error_code ec) {
                if (self->phase_ == phase::closed) {
                    return;
                }
                if (ec) {
                    common::logger("net")->debug("{} {}:{}: TLS handshake failed: {}", self->peer_.listener,
                                                 self->peer_.remote_address, self->peer_.remote_port,
                                                 ec.message());
                    self->finish(ec);
                    return;
                }
                auto& established = [&]() -> tls_stream& {
                    if constexpr (is_ws) {
                        return self->stream_.next_layer();
                    } else {
                        return self->stream_;
                    }
                }();
                read_peer_certificate(established.native_handle(), self->peer_);
                if constexpr (is_ws) {
                    self->start_upgrade();
                } else {
                    self->on_handshake_done();
                }
            });
    }
}

template <class Stream>
void connection<Stream>::start_upgrade() {
    if constexpr (is_ws) {
        upgrade_ = std::make_unique<upgrade_state>();
        http::async_read(stream_.next_layer(), upgrade_->buffer, upgrade_->parser,
                         [self = this->shared_from_this()](boost::system::error_code ec, std::size_t) {
                             self->on_upgrade_request(ec);
                         });
    }
}

// The offered subprotocols ("a, b" possibly over several fields) include exactly "mqtt".
template <class Fields>
bool offers_mqtt(const Fields& fields) {
    auto [begin, end] = fields.equal_range(http::field::sec_websocket_protocol);
    for (auto it = begin; it != end; ++it) {
        std::string_view list = it->value();
        while (!list.empty()) {
            const auto comma = list.find(',');
            std::string_view item = list.substr(0, comma);
            while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) {
                item.remove_prefix(1);
            }
            while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) {
                item.remove_suffix(1);
            }
            if (item == "mqtt") {
                return true;
            }
            list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
        }
    }
    return false;
}

template <class Stream>
void connection<Stream>::on_upgrade_request(const boost::system::error_code& ec) {
    if constexpr (is_ws) {
        if (phase_ == phase::closed) {
            return;
        }
        if (ec) {
            if (ec.category() == make_error_code(http::error::bad_method).category() &&
                ec != http::error::end_of_stream) {
                refuse_upgrade(400, "malformed HTTP request");
            } else {
                finish(ec);
            }
            return;
        }
        const auto& request = upgrade_->parser.get();
        std::string_view path = request.target();
        path = path.substr(0, path.find('?'));
        if (path != listener_->config.ws_path) {
            refuse_upgrade(404, "not found");
            return;
        }
        if (!websocket::is_upgrade(request)) {
            refuse_upgrade(426, "this endpoint speaks WebSocket only");
            return;
        }
        if (!offers_mqtt(request)) {  // [MQTT-6.0.0-3]
            refuse_upgrade(400, "the WebSocket subprotocol \"mqtt\" is required");
            return;
        }
        stream_.set_option(websocket::stream_base::decorator([](websocket::response_type& response) {
            response.set(http::field::server, "tollgate");
            response.set(http::field::sec_websocket_protocol, "mqtt");  // [MQTT-6.0.0-4]
        }));
        stream_.binary(true);
        stream_.auto_fragment(false);
        stream_.read_message_max(listener_->config.ws_max_message_size);
        stream_.async_accept(request, [self = this->shared_from_this()](boost::system::error_code accept_ec) {
            if (self->phase_ == phase::closed) {
                return;
            }
            self->upgrade_.reset();
            if (accept_ec) {
                self->finish(accept_ec);
                return;
            }
            self->on_handshake_done();
        });
    }
}

template <class Stream>
void connection<Stream>::refuse_upgrade(unsigned status, std::string reason) {
    if constexpr (is_ws) {
        auto& response = upgrade_->refusal;
        response.version(11);
        response.result(status);
        response.set(http::field::server, "tollgate");
        response.set(http::field::content_type, "text/plain; charset=utf-8");
        response.set(http::field::connection, "close");
        response.body() = reason + "\n";
        response.prepare_payload();
        common::logger("net")->debug("{} {}:{}: WebSocket upgrade refused with {}: {}", peer_.listener,
                                     peer_.remote_address, peer_.remote_port, status, reason);
        http::async_write(stream_.next_layer(), response,
                          [self = this->shared_from_this()](boost::system::error_code, std::size_t) {
                              self->finish(std::make_error_code(std::errc::connection_refused));
                          });
    }
}

template <class Stream>
void connection<Stream>::on_handshake_done() {
    timer_.cancel();
    phase_ = phase::open;
    std::shared_ptr<connection_handler> handler;
    try {
        handler = listener_->factory(this->shared_from_this());
    } catch (const std::exception& e) {
        common::logger("net")->error("{}: handler factory threw: {}", peer_.listener, e.what());
    }
    if (phase_ != phase::open) {
        return;  // the factory closed the link
    }
    if (!handler) {
        close_reason_ = std::make_error_code(std::errc::connection_refused);
        close_requested_ = true;
        begin_shutdown();
        return;
    }
    handler_ = std::move(handler);
    do_read();
}

template <class Stream>
void connection<Stream>::do_read() {
    if (reading_ || phase_ == phase::closed || (paused_ && phase_ == phase::open) || pending_ != 0) {
        return;
    }
    reading_ = true;
    stream_.async_read_some(asio::buffer(read_buffer_),
                            [self = this->shared_from_this()](boost::system::error_code ec, std::size_t n) {
                                self->on_read(ec, n);
                            });
}

template <class Stream>
void connection<Stream>::on_read(const boost::system::error_code& ec, std::size_t bytes) {
    reading_ = false;
    if (phase_ == phase::closed) {
        return;
    }
    if (ec) {
        finish(ec);
        return;
    }
    if constexpr (is_ws) {
        if (stream_.got_text()) {  // [MQTT-6.0.0-1] only binary data frames
            close_reason_ = std::make_error_code(std::errc::protocol_error);
            queue_.clear();
            close_requested_ = true;
            if (!writing_active_) {
                begin_shutdown();
            }
            return;
        }
    }
    if (phase_ == phase::closing || bytes == 0) {
        do_read();  // closing: drain until the peer closes; data after close() is discarded
        return;
    }
    pending_ = bytes;
    deliver();
}

template <class Stream>
void connection<Stream>::deliver() {
    if (paused_ || pending_ == 0 || phase_ != phase::open || close_requested_) {
        return;
    }
    const std::size_t n = std::exchange(pending_, 0);
    in_on_data_ = true;
    handler_->on_data(std::span<const std::uint8_t>(read_buffer_.data(), n));
    in_on_data_ = false;
    do_read();
}

template <class Stream>
void connection<Stream>::send(common::shared_bytes bytes) {
    if (phase_ != phase::open || close_requested_ || bytes.empty()) {
        return;
    }
    queued_bytes_ += bytes.size();
    queue_.push_back(std::move(bytes));
    if (queued_bytes_ > listener_->config.drain_threshold) {
        above_threshold_ = true;
    }
    schedule_flush();
}

template <class Stream>
void connection<Stream>::schedule_flush() {
    if (writing_active_ || flush_posted_) {
        return;
    }
    flush_posted_ = true;
    asio::post(timer_.get_executor(), [self = this->shared_from_this()] {
        self->flush_posted_ = false;
        self->start_write();
    });
}

template <class Stream>
void connection<Stream>::start_write() {
    if (writing_active_ || phase_ == phase::closed) {
        return;
    }
    if (queue_.empty()) {
        if (close_requested_ && phase_ == phase::open) {
            begin_shutdown();
        }
        return;
    }
    writing_.swap(queue_);
    buffers_.clear();
    for (const auto& b : writing_) {
        buffers_.emplace_back(b.data(), b.size());
    }
    writing_active_ = true;
    auto done = [self = this->shared_from_this()](boost::system::error_code ec, std::size_t) {
        self->on_write(ec);
    };
    const std::span<const asio::const_buffer> gather(buffers_);
    if constexpr (is_ws) {
        stream_.async_write(gather, std::move(done));
    } else {
        asio::async_write(stream_, gather, std::move(done));
    }
}

template <class Stream>
void connection<Stream>::on_write(const boost::system::error_code& ec) {
    writing_active_ = false;
    if (phase_ == phase::closed) {
        return;
    }
    if (ec) {
        finish(ec);
        return;
    }
    for (const auto& b : writing_) {
        queued_bytes_ -= b.size();
    }
    writing_.clear();
    if (!queue_.empty()) {
        start_write();
        return;
    }
    if (above_threshold_ && phase_ == phase::open && !close_requested_) {
        above_threshold_ = false;
        handler_->on_drained();
        if (!queue_.empty()) {
            return;  // on_drained sent more: a flush is posted
        }
    }
    if (close_requested_ && phase_ == phase::open) {
        begin_shutdown();
    }
}

template <class Stream>
void connection<Stream>::close() {
    if (phase_ != phase::open || close_requested_) {
        return;
    }
    close_requested_ = true;
    if (!writing_active_ && !flush_posted_) {
        start_write();
    }
}

template <class Stream>
void connection<Stream>::abort() {
    if (phase_ == phase::closed) {
        return;
    }
    finish(boost::system::error_code(asio::error::operation_aborted));
}

template <class Stream>
void connection<Stream>::pause_reading() {
    paused_ = true;
}

template <class Stream>
void connection<Stream>::resume_reading() {
    if (!paused_) {
        return;
    }
    paused_ = false;
    if (phase_ != phase::open) {
        return;
    }
    if (pending_ != 0) {
        if (!deliver_posted_) {
            deliver_posted_ = true;
            asio::post(timer_.get_executor(), [self = this->shared_from_this()] {
                self->deliver_posted_ = false;
                self->deliver();
            });
        }
    } else if (!in_on_data_) {
        do_read();  // inside on_data, deliver() restarts reading when it returns
    }
}

// Graceful end after the queue is flushed. A timer bounds it; the read side keeps draining so the
// peer's close (FIN, close_notify or close frame) is seen.
template <class Stream>
void connection<Stream>::begin_shutdown() {
    if (phase_ == phase::closed || phase_ == phase::closing) {
        return;
    }
    phase_ = phase::closing;
    pending_ = 0;
    arm_timer(std::min(listener_->config.handshake_timeout, std::chrono::milliseconds(5000)));
    auto self = this->shared_from_this();
    if constexpr (is_ws) {
        const auto code = close_reason_ == std::make_error_code(std::errc::protocol_error)
                              ? websocket::close_code::unknown_data
                              : websocket::close_code::normal;
        stream_.async_close(code, [self](boost::system::error_code ec) {
            self->finish(ec ? std::error_code(ec)
                            : std::error_code(boost::system::error_code(asio::error::eof)));
        });
        do_read();
    } else if constexpr (is_tls) {
        stream_.async_shutdown([self](boost::system::error_code ec) {
            self->finish(ec ? std::error_code(ec)
                            : std::error_code(boost::system::error_code(asio::error::eof)));
        });
        do_read();
    } else {
        boost::system::error_code ignored;
        socket().shutdown(tcp::socket::shutdown_send, ignored);
        do_read();
    }
}

template <class Stream>
void connection<Stream>::finish(std::error_code reason) {
    if (phase_ == phase::closed) {
        return;
    }
    phase_ = phase::closed;
    if (!close_reason_) {
        close_reason_ = reason;
    }
    timer_.cancel();
    boost::system::error_code ignored;
    socket().shutdown(tcp::socket::shutdown_both, ignored);
    socket().close(ignored);
    slot_.release();  // the count is of open sockets, whoever still holds this object
    queue_.clear();
    pending_ = 0;
    queued_bytes_ = 0;
    if (auto handler = std::move(handler_)) {
        asio::post(timer_.get_executor(),
                   [handler = std::move(handler), reason = close_reason_] { handler->on_closed(reason); });
    }
}

}  // namespace tollgate::net::detail
