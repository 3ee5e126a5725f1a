// http_connection<Stream>: the per-connection HTTP/1.1 loop of http_server.
#include "http_connection.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <type_traits>

#include <boost/asio/post.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include <tollgate/common/log.hpp>

#include "connection.hpp"

namespace tollgate::net::detail {

namespace http = beast::http;

namespace {

template <class Stream>
class http_connection final : public http_connection_base,
                              public std::enable_shared_from_this<http_connection<Stream>> {
  public:
    static constexpr bool is_tls = std::is_same_v<Stream, tls_stream>;

    http_connection(std::shared_ptr<http_shared> shared, tcp::socket socket, slot_guard slot)
        : stream_([&]() -> Stream {
            if constexpr (is_tls) {
                return Stream(std::move(socket), *shared->tls);
            } else {
                return Stream(std::move(socket));
            }
        }())
        , timer_(beast::get_lowest_layer(stream_).get_executor())
        , shared_(std::move(shared))
        , slot_(std::move(slot))
        , peer_(make_peer(shared_->config, beast::get_lowest_layer(stream_)))
        , buffer_(shared_->limits.max_header + shared_->limits.max_body + 4096) {}

    ~http_connection() override {
        std::lock_guard lock(shared_->registry_mutex);
        shared_->registry.erase(id_);
    }

    void start() {
        {
            std::lock_guard lock(shared_->registry_mutex);
            id_ = ++shared_->next_id;
            shared_->registry.emplace(id_, this->weak_from_this());
        }
        boost::system::error_code ignored;
        socket().set_option(tcp::no_delay(true), ignored);
        arm_timer();
        if constexpr (is_tls) {
            stream_.async_handshake(asio::ssl::stream_base::server,
                                    [self = this->shared_from_this()](boost::system::error_code ec) {
                                        if (ec) {
                                            self->finish();
                                            return;
                                        }
                                        read_peer_certificate(self->stream_.native_handle(), self->peer_);
                                        self->read_request();
                                    });
        } else {
            read_request();
        }
    }

    void stop_async() override {
        asio::post(timer_.get_executor(), [self = this->shared_from_this()] {
            if (!self->busy_ && !self->writing_) {
                self->finish();
            }
        });
    }

    // Called on this connection's worker with the handler's answer.
    void respond(http_response answer) {
        if (closed_) {
            return;
        }
        busy_ = false;
        write_response(std::move(answer), false);
    }

  private:
    tcp::socket& socket() { return beast::get_lowest_layer(stream_); }

    void arm_timer() {
        timer_.expires_after(shared_->limits.read_timeout);
        timer_.async_wait([self = this->shared_from_this()](boost::system::error_code ec) {
            if (ec || self->timer_.expiry() > std::chrono::steady_clock::now() || self->busy_) {
                return;
            }
            self->finish();
        });
    }

    void read_request() {
        if (closed_) {
            return;
        }
        if (shared_->stopping) {
            finish();
            return;
        }
        parser_.emplace();
        parser_->header_limit(static_cast<std::uint32_t>(shared_->limits.max_header));
        parser_->body_limit(shared_->limits.max_body);
        arm_timer();
        http::async_read_header(stream_, buffer_, *parser_,
                                [self = this->shared_from_this()](boost::system::error_code ec, std::size_t) {
                                    self->on_header(ec);
                                });
    }

    bool answer_read_error(const boost::system::error_code& ec) {
        if (ec == http::error::end_of_stream ||
            ec.category() != make_error_code(http::error::body_limit).category()) {
            return false;  // clean close or a socket error: nothing to answer
        }
        if (ec == http::error::body_limit) {
            write_error(413, "request body too large");
        } else if (ec == http::error::header_limit || ec == http::error::buffer_overflow) {
            write_error(431, "request header fields too large");
        } else if (ec == http::error::bad_transfer_encoding) {
            write_error(501, "transfer encoding not supported");
        } else {
            write_error(400, "malformed request");
        }
        return true;
    }

    void on_header(const boost::system::error_code& ec) {
        if (closed_) {
            return;
        }
        if (ec) {
            if (!answer_read_error(ec)) {
                finish();
            }
            return;
        }
        const auto& request = parser_->get();
        auto expect = request.find(http::field::expect);
        if (expect != request.end() && beast::iequals(expect->value(), "100-continue") &&
            !parser_->is_done()) {
            continue_response_.emplace(http::status::continue_, request.version());
            http::async_write(stream_, *continue_response_,
                              [self = this->shared_from_this()](boost::system::error_code wec, std::size_t) {
                                  if (wec) {
                                      self->finish();
                                      return;
                                  }
                                  self->read_body();
                              });
            return;
        }
        read_body();
    }

    void read_body() {
        http::async_read(stream_, buffer_, *parser_,
                         [self = this->shared_from_this()](boost::system::error_code ec, std::size_t) {
                             self->on_request(ec);
                         });
    }

    void on_request(const boost::system::error_code& ec) {
        if (closed_) {
            return;
        }
        if (ec) {
            if (!answer_read_error(ec)) {
                finish();
            }
            return;
        }
        auto message = parser_->release();
        parser_.reset();
        keep_alive_ = message.keep_alive() && shared_->limits.keep_alive;
        head_ = message.method() == http::verb::head;
        version_ = message.version();

        http_request request;
        request.method = std::string(message.method_string());
        request.target = std::string(message.target());
        request.headers.reserve(static_cast<std::size_t>(std::distance(message.begin(), message.end())));
        for (const auto& field : message) {
            std::string name(field.name_string());
            std::transform(name.begin(), name.end(), name.begin(),
                           [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
            request.headers.emplace_back(std::move(name), std::string(field.value()));
        }
        request.body = std::move(message.body());
        request.peer = peer_;

        busy_ = true;
        timer_.cancel();
        dispatch(std::move(request));
    }

    // Calls the handler with a responder that posts back to this worker, once; a responder dropped
    // unanswered sends 500.
    void dispatch(http_request request) {
        struct responder_state {
            explicit responder_state(std::shared_ptr<http_connection> c) : connection(std::move(c)) {}
            ~responder_state() {
                if (!answered.exchange(true)) {
                    post({500, {}, "internal error: no response\n"});
                }
            }
            responder_state(const responder_state&) = delete;
            responder_state& operator=(const responder_state&) = delete;
            void post(http_response response) {
                asio::post(connection->timer_.get_executor(),
                           [c = connection, r = std::move(response)]() mutable { c->respond(std::move(r)); });
            }
            std::shared_ptr<http_connection> connection;
            std::atomic<bool> answered{false};
        };
        auto state = std::make_shared<responder_state>(this->shared_from_this());
        http_responder responder = [state](http_response response) {
            if (!state->answered.exchange(true)) {
                state->post(std::move(response));
            }
        };
        try {
            shared_->handler(std::move(request), std::move(responder));
        } catch (const std::exception& e) {
            common::logger("net")->error("{}: HTTP handler threw: {}", listener_label(shared_->config),
                                         e.what());
            if (!state->answered.exchange(true)) {
                state->post({500, {}, "internal error\n"});
            }
        }
    }

    void write_error(unsigned status, std::string_view text) {
        keep_alive_ = false;
        head_ = false;
        version_ = 11;
        write_response({status, {{"Content-Type", "text/plain; charset=utf-8"}}, std::string(text) + "\n"},
                       true);
    }

    void write_response(http_response answer, bool force_close) {
        auto& response = response_;
        response = {};
        response.version(version_ == 10 ? 10 : 11);
        response.result(answer.status);
        for (auto& [name, value] : answer.headers) {
            if (beast::iequals(name, "content-length") || beast::iequals(name, "server")) {
                continue;
            }
            if (beast::iequals(name, "connection") && beast::iequals(value, "close")) {
                force_close = true;
                continue;
            }
            response.insert(name, value);
        }
        response.set(http::field::server, "tollgate");
        const bool close_after = force_close || !keep_alive_ || shared_->stopping;
        response.keep_alive(!close_after);
        response.content_length(answer.body.size());
        if (!head_) {
            response.body() = std::move(answer.body);
        }
        arm_timer();
        writing_ = true;
        http::async_write(
            stream_, response,
            [self = this->shared_from_this(), close_after](boost::system::error_code ec, std::size_t) {
                self->writing_ = false;
                if (ec) {
                    self->finish();
                    return;
                }
                if (close_after) {
                    self->shutdown();
                    return;
                }
                self->read_request();
            });
    }

    void shutdown() {
        if (closed_) {
            return;
        }
        if constexpr (is_tls) {
            arm_timer();
            stream_.async_shutdown(
                [self = this->shared_from_this()](boost::system::error_code) { self->finish(); });
        } else {
            // FIN, then read until the peer closes so that unread request bytes do not turn the
            // close into a reset that could destroy the response in flight.
            boost::system::error_code ignored;
            socket().shutdown(tcp::socket::shutdown_send, ignored);
            arm_timer();
            drain();
        }
    }

    void drain() {
        socket().async_read_some(asio::buffer(scratch_), [self = this->shared_from_this()](
                                                             boost::system::error_code ec, std::size_t) {
            if (ec || self->closed_) {
                self->finish();
                return;
            }
            self->drain();
        });
    }

    void finish() {
        if (closed_) {
            return;
        }
        closed_ = true;
        timer_.cancel();
        boost::system::error_code ignored;
        socket().close(ignored);
        slot_.release();
    }

    Stream stream_;
    asio::steady_timer timer_;
    std::shared_ptr<http_shared> shared_;
    slot_guard slot_;
    peer_info peer_;
    beast::flat_buffer buffer_;
    std::optional<http::request_parser<http::string_body>> parser_;
    std::optional<http::response<http::empty_body>> continue_response_;
    http::response<http::string_body> response_;
    std::uint64_t id_ = 0;
    unsigned version_ = 11;
    bool keep_alive_ = true;
    bool head_ = false;
    bool busy_ = false;
    bool writing_ = false;
    bool closed_ = false;
    std::array<char, 1024> scratch_{};
};

}  // namespace

void start_http_connection(std::shared_ptr<http_shared> shared, tcp::socket socket, unsigned /*worker*/,
                           slot_guard slot) {
    if (shared->tls) {
        std::make_shared<http_connection<tls_stream>>(std::move(shared), std::move(socket), std::move(slot))
            ->start();
    } else {
        std::make_shared<http_connection<tcp::socket>>(std::move(shared), std::move(socket), std::move(slot))
            ->start();
    }
}

}  // namespace tollgate::net::detail
