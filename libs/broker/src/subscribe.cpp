// SUBSCRIBE and UNSUBSCRIBE: per-filter checks, authorization (possibly asynchronous, answers
// gathered before the SUBACK), replication to every worker, retained messages per Retain Handling.
#include <algorithm>
#include <utility>

#include <tollgate/broker/error_mapping.hpp>
#include <tollgate/mqtt/topic.hpp>

#include "broker_impl.hpp"
#include "connection_impl.hpp"

namespace tollgate::broker {

namespace {

// The state of one SUBSCRIBE while its authorization verdicts come in.
struct subscribe_job {
    mqtt::subscribe packet;
    std::vector<mqtt::reason_code> codes;  ///< success = still to authorize / authorized
    std::vector<std::string> reasons;
    std::size_t waiting = 1;  ///< verdicts outstanding, +1 while the request loop runs
};

bool has_wildcard(std::string_view filter) {
    return filter.find_first_of("+#") != std::string_view::npos;
}

}  // namespace

void mqtt_connection::handle_subscribe(mqtt::subscribe s) {
    const auto& cfg = b_.config;
    if (!s.properties.subscription_identifiers.empty() && !cfg.subscription_identifier_available) {
        fail(mqtt::reason_code::subscription_identifiers_not_supported);  // §3.8.2.1.2: 0xA1
        return;
    }
    auto job = std::make_shared<subscribe_job>();
    job->codes.assign(s.subscriptions.size(), mqtt::reason_code::success);
    job->reasons.resize(s.subscriptions.size());
    std::size_t held = w_.subs.session_subscription_count(session_->id());
    for (std::size_t i = 0; i < s.subscriptions.size(); ++i) {
        const auto& sub = s.subscriptions[i];
        const auto shared = mqtt::parse_shared_subscription(sub.filter);
        const std::string_view plain = shared ? shared->filter : std::string_view{sub.filter};
        auto& code = job->codes[i];
        if (shared) {
            if (sub.no_local) {
                fail(mqtt::reason_code::protocol_error);  // [MQTT-3.8.3-4]
                return;
            }
            if (mqtt::check_shared_subscription(sub.filter) != mqtt::reason_code::success) {
                code = mqtt::reason_code::topic_filter_invalid;
                continue;
            }
            if (!cfg.shared_subscription_available) {
                code = mqtt::reason_code::shared_subscriptions_not_supported;
                continue;
            }
        }
        if (!mqtt::is_valid_topic_filter(plain) || mqtt::topic_levels(plain) > cfg.max_topic_levels) {
            code = mqtt::reason_code::topic_filter_invalid;
            continue;
        }
        if (!cfg.wildcard_subscription_available && has_wildcard(plain)) {
            code = mqtt::reason_code::wildcard_subscriptions_not_supported;
            continue;
        }
        if (held >= cfg.max_subscriptions_per_session) {
            bool replaces = false;
            for (const auto& [filter, opts] : w_.subs.subscriptions_of(session_->id())) {
                replaces = replaces || filter == sub.filter;
            }
            if (!replaces) {
                code = mqtt::reason_code::quota_exceeded;  // B2-39
                continue;
            }
        } else {
            ++held;
        }
        ++job->waiting;
        auto on_verdict = [job, i](mqtt_connection& c, const verdict& v) {
            if (!v.allow) {
                job->codes[i] = mqtt::reason_code::not_authorized;
                job->reasons[i] = v.reason;
            }
            if (--job->waiting == 0) {
                c.finish_subscribe(job->packet, std::move(job->codes), std::move(job->reasons));
            }
        };
        std::weak_ptr<mqtt_connection> weak = weak_from_this();
        broker_impl* b = &b_;
        const unsigned index = w_.index;
        auto now = b_.authz.check(*who_, action::subscribe, sub.filter, sub.max_qos, false,
                                  [weak, b, index, on_verdict](verdict v) {
                                      b->post(index, [weak, on_verdict, v = std::move(v)](worker&) {
                                          if (auto c = weak.lock(); c && !c->finished_) {
                                              on_verdict(*c, v);
                                          }
                                      });
                                  });
        if (now) {
            on_verdict(*this, *now);
        }
    }
    job->packet = std::move(s);
    if (--job->waiting == 0) {
        finish_subscribe(job->packet, std::move(job->codes), std::move(job->reasons));
    } else {
        block();  // later packets wait until every verdict is in
    }
}

void mqtt_connection::finish_subscribe(const mqtt::subscribe& s, std::vector<mqtt::reason_code> codes,
                                       std::vector<std::string> reasons) {
    const auto& cfg = b_.config;
    const std::uint32_t sub_id =
        s.properties.subscription_identifiers.empty() ? 0 : s.properties.subscription_identifiers.front();
    std::vector<std::pair<std::string, subscription_options>> retained_for;
    std::string reason_string;
    for (std::size_t i = 0; i < s.subscriptions.size(); ++i) {
        const auto& sub = s.subscriptions[i];
        if (codes[i] != mqtt::reason_code::success) {
            if (!reasons[i].empty()) {
                reason_string = reasons[i];
            }
            continue;
        }
        subscription_options opts;
        opts.max_qos = std::min(sub.max_qos, cfg.maximum_qos);
        opts.no_local = sub.no_local;
        opts.retain_as_published = sub.retain_as_published;
        opts.retain_handling = sub.retain_handling;
        opts.subscription_identifier = sub_id;
        const bool added = w_.subscribe_everywhere(sub.filter, session_->handle, opts);
        if (session_->expiry_interval > 0) {
            b_.store.subscription_added(client_id_, sub.filter, opts);
        }
        codes[i] = static_cast<mqtt::reason_code>(opts.max_qos);  // granted QoS (§3.9.3)
        const bool shared = mqtt::parse_shared_subscription(sub.filter).has_value();
        // [MQTT-3.3.1-9..11]: 0 send retained, 1 only for a new subscription, 2 never; never for
        // a shared subscription (§4.8.2).
        if (!shared && (sub.retain_handling == 0 || (sub.retain_handling == 1 && added))) {
            retained_for.emplace_back(sub.filter, opts);
        }
    }
    mqtt::suback ack;
    ack.packet_id = s.packet_id;
    ack.reason_codes = std::move(codes);  // the codec maps them for 3.1.1 (map_suback's rule)
    set_reason(ack.properties, reason_string);
    send_packet(ack);  // [MQTT-3.8.4-1]
    for (const auto& [filter, opts] : retained_for) {
        send_retained(filter, opts);
    }
    pump();
    unblock();
}

bool mqtt_connection::reauthorize_subscriptions() {
    if (session_ == nullptr || !who_) {
        return false;
    }
    auto filters = w_.subs.subscriptions_of(session_->id());
    if (filters.empty()) {
        return false;
    }
    // The session's subscriptions were authorized for an earlier principal (before a
    // re-authentication, or by the connection that created a resumed session): each is judged
    // again and the ones the current principal may not hold are removed, before the next packet
    // of the client is read (later ones wait, as for any pending verdict).
    struct job {
        std::size_t waiting = 1;
        bool blocked = false;
    };
    auto j = std::make_shared<job>();
    const std::uint64_t session_id = session_->id();
    auto drop = [session_id](mqtt_connection& c, const std::string& filter, const verdict& v) {
        if (v.allow || c.session_ == nullptr || c.session_->id() != session_id) {
            return;
        }
        if (c.w_.unsubscribe_everywhere(filter, session_id) && c.session_->expiry_interval > 0) {
            c.b_.store.subscription_removed(c.client_id_, filter);
        }
    };
    auto done_one = [j](mqtt_connection& c) {
        if (--j->waiting == 0 && j->blocked) {
            c.unblock();
        }
    };
    for (auto& entry : filters) {
        const std::string& filter = entry.first;
        ++j->waiting;
        std::weak_ptr<mqtt_connection> weak = weak_from_this();
        broker_impl* b = &b_;
        const unsigned index = w_.index;
        auto now =
            b_.authz.check(*who_, action::subscribe, filter, entry.second.max_qos, false,
                           [weak, b, index, filter, drop, done_one](verdict v) {
                               b->post(index, [weak, filter, drop, done_one, v = std::move(v)](worker&) {
                                   if (auto c = weak.lock(); c && !c->finished_) {
                                       drop(*c, filter, v);
                                       done_one(*c);
                                   }
                               });
                           });
        if (now) {
            drop(*this, filter, *now);
            --j->waiting;
        }
    }
    if (--j->waiting == 0) {
        return false;
    }
    j->blocked = true;
    block();
    return true;
}

void mqtt_connection::send_retained(const std::string& filter, const subscription_options& opts) {
    std::vector<std::shared_ptr<const message>> found;
    w_.retained.match(filter, b_.clock.steady_now(), found);
    for (auto& m : found) {
        outbound_message out;
        out.qos = std::min(m->qos, opts.max_qos);
        out.retain = true;  // retained because of a new subscription: RETAIN 1 [MQTT-3.3.1-8]
        if (opts.subscription_identifier != 0) {
            out.subscription_identifiers.push_back(opts.subscription_identifier);
        }
        out.msg = std::move(m);
        w_.enqueue_local(*session_, std::move(out));
    }
}

void mqtt_connection::handle_unsubscribe(const mqtt::unsubscribe& u) {
    mqtt::unsuback ack;
    ack.packet_id = u.packet_id;
    for (const auto& filter : u.filters) {
        const bool existed = w_.unsubscribe_everywhere(filter, session_->id());
        if (existed && session_->expiry_interval > 0) {
            b_.store.subscription_removed(client_id_, filter);
        }
        // §3.11.3: 0x11 when there was no such subscription.
        ack.reason_codes.push_back(existed ? mqtt::reason_code::success
                                           : mqtt::reason_code::no_subscription_existed);
    }
    send_packet(ack);  // [MQTT-3.10.4-4]
}

}  // namespace tollgate::broker
