// http_server: listeners and accept loops for the HTTP/1.1 server.
#include <stdexcept>

#include <boost/asio/post.hpp>

#include <tollgate/common/log.hpp>
#include <tollgate/net/http_server.hpp>
#include <tollgate/net/io_pool_asio.hpp>

#include "http_connection.hpp"

namespace tollgate::net {

using detail::tcp;
namespace asio = boost::asio;

struct http_server::state {
    state(io_pool& p, std::vector<listener_config> c, http_handler h, http_limits l)
        : pool(p), configs(std::move(c)), handler(std::move(h)), limits(l) {}
    io_pool& pool;
    std::vector<listener_config> configs;
    http_handler handler;
    http_limits limits;
    std::shared_ptr<std::atomic<unsigned>> next_worker = std::make_shared<std::atomic<unsigned>>(0);
    mutable std::mutex mutex;  // guards the members below
    bool started = false;
    std::vector<std::shared_ptr<detail::http_shared>> listeners;
    std::vector<std::shared_ptr<detail::accept_loop>> loops;
    std::vector<bound_listener> bound;
};

http_server::http_server(io_pool& pool, std::vector<listener_config> listeners, http_handler handler,
                         http_limits limits)
    : state_(std::make_shared<state>(pool, std::move(listeners), std::move(handler), limits)) {}

http_server::~http_server() {
    stop();
}

void http_server::start() {
    std::lock_guard lock(state_->mutex);
    if (state_->started) {
        throw std::logic_error("http_server::start called twice");
    }
    if (!state_->handler) {
        throw std::invalid_argument("http_server: no handler");
    }
    std::vector<std::shared_ptr<detail::http_shared>> listeners;
    std::vector<std::shared_ptr<detail::accept_loop>> loops;
    std::vector<bound_listener> bound;
    for (const auto& config : state_->configs) {
        if (config.kind != transport_kind::tcp && config.kind != transport_kind::tls) {
            throw std::invalid_argument(detail::listener_label(config) +
                                        ": an HTTP listener must be tcp or tls, not " +
                                        std::string(to_string(config.kind)));
        }
        auto shared = std::make_shared<detail::http_shared>();
        shared->config = config;
        shared->handler = state_->handler;
        shared->limits = state_->limits;
        shared->slots = std::make_shared<detail::connection_slots>(config.max_connections);
        if (config.kind == transport_kind::tls) {
            shared->tls = detail::make_server_tls_context(config);
        }
        auto loop = detail::make_accept_loop(
            state_->pool, config, shared->slots, state_->next_worker,
            [shared](tcp::socket socket, unsigned worker, detail::slot_guard slot) {
                detail::start_http_connection(shared, std::move(socket), worker, std::move(slot));
            });
        bound.push_back(bound_listener{config.name, config.kind, config.address, loop->port()});
        listeners.push_back(std::move(shared));
        loops.push_back(std::move(loop));
    }
    for (const auto& loop : loops) {
        loop->start();
    }
    state_->listeners = std::move(listeners);
    state_->loops = std::move(loops);
    state_->bound = std::move(bound);
    state_->started = true;
    for (const auto& b : state_->bound) {
        common::logger("net")->info("HTTP listener '{}' ({}) on {}:{}", b.name, to_string(b.kind), b.address,
                                    b.port);
    }
}

std::vector<bound_listener> http_server::endpoints() const {
    std::lock_guard lock(state_->mutex);
    return state_->bound;
}

void http_server::stop() {
    std::lock_guard lock(state_->mutex);
    for (const auto& loop : state_->loops) {
        loop->stop();
    }
    for (const auto& listener : state_->listeners) {
        listener->stopping = true;
        std::vector<std::shared_ptr<detail::http_connection_base>> open;
        {
            std::lock_guard registry_lock(listener->registry_mutex);
            for (auto& [id, weak] : listener->registry) {
                if (auto c = weak.lock()) {
                    open.push_back(std::move(c));
                }
            }
        }
        for (auto& c : open) {
            c->stop_async();
        }
    }
}

std::size_t http_server::connection_count() const {
    std::lock_guard lock(state_->mutex);
    std::size_t total = 0;
    for (const auto& l : state_->listeners) {
        total += l->slots->count.load(std::memory_order_relaxed);
    }
    return total;
}

}  // namespace tollgate::net
