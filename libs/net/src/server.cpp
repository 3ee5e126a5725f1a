// server: listeners and their accept loops for the byte-stream transports.
#include <mutex>
#include <stdexcept>

#include <boost/asio/post.hpp>

#include <tollgate/common/log.hpp>
#include <tollgate/net/io_pool_asio.hpp>
#include <tollgate/net/server.hpp>

#include "connection.hpp"

namespace tollgate::net {

using detail::tcp;
namespace asio = boost::asio;

struct server::state {
    state(io_pool& p, std::vector<listener_config> c, handler_factory f)
        : pool(p), configs(std::move(c)), factory(std::move(f)) {}
    io_pool& pool;
    std::vector<listener_config> configs;
    handler_factory factory;
    std::shared_ptr<std::atomic<unsigned>> next_worker = std::make_shared<std::atomic<unsigned>>(0);
    mutable std::mutex mutex;  // guards the members below
    bool started = false;
    std::vector<std::shared_ptr<detail::listener_shared>> listeners;
    std::vector<std::shared_ptr<detail::accept_loop>> loops;
    std::vector<bound_listener> bound;
};

namespace {

using start_fn = void (*)(std::shared_ptr<detail::listener_shared>, tcp::socket, unsigned,
                          detail::slot_guard);

start_fn starter_for(transport_kind kind) {
    switch (kind) {
        case transport_kind::tcp:
            return &detail::start_tcp_connection;
        case transport_kind::tls:
            return &detail::start_tls_connection;
        case transport_kind::ws:
            return &detail::start_ws_connection;
        case transport_kind::wss:
            return &detail::start_wss_connection;
    }
    return &detail::start_tcp_connection;
}

}  // namespace

server::server(io_pool& pool, std::vector<listener_config> listeners, handler_factory factory)
    : state_(std::make_shared<state>(pool, std::move(listeners), std::move(factory))) {}

server::~server() {
    stop_accepting();
    if (state_->pool.running()) {
        return;  // connections go on; they end with their peers or with the pool
    }
    // No worker runs: release every handler now, while what it refers to (the broker) still exists,
    // rather than when the pool destroys the pending operations that hold the connections.
    std::vector<std::shared_ptr<detail::registered_connection>> open;
    {
        std::lock_guard lock(state_->mutex);
        for (const auto& listener : state_->listeners) {
            std::lock_guard registry_lock(listener->registry_mutex);
            for (const auto& [key, weak] : listener->registry) {
                if (auto c = weak.lock()) {
                    open.push_back(std::move(c));
                }
            }
        }
    }
    for (const auto& c : open) {
        c->detach();
    }
}

void server::start() {
    std::lock_guard lock(state_->mutex);
    if (state_->started) {
        throw std::logic_error("server::start called twice");
    }
    if (!state_->factory) {
        throw std::invalid_argument("server: no handler factory");
    }
    std::vector<std::shared_ptr<detail::listener_shared>> listeners;
    std::vector<std::shared_ptr<detail::accept_loop>> loops;
    std::vector<bound_listener> bound;
    for (const auto& config : state_->configs) {
        auto shared = std::make_shared<detail::listener_shared>();
        shared->config = config;
        shared->factory = state_->factory;
        shared->slots = std::make_shared<detail::connection_slots>(config.max_connections);
        if (config.kind == transport_kind::tls || config.kind == transport_kind::wss) {
            shared->tls = detail::make_server_tls_context(config);
        }
        const start_fn starter = starter_for(config.kind);
        auto loop = detail::make_accept_loop(
            state_->pool, config, shared->slots, state_->next_worker,
            [shared, starter](tcp::socket socket, unsigned worker, detail::slot_guard slot) {
                starter(shared, std::move(socket), worker, std::move(slot));
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
        common::logger("net")->info("listener '{}' ({}) on {}:{}", b.name, to_string(b.kind), b.address,
                                    b.port);
    }
}

std::vector<bound_listener> server::endpoints() const {
    std::lock_guard lock(state_->mutex);
    return state_->bound;
}

void server::stop_accepting() {
    std::lock_guard lock(state_->mutex);
    for (const auto& loop : state_->loops) {
        loop->stop();
    }
}

std::vector<server::tls_reload> server::reload_tls() {
    std::vector<std::shared_ptr<detail::listener_shared>> listeners;
    {
        std::lock_guard lock(state_->mutex);
        listeners = state_->listeners;
    }
    std::vector<tls_reload> out;
    for (const auto& l : listeners) {
        if (!l->tls_context()) {
            continue;
        }
        tls_reload r;
        r.listener = l->config.name;
        try {
            auto fresh = detail::make_server_tls_context(l->config);
            r.certificate = detail::certificate_fingerprint(*fresh);
            std::lock_guard lock(l->tls_mutex);
            r.changed = detail::certificate_fingerprint(*l->tls) != r.certificate;
            l->tls = std::move(fresh);
            r.ok = true;
        } catch (const std::exception& e) {
            r.error = e.what();
        }
        out.push_back(std::move(r));
    }
    return out;
}

std::size_t server::connection_count() const {
    std::lock_guard lock(state_->mutex);
    std::size_t total = 0;
    for (const auto& l : state_->listeners) {
        total += l->slots->count.load(std::memory_order_relaxed);
    }
    return total;
}

}  // namespace tollgate::net
