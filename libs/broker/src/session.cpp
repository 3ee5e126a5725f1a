// Session life on a worker: disconnection, will delay, expiry, end, and hand-over between
// workers on takeover (session.hpp, worker.hpp).
#include <algorithm>
#include <utility>

#include "broker_impl.hpp"
#include "connection_impl.hpp"

namespace tollgate::broker {

void worker::session_disconnected(session& s, bool with_will) {
    s.handle->connected.store(false);
    s.conn = nullptr;
    s.awaiting_pubrel.expire(b.clock.steady_now() - b.config.awaiting_pubrel_timeout);
    if (!with_will) {
        s.will.reset();
    }
    const std::uint64_t id = s.id();
    if (s.will) {
        if (s.will->delay == 0 || s.expiry_interval == 0) {
            publish_will(s);
        } else {
            // Sent when the delay passes or the session ends, whichever is first [MQTT-3.1.3-9].
            const auto delay = std::chrono::seconds{std::min(s.will->delay, s.expiry_interval)};
            s.will_timer = wheel.schedule(b.clock.steady_now() + delay, [this, id] {
                if (session* x = find_session(id)) {
                    x->will_timer = 0;
                    publish_will(*x);
                }
            });
        }
    }
    if (s.expiry_interval == 0) {
        end_session(id);  // §3.1.2.11.2: expiry 0 ends the session with the connection
        return;
    }
    s.expiry_timer =
        wheel.schedule(b.clock.steady_now() + std::chrono::seconds{s.expiry_interval}, [this, id] {
            if (session* x = find_session(id)) {
                x->expiry_timer = 0;
                end_session(id);
            }
        });
}

void worker::end_session(std::uint64_t id) {
    session* s = find_session(id);
    if (s == nullptr) {
        return;
    }
    for (auto* timer : {&s->expiry_timer, &s->will_timer}) {
        if (*timer != 0) {
            wheel.cancel(*timer);
            *timer = 0;
        }
    }
    if (s->will) {
        publish_will(*s);  // the session ends before the will delay: publish now
    }
    auto h = s->handle;
    h->ended.store(true);
    remove_session_everywhere(id);
    b.registry.remove(h->client_id, id);
    if (s->expiry_interval > 0) {
        b.store.session_removed(h->client_id);
    }
    sessions.erase(id);
    h->queued.store(0);
    wake_all(*h);  // publishers paused on it retry and find it gone
    b.counters.sessions.fetch_sub(1, std::memory_order_relaxed);
}

void worker::publish_will(session& s) {
    if (!s.will) {
        return;
    }
    auto w = std::make_shared<will_state>(std::move(*s.will));
    s.will.reset();
    auto who = s.who;
    auto send = [w](worker& self) {
        auto msg = std::make_shared<message>(std::move(w->msg));
        if (w->message_expiry_interval) {
            msg->expires_at = self.b.clock.steady_now() + std::chrono::seconds{*w->message_expiry_interval};
        }
        if (msg->retain) {
            self.retain_everywhere(msg);
        }
        std::size_t matched = 0;
        self.route(msg, {}, matched, false);
    };
    if (!who || w->msg.topic.empty() || w->msg.topic.front() == '$') {
        // '$' topics are the server's ([MQTT-4.7.2]): a client cannot PUBLISH there (0x90, see
        // publish_in.cpp), so neither can its will, whatever its grants say.
        return;
    }
    // Wills go through the authorizer like any PUBLISH, at the time they are published.
    broker_impl* bp = &b;
    const unsigned i = index;
    auto now = b.authz.check(*who, action::publish, w->msg.topic, w->msg.qos, w->msg.retain,
                             [bp, i, send](verdict v) {
                                 if (v.allow) {
                                     bp->post(i, send);
                                 }
                             });
    if (now && now->allow) {
        send(*this);
    }
}

std::unique_ptr<session> worker::detach_session(std::uint64_t id) {
    auto it = sessions.find(id);
    if (it == sessions.end()) {
        return nullptr;
    }
    auto s = std::move(it->second);
    sessions.erase(it);
    for (auto* timer : {&s->expiry_timer, &s->will_timer}) {
        if (*timer != 0) {
            wheel.cancel(*timer);
            *timer = 0;
        }
    }
    return s;
}

namespace {

// Sessions restored from persistence carry no principal: they resume as before.
bool same_identity(const std::shared_ptr<const principal>& a, const std::shared_ptr<const principal>& b) {
    return !a || !b || (a->issuer == b->issuer && a->subject == b->subject);
}

}  // namespace

void worker::take_over(const std::shared_ptr<session_handle>& h, unsigned to_worker,
                       std::weak_ptr<mqtt_connection> requester, std::shared_ptr<const principal> who) {
    session* s = find_session(h->id);
    if (s == nullptr && h->worker.load() != index && !h->ended.load()) {
        const unsigned owner = h->worker.load();  // it moved meanwhile: follow it
        b.post(owner,
               [h, to_worker, requester, who](worker& w) { w.take_over(h, to_worker, requester, who); });
        return;
    }
    if (s != nullptr && b.config.resume_requires_same_subject && !same_identity(s->who, who)) {
        // Another identity asks for this client id: it gets a new session, the old state (authorized
        // for its owner only) is discarded as on a clean start [MQTT-3.1.2-4].
        if (s->conn != nullptr) {
            s->conn->kick(mqtt::reason_code::session_taken_over);  // [MQTT-3.1.4-3]
        }
        end_session(h->id);
        s = nullptr;
    }
    if (s != nullptr && s->conn != nullptr) {
        // [MQTT-3.1.4-3]: the existing connection is told 0x8E (v5) and closed. Its will follows
        // the usual rules; resuming the session below cancels a delayed one.
        s->conn->kick(mqtt::reason_code::session_taken_over);
        s = find_session(h->id);  // an expiry-0 session ended with its connection
    }
    if (s == nullptr) {
        b.post(to_worker, [requester](worker&) {
            if (auto c = requester.lock()) {
                c->resume_with(nullptr);
            }
        });
        return;
    }
    s->will.reset();  // resumed before the will delay: not sent [MQTT-3.1.3-9]
    auto moving = std::make_shared<std::unique_ptr<session>>(detach_session(h->id));
    b.post(to_worker, [moving, requester](worker& w) { w.adopt(std::move(*moving), requester); });
    h->worker.store(to_worker);  // after the post: deliveries that see the new owner arrive after it
}

void worker::adopt(std::unique_ptr<session> s, std::weak_ptr<mqtt_connection> requester) {
    session* raw = s.get();
    sessions.emplace(raw->id(), std::move(s));
    if (auto c = requester.lock(); c && c->waiting_for_session()) {
        c->resume_with(raw);  // may process further packets; `raw` is not touched afterwards
        return;
    }
    session_disconnected(*raw, false);  // the new connection went away meanwhile
}

void worker::kick_and_end(const std::shared_ptr<session_handle>& h) {
    session* s = find_session(h->id);
    if (s == nullptr) {
        if (h->worker.load() != index && !h->ended.load()) {
            b.post(h->worker.load(), [h](worker& w) { w.kick_and_end(h); });
        }
        return;
    }
    if (s->conn != nullptr) {
        s->conn->kick(mqtt::reason_code::session_taken_over);  // [MQTT-3.1.4-3]
    }
    end_session(h->id);  // clean start: the old session is discarded [MQTT-3.1.2-4]
}

}  // namespace tollgate::broker
