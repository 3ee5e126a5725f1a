// make_http_fetch: HTTP/1.1 over TCP or TLS with Boost.Beast, one connection per request, on an
// I/O thread owned by the client (see http_fetch.hpp for the contract).
//
// Design: `engine` owns the io_context, the TLS context and the thread; every request is an
// `exchange` object kept alive by its own completion handlers. One steady_timer per exchange bounds
// the whole exchange: when it fires, the resolver and the socket are cancelled/closed, so whatever
// step is pending completes with an error and the exchange finishes with "timed out". The engine
// tracks live exchanges (weak pointers) so that shutting the client down aborts them, each `done`
// still running exactly once, before the thread is joined.
#include <atomic>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>

#include <boost/asio/connect.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <tollgate/auth/http_fetch.hpp>
#include <tollgate/common/log.hpp>

namespace tollgate::auth {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

constexpr std::size_t max_header_bytes = 16 * 1024;

struct target {
    bool tls = false;
    std::string host;  ///< without brackets for IPv6 literals
    std::string port;
    std::string host_header;
    std::string path;  ///< origin-form: path and query
    bool host_is_ip = false;
};

/// Splits an absolute http(s) URL. Returns an error text, empty on success.
std::string parse_target(const std::string& url, bool allow_http, target& out) {
    auto parsed = boost::urls::parse_absolute_uri(url);
    if (!parsed) {
        return "invalid URL";
    }
    const auto& u = *parsed;
    if (u.scheme() == "https") {
        out.tls = true;
    } else if (u.scheme() == "http") {
        if (!allow_http) {
            return "plain http:// refused (allow_http is off)";
        }
        out.tls = false;
    } else {
        return "unsupported URL scheme (https:// only)";
    }
    if (u.has_userinfo()) {
        return "URL must not carry user information";
    }
    switch (u.host_type()) {
        case boost::urls::host_type::name:
            break;
        case boost::urls::host_type::ipv4:
        case boost::urls::host_type::ipv6:
            out.host_is_ip = true;
            break;
        default:
            return "URL needs a host name or an IP address";
    }
    out.host = u.host_address();  // decoded; IPv6 without brackets
    if (out.host.empty() || out.host.find_first_of(std::string_view("\0\r\n", 3)) != std::string::npos) {
        return "URL needs a host";
    }
    const bool explicit_port = u.has_port() && !u.port().empty();
    if (explicit_port && u.port_number() == 0) {
        return "invalid port";
    }
    out.port = explicit_port ? std::string(u.port()) : (out.tls ? "443" : "80");
    out.host_header = std::string(u.encoded_host_and_port());
    out.path = std::string(u.encoded_path());
    if (out.path.empty()) {
        out.path = "/";
    }
    if (u.has_query()) {
        out.path += "?" + std::string(u.encoded_query());
    }
    return {};
}

http_response failure(std::string why) {
    http_response r;
    r.error = std::move(why);
    return r;
}

std::string openssl_error_text() {
    std::string text;
    while (const unsigned long e = ERR_get_error()) {
        char buffer[256];
        ERR_error_string_n(e, buffer, sizeof buffer);
        if (!text.empty()) {
            text += "; ";
        }
        text += buffer;
    }
    return text.empty() ? "unknown OpenSSL error" : text;
}

struct engine;

class exchange : public std::enable_shared_from_this<exchange> {
  public:
    exchange(std::shared_ptr<engine> owner, http_request request, std::function<void(http_response)> done);
    void start();
    /// Ends the exchange with `why` unless it has already ended. I/O thread only.
    void abort(const std::string& why);

  private:
    void on_resolve(const error_code& ec, const tcp::resolver::results_type& results);
    void on_connect(const error_code& ec);
    void on_handshake(const error_code& ec);
    void send();
    void on_write(const error_code& ec);
    void on_read(const error_code& ec);
    void fail(const std::string& step, const error_code& ec);
    void finish(http_response response);
    tcp::socket& socket();

    std::shared_ptr<engine> owner_;
    http_request request_;
    std::function<void(http_response)> done_;
    target target_;
    tcp::resolver resolver_;
    asio::steady_timer deadline_;
    std::optional<tcp::socket> plain_;
    std::optional<asio::ssl::stream<tcp::socket>> secure_;
    beast::flat_buffer buffer_;
    http::request<http::string_body> out_;
    http::response_parser<http::string_body> parser_;
    bool timed_out_ = false;
    bool finished_ = false;
};

struct engine : std::enable_shared_from_this<engine> {
    explicit engine(const http_fetch_options& o)
        : options(o), tls(asio::ssl::context::tls_client), work(asio::make_work_guard(io)) {
        SSL_CTX* ctx = tls.native_handle();
        SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
        SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
        ERR_clear_error();
        if (options.ca_file.empty()) {
            if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
                throw std::runtime_error("http client: cannot load the system CA paths: " +
                                         openssl_error_text());
            }
        } else if (SSL_CTX_load_verify_locations(ctx, options.ca_file.c_str(), nullptr) != 1) {
            throw std::runtime_error("http client: cannot load CA file " + options.ca_file + ": " +
                                     openssl_error_text());
        }
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
    }

    void run() {
        for (;;) {
            try {
                io.run();
                return;
            } catch (const std::exception& e) {
                common::logger("auth")->error("http client: a completion handler threw: {}", e.what());
            }
        }
    }

    /// Stops accepting requests, aborts the live ones and lets the thread finish.
    void shutdown() {
        asio::post(io, [self = shared_from_this()] {
            self->closed = true;
            auto pending = std::move(self->live);  // abort() edits self->live
            self->live.clear();
            for (auto& weak : pending) {
                if (auto x = weak.lock()) {
                    x->abort("http client shut down");
                }
            }

            self->work.reset();
        });
    }

    http_fetch_options options;
    asio::io_context io;
    asio::ssl::context tls;
    asio::executor_work_guard<asio::io_context::executor_type> work;
    std::thread thread;
    bool closed = false;                      ///< I/O thread only
    std::list<std::weak_ptr<exchange>> live;  ///< I/O thread only; pruned as exchanges finish
};

exchange::exchange(std::shared_ptr<engine> owner, http_request request,
                   std::function<void(http_response)> done)
    : owner_(std::move(owner))
    , request_(std::move(request))
    , done_(std::move(done))
    , resolver_(owner_->io)
    , deadline_(owner_->io) {
    parser_.header_limit(max_header_bytes);
    parser_.body_limit(owner_->options.max_body_bytes);
}

tcp::socket& exchange::socket() {
    return secure_ ? secure_->next_layer() : *plain_;
}

void exchange::start() {
    if (owner_->closed) {
        finish(failure("http client shut down"));
        return;
    }
    if (request_.method != "GET" && request_.method != "POST") {
        finish(failure("unsupported method " + request_.method));
        return;
    }
    for (const auto& [name, value] : request_.headers) {
        if (name.empty() ||
            (name + value).find_first_of(std::string_view("\0\r\n", 3)) != std::string::npos) {
            finish(failure("invalid request header"));
            return;
        }
    }
    if (auto e = parse_target(request_.url, owner_->options.allow_http, target_); !e.empty()) {
        finish(failure(e));
        return;
    }
    owner_->live.push_back(weak_from_this());
    deadline_.expires_after(owner_->options.timeout);
    deadline_.async_wait([self = shared_from_this()](const error_code& ec) {
        if (!ec && !self->finished_) {
            self->timed_out_ = true;
            self->resolver_.cancel();
            error_code ignored;
            if (self->plain_ || self->secure_) {
                self->socket().close(ignored);
            }
        }
    });
    resolver_.async_resolve(
        target_.host, target_.port,
        [self = shared_from_this()](const error_code& ec, const tcp::resolver::results_type& r) {
            self->on_resolve(ec, r);
        });
}

void exchange::on_resolve(const error_code& ec, const tcp::resolver::results_type& results) {
    if (ec || finished_) {
        fail("resolve " + target_.host, ec);
        return;
    }
    if (target_.tls) {
        secure_.emplace(owner_->io, owner_->tls);
    } else {
        plain_.emplace(owner_->io);
    }
    // The condition stops the walk over the resolved endpoints once the deadline passed.
    asio::async_connect(
        socket(), results,
        [self = shared_from_this()](const error_code&, const tcp::endpoint&) { return !self->timed_out_; },
        [self = shared_from_this()](const error_code& e, const tcp::endpoint&) { self->on_connect(e); });
}

void exchange::on_connect(const error_code& ec) {
    if (ec || finished_ || timed_out_) {
        fail("connect to " + target_.host_header, ec);
        return;
    }
    if (!target_.tls) {
        send();
        return;
    }
    SSL* ssl = secure_->native_handle();
    // Host name (or IP address) verification against the certificate (RFC 6125), and SNI for names.
    if (target_.host_is_ip) {
        X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
        if (X509_VERIFY_PARAM_set1_ip_asc(param, target_.host.c_str()) != 1) {
            finish(failure("cannot verify IP address " + target_.host));
            return;
        }
    } else {
        if (SSL_set1_host(ssl, target_.host.c_str()) != 1 ||
            SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                     const_cast<char*>(target_.host.c_str())) != 1) {
            finish(failure("cannot set the TLS host name " + target_.host));
            return;
        }
        SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    }
    secure_->async_handshake(asio::ssl::stream_base::client,
                             [self = shared_from_this()](const error_code& e) { self->on_handshake(e); });
}

void exchange::on_handshake(const error_code& ec) {
    if (ec || finished_ || timed_out_) {
        const long verify = secure_ ? SSL_get_verify_result(secure_->native_handle()) : X509_V_OK;
        if (!timed_out_ && verify != X509_V_OK) {
            finish(failure("TLS handshake with " + target_.host_header +
                           ": certificate verification failed: " + X509_verify_cert_error_string(verify)));
            return;
        }
        fail("TLS handshake with " + target_.host_header, ec);
        return;
    }
    send();
}

void exchange::send() {
    out_.method(request_.method == "POST" ? http::verb::post : http::verb::get);
    out_.target(target_.path);
    out_.version(11);
    out_.set(http::field::host, target_.host_header);
    out_.set(http::field::user_agent, "tollgate");
    out_.set(http::field::accept, "application/json");
    out_.set(http::field::connection, "close");
    for (const auto& [name, value] : request_.headers) {
        out_.set(name, value);
    }
    out_.body() = std::move(request_.body);
    out_.prepare_payload();
    auto on_write = [self = shared_from_this()](const error_code& e, std::size_t) { self->on_write(e); };
    if (secure_) {
        http::async_write(*secure_, out_, std::move(on_write));
    } else {
        http::async_write(*plain_, out_, std::move(on_write));
    }
}

void exchange::on_write(const error_code& ec) {
    if (ec || finished_ || timed_out_) {
        fail("send request to " + target_.host_header, ec);
        return;
    }
    auto on_read = [self = shared_from_this()](const error_code& e, std::size_t) { self->on_read(e); };
    if (secure_) {
        http::async_read(*secure_, buffer_, parser_, std::move(on_read));
    } else {
        http::async_read(*plain_, buffer_, parser_, std::move(on_read));
    }
}

void exchange::on_read(const error_code& ec) {
    if (ec == http::error::body_limit) {
        finish(failure("response body larger than " + std::to_string(owner_->options.max_body_bytes) +
                       " bytes"));
        return;
    }
    if (ec == http::error::header_limit) {
        finish(failure("response header block too large"));
        return;
    }
    if (ec || finished_ || timed_out_ || !parser_.is_done()) {
        fail("read response from " + target_.host_header, ec);
        return;
    }
    auto& message = parser_.get();
    http_response response;
    response.status = static_cast<int>(message.result_int());
    response.content_type = std::string(message[http::field::content_type]);
    response.body = std::move(message.body());
    finish(std::move(response));
}

void exchange::fail(const std::string& step, const error_code& ec) {
    if (timed_out_) {
        finish(
            failure(step + ": timed out after " + std::to_string(owner_->options.timeout.count()) + " ms"));
    } else if (ec == asio::ssl::error::stream_truncated) {
        finish(failure(step + ": TLS stream truncated"));
    } else {
        finish(failure(step + ": " + (ec ? ec.message() : std::string("aborted"))));
    }
}

void exchange::abort(const std::string& why) {
    if (finished_) {
        return;
    }
    finish(failure(why));
}

void exchange::finish(http_response response) {
    if (finished_) {
        return;
    }
    finished_ = true;
    deadline_.cancel();
    resolver_.cancel();
    if (plain_ || secure_) {
        error_code ignored;
        socket().close(ignored);
    }
    owner_->live.remove_if([this](const std::weak_ptr<exchange>& w) {
        auto p = w.lock();
        return !p || p.get() == this;
    });
    auto done = std::move(done_);
    done_ = nullptr;
    if (done) {
        done(std::move(response));
    }
}

/// What the returned std::function holds: stops the engine when the last copy goes.
struct client_handle {
    explicit client_handle(std::shared_ptr<engine> p) : e(std::move(p)) {}
    client_handle(const client_handle&) = delete;
    client_handle& operator=(const client_handle&) = delete;
    std::shared_ptr<engine> e;
    ~client_handle() {
        e->shutdown();
        if (std::this_thread::get_id() == e->thread.get_id()) {
            e->thread.detach();  // destroyed from a completion handler: the thread ends on its own
        } else if (e->thread.joinable()) {
            e->thread.join();
        }
    }
};

}  // namespace

http_fetch make_http_fetch(const http_fetch_options& options) {
    auto e = std::make_shared<engine>(options);
    // The thread keeps the engine alive until io.run() returns (also when detached).
    e->thread = std::thread([keep = e] { keep->run(); });
    auto handle = std::make_shared<client_handle>(e);
    return [handle](http_request request, std::function<void(http_response)> done) {
        auto& eng = handle->e;
        auto x = std::make_shared<exchange>(eng, std::move(request), std::move(done));
        asio::post(eng->io, [x] { x->start(); });
    };
}

}  // namespace tollgate::auth
