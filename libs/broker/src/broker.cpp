// The broker facade: construction and restore, accept, tick, shutdown, revocation, stats.
#include <functional>
#include <stdexcept>
#include <utility>

#include "broker_impl.hpp"
#include "connection_impl.hpp"

namespace tollgate::broker {

broker_impl::broker_impl(broker_config c, executor& e, const common::clock& k, authenticator& an,
                         authorizer& az, persistence& p)
    : config(std::move(c)), exec(e), clock(k), authn(an), authz(az), store(p) {
    // The codec never checks UTF-8 of a payload itself beyond Payload Format Indicator 1, which
    // it answers with payload_format_invalid: DISCONNECT 0x99 (§3.3.2.3.2 allows PUBACK or DISCONNECT).
    limits.max_user_properties = config.max_user_properties;
    limits.max_user_property_bytes = config.max_user_property_bytes;
    limits.validate_payload_format = true;
}

void broker_impl::post(unsigned i, std::function<void(worker&)> fn) {
    worker* w = workers[i % workers.size()].get();
    exec.post(w->index, [w, fn = std::move(fn)] { fn(*w); });
}

void broker_impl::post_others(unsigned except, const std::function<void(worker&)>& fn) {
    for (unsigned i = 0; i < workers.size(); ++i) {
        if (i != except) {
            post(i, fn);
        }
    }
}

struct broker::impl : broker_impl {
    using broker_impl::broker_impl;
};

namespace {

void restore_state(broker_impl& b) {
    persistence_snapshot snap = b.store.restore();
    for (auto& w : b.workers) {
        for (const auto& m : snap.retained) {
            w->retained.set(m);
        }
    }
    b.counters.retained.store(b.workers[0]->retained.size());
    for (auto& rec : snap.sessions) {
        if (rec.expiry_interval == 0) {
            continue;
        }
        const auto owner = static_cast<unsigned>(std::hash<std::string>{}(rec.client_id) % b.workers.size());
        auto h = std::make_shared<session_handle>(b.new_session_id(), rec.client_id, owner);
        b.registry.insert(h);
        for (auto& w : b.workers) {
            for (const auto& [filter, opts] : rec.subscriptions) {
                w->subs.subscribe(filter, h, opts);
            }
        }
        auto s = std::make_unique<session>(h, rec.version,
                                           std::min(rec.expiry_interval, b.config.max_session_expiry));
        session* raw = s.get();
        worker& w = *b.workers[owner];
        w.sessions.emplace(h->id, std::move(s));
        b.counters.sessions.fetch_add(1);
        w.session_disconnected(*raw, false);  // arms its expiry timer
    }
}

}  // namespace

broker::broker(broker_config config, executor& exec, const common::clock& clock, authenticator& authn,
               authorizer& authz, persistence& store) {
    if (auto bad = config.validate()) {
        throw std::invalid_argument("broker configuration: " + *bad);
    }
    impl_ = std::make_unique<impl>(std::move(config), exec, clock, authn, authz, store);
    const unsigned n = std::max(1U, exec.worker_count());
    for (unsigned i = 0; i < n; ++i) {
        impl_->workers.push_back(std::make_unique<worker>(*impl_, i));
    }
    restore_state(*impl_);
}

broker::~broker() = default;

std::shared_ptr<connection> broker::accept(unsigned worker_index, std::shared_ptr<transport> t,
                                           connection_info info) {
    worker& w = impl_->at(worker_index % impl_->workers.size());
    const std::uint64_t id = impl_->next_connection_id.fetch_add(1);
    auto c = std::make_shared<mqtt_connection>(*impl_, w, id, std::move(t), std::move(info));
    w.connections.emplace(id, c);
    impl_->counters.connections.fetch_add(1, std::memory_order_relaxed);
    c->start();
    if (impl_->shutting_down.load()) {
        c->kick(mqtt::reason_code::server_shutting_down);
    }
    return c;
}

void broker::tick(unsigned worker_index) {
    worker& w = impl_->at(worker_index % impl_->workers.size());
    const auto now = impl_->clock.steady_now();
    w.wheel.advance(now);
    w.retained.purge_expired(now);
}

namespace {

template <typename Fn>
void for_each_connection(worker& w, Fn fn) {
    std::vector<std::shared_ptr<mqtt_connection>> live;
    for (auto& [id, weak] : w.connections) {
        if (auto c = weak.lock()) {
            live.push_back(std::move(c));
        }
    }
    for (auto& c : live) {
        fn(*c);
    }
}

}  // namespace

void broker::begin_shutdown(std::function<void()> done) {
    impl_->shutting_down.store(true);
    auto remaining = std::make_shared<std::atomic<unsigned>>(static_cast<unsigned>(impl_->workers.size()));
    auto finished = std::make_shared<std::function<void()>>(std::move(done));
    for (unsigned i = 0; i < impl_->workers.size(); ++i) {
        impl_->post(i, [remaining, finished](worker& w) {
            w.shutting_down = true;
            // MQTT 5 clients are told 0x8B, 3.1.1 ones are closed; transports flush, then close.
            for_each_connection(w,
                                [](mqtt_connection& c) { c.kick(mqtt::reason_code::server_shutting_down); });
            if (remaining->fetch_sub(1) == 1 && *finished) {
                (*finished)();
            }
        });
    }
}

void broker::end_sessions(std::function<bool(const principal&)> match, mqtt::reason_code reason,
                          std::string reason_string) {
    auto shared_match = std::make_shared<std::function<bool(const principal&)>>(std::move(match));
    for (unsigned i = 0; i < impl_->workers.size(); ++i) {
        impl_->post(i, [shared_match, reason, reason_string](worker& w) {
            for_each_connection(w, [&](mqtt_connection& c) {
                if (c.is_connected() && c.who() && (*shared_match)(*c.who())) {
                    // The credential that authorized the session was withdrawn: its will is not
                    // published on that authority (as at token expiry, docs/auth.md).
                    c.kick(reason, reason_string, false);
                }
            });
        });
    }
}

broker_stats broker::stats() const {
    const auto& k = impl_->counters;
    broker_stats s;
    s.connections = k.connections.load(std::memory_order_relaxed);
    s.sessions = k.sessions.load(std::memory_order_relaxed);
    s.messages_received = k.messages_received.load(std::memory_order_relaxed);
    s.messages_sent = k.messages_sent.load(std::memory_order_relaxed);
    s.dropped_queue_full = k.dropped_queue_full.load(std::memory_order_relaxed);
    s.dropped_too_large = k.dropped_too_large.load(std::memory_order_relaxed);
    s.dropped_expired = k.dropped_expired.load(std::memory_order_relaxed);
    s.publishers_paused = k.publishers_paused.load(std::memory_order_relaxed);
    s.retained = k.retained.load(std::memory_order_relaxed);
    return s;
}

}  // namespace tollgate::broker
