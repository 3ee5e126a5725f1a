// Binding and the accept loop.
#include "listener.hpp"

#include <algorithm>
#include <stdexcept>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/post.hpp>

#include <tollgate/common/log.hpp>
#include <tollgate/net/io_pool_asio.hpp>

namespace tollgate::net::detail {

std::string listener_label(const listener_config& config) {
    return "listener '" + config.name + "'";
}

tcp::acceptor bind_listener(asio::io_context& context, const listener_config& config) {
    const std::string where = config.address + ":" + std::to_string(config.port);
    boost::system::error_code ec;
    tcp::endpoint endpoint;
    auto address = asio::ip::make_address(config.address, ec);
    if (!ec) {
        endpoint = tcp::endpoint(address, config.port);
    } else {
        asio::io_context resolver_context;
        tcp::resolver resolver(resolver_context);
        auto results = resolver.resolve(config.address, std::to_string(config.port),
                                        tcp::resolver::passive | tcp::resolver::numeric_service, ec);
        if (ec || results.empty()) {
            throw std::runtime_error(listener_label(config) + ": cannot resolve address '" + config.address +
                                     "': " + (ec ? ec.message() : std::string("no address")));
        }
        endpoint = results.begin()->endpoint();
    }
    tcp::acceptor acceptor(context);
    auto fail = [&](const char* step) {
        throw std::runtime_error(listener_label(config) + ": cannot " + step + " " + where + ": " +
                                 ec.message());
    };
    acceptor.open(endpoint.protocol(), ec);
    if (ec) {
        fail("open a socket for");
    }
    acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
    if (ec) {
        fail("set SO_REUSEADDR on");
    }
    if (endpoint.address().is_v6()) {
        acceptor.set_option(asio::ip::v6_only(true), ec);
    }
    acceptor.bind(endpoint, ec);
    if (ec) {
        fail("bind");
    }
    acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
        fail("listen on");
    }
    return acceptor;
}

accept_loop::accept_loop(io_pool& pool, tcp::acceptor acceptor,
                         std::shared_ptr<std::atomic<unsigned>> next_worker, accept_fn on_accept)
    : pool_(pool)
    , acceptor_(std::move(acceptor))
    , backoff_timer_(acceptor_.get_executor())
    , next_worker_(std::move(next_worker))
    , on_accept_(std::move(on_accept))
    , port_(acceptor_.local_endpoint().port()) {}

void accept_loop::start() {
    asio::post(acceptor_.get_executor(), [self = shared_from_this()] { self->accept(); });
}

void accept_loop::stop() {
    asio::dispatch(acceptor_.get_executor(), [self = shared_from_this()] {
        self->stopped_ = true;
        boost::system::error_code ignored;
        self->acceptor_.close(ignored);
        self->backoff_timer_.cancel();
    });
}

void accept_loop::accept() {
    if (stopped_) {
        return;
    }
    // The pending accept holds a socket of the acceptor's own io_context; the accepted descriptor
    // is then moved to the chosen worker's context. (Accepting straight into another worker's
    // context left, at shutdown, a pending operation owning a socket whose service had already been
    // destroyed with that context: undefined behaviour found by UBSan.)
    acceptor_.async_accept([self = shared_from_this()](boost::system::error_code ec, tcp::socket socket) {
        if (ec) {
            self->on_error(ec);
            return;
        }
        self->backoff_ = std::chrono::milliseconds(0);
        const unsigned worker =
            self->next_worker_->fetch_add(1, std::memory_order_relaxed) % self->pool_.size();
        boost::system::error_code move_ec;
        const auto protocol = socket.local_endpoint(move_ec).protocol();
        const auto fd = move_ec ? -1 : socket.release(move_ec);
        if (!move_ec && fd >= 0) {
            self->on_accept_(tcp::socket(io_context_of(self->pool_, worker), protocol, fd), worker);
        }
        self->accept();
    });
}

void accept_loop::on_error(const boost::system::error_code& ec) {
    if (stopped_ || ec == asio::error::operation_aborted || ec == asio::error::bad_descriptor) {
        return;
    }
    const bool resource_shortage = ec == asio::error::no_descriptors || ec == asio::error::no_buffer_space ||
                                   ec == asio::error::no_memory ||
                                   ec == boost::system::errc::too_many_files_open_in_system;
    if (!resource_shortage) {
        // A connection that died in the backlog (ECONNABORTED, EPROTO...): try the next one.
        accept();
        return;
    }
    backoff_ = std::clamp(backoff_ * 2, std::chrono::milliseconds(10), std::chrono::milliseconds(1000));
    common::logger("net")->warn("accept on port {} failed: {}; retrying in {} ms", port_, ec.message(),
                                backoff_.count());
    backoff_timer_.expires_after(backoff_);
    backoff_timer_.async_wait([self = shared_from_this()](boost::system::error_code wait_ec) {
        if (!wait_ec) {
            self->accept();
        }
    });
}

std::shared_ptr<accept_loop> make_accept_loop(io_pool& pool, const listener_config& config,
                                              std::shared_ptr<connection_slots> slots,
                                              std::shared_ptr<std::atomic<unsigned>> next_worker,
                                              connection_starter start_connection) {
    auto acceptor = bind_listener(io_context_of(pool, 0), config);
    auto on_accept = [&pool, label = listener_label(config), slots = std::move(slots),
                      start = std::make_shared<connection_starter>(std::move(start_connection))](
                         tcp::socket socket, unsigned worker) {
        if (!slots->try_acquire()) {
            common::logger("net")->warn("{}: max_connections ({}) reached, closing a new connection", label,
                                        slots->limit);
            boost::system::error_code ignored;
            socket.close(ignored);
            return;
        }
        asio::post(io_context_of(pool, worker),
                   [start, worker, socket = std::move(socket), slot = slot_guard(slots)]() mutable {
                       (*start)(std::move(socket), worker, std::move(slot));
                   });
    };
    return std::make_shared<accept_loop>(pool, std::move(acceptor), std::move(next_worker),
                                         std::move(on_accept));
}

}  // namespace tollgate::net::detail
