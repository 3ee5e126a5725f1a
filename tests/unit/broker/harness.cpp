#include "harness.hpp"

#include <utility>
#include <variant>

namespace tollgate::broker::test {

void test_executor::post(unsigned worker, std::function<void()> fn) {
    std::lock_guard<std::mutex> lock(mutex_);
    queues_.at(worker).push_back(std::move(fn));
}

std::size_t test_executor::run_all() {
    std::size_t ran = 0;
    for (;;) {
        bool any = false;
        for (unsigned w = 0; w < queues_.size(); ++w) {
            std::function<void()> fn;
            {
                std::lock_guard<std::mutex> lock(mutex_);
                if (queues_[w].empty()) {
                    continue;
                }
                fn = std::move(queues_[w].front());
                queues_[w].pop_front();
            }
            fn();
            any = true;
            ++ran;
        }
        if (!any || ran > 10'000'000) {
            return ran;
        }
    }
}

std::size_t test_executor::pending() const {
    std::lock_guard<std::mutex> lock(mutex_);
    std::size_t n = 0;
    for (const auto& q : queues_) {
        n += q.size();
    }
    return n;
}

void fake_transport::send(common::shared_bytes bytes) {
    ++sends;
    if (!closed) {
        out.insert(out.end(), bytes.data(), bytes.data() + bytes.size());
    }
}

test_client::test_client(broker_fixture& f, unsigned worker, mqtt::protocol_version v)
    : fixture(f), version(v), transport(std::make_shared<fake_transport>()) {
    connection_info info;
    info.listener = "test";
    info.transport = "tcp";
    info.remote_address = "127.0.0.1";
    conn = f.b->accept(worker, transport, info);
}

void test_client::send(const mqtt::packet& p) {
    std::vector<std::uint8_t> bytes;
    mqtt::encode(p, version, bytes);
    send_raw(bytes);
}

void test_client::send_raw(const std::vector<std::uint8_t>& bytes) {
    conn->on_bytes(bytes);
    fixture.settle();
}

void test_client::poll() {
    if (transport->out.size() > consumed_) {
        reader_.feed(std::span<const std::uint8_t>(transport->out).subspan(consumed_));
        consumed_ = transport->out.size();
    }
    for (;;) {
        auto r = reader_.next();
        if (auto* f = std::get_if<mqtt::frame>(&r)) {
            auto d = mqtt::decode(version, *f);
            if (auto* p = std::get_if<mqtt::packet>(&d)) {
                inbox_.push_back(std::move(*p));
            } else {
                ADD_FAILURE() << "broker sent an undecodable packet: "
                              << std::get<mqtt::decode_error>(d).message;
            }
            continue;
        }
        if (std::holds_alternative<mqtt::decode_error>(r)) {
            ADD_FAILURE() << "broker sent a malformed frame";
        }
        return;
    }
}

std::optional<mqtt::packet> test_client::next() {
    poll();
    if (inbox_.empty()) {
        return std::nullopt;
    }
    auto p = std::move(inbox_.front());
    inbox_.pop_front();
    return p;
}

std::vector<mqtt::publish> test_client::publishes() {
    poll();
    std::vector<mqtt::publish> out;
    std::deque<mqtt::packet> rest;
    for (auto& p : inbox_) {
        if (auto* pub = std::get_if<mqtt::publish>(&p)) {
            out.push_back(std::move(*pub));
        } else {
            rest.push_back(std::move(p));
        }
    }
    inbox_ = std::move(rest);
    return out;
}

bool test_client::inbox_empty() {
    poll();
    return inbox_.empty();
}

mqtt::connect test_client::make_connect(const std::string& client_id, bool clean_start, std::uint32_t expiry,
                                        std::uint16_t keep_alive) const {
    mqtt::connect c;
    c.protocol_version = version;
    c.client_id = client_id;
    c.clean_start = clean_start;
    c.keep_alive = keep_alive;
    if (version == mqtt::protocol_version::v5 && expiry != 0) {
        c.properties.session_expiry_interval = expiry;
    }
    return c;
}

mqtt::connack test_client::connect(const std::string& client_id, bool clean_start, std::uint32_t expiry,
                                   std::uint16_t keep_alive, std::optional<mqtt::will> will) {
    auto c = make_connect(client_id, clean_start, expiry, keep_alive);
    c.will = std::move(will);
    send(c);
    return expect<mqtt::connack>();
}

mqtt::suback test_client::subscribe(const std::string& filter, std::uint8_t qos, std::uint16_t packet_id) {
    mqtt::subscribe s;
    s.packet_id = packet_id;
    s.subscriptions.push_back(mqtt::subscription{filter, qos, false, false, 0});
    send(s);
    return expect<mqtt::suback>();
}

void test_client::publish(const std::string& topic, const std::string& payload, std::uint8_t qos,
                          std::uint16_t packet_id, bool retain) {
    send(make_publish(topic, payload, qos, packet_id, retain));
}

void test_client::ack(const mqtt::publish& p) {
    if (p.qos == 1) {
        mqtt::puback a;
        a.packet_id = p.packet_id;
        send(a);
    } else if (p.qos == 2) {
        mqtt::pubrec r;
        r.packet_id = p.packet_id;
        send(r);
        auto rel = expect<mqtt::pubrel>();
        mqtt::pubcomp c;
        c.packet_id = rel.packet_id;
        send(c);
    }
}

void test_client::drop() {
    transport->closed = true;
    conn->on_closed();
    fixture.settle();
}

std::optional<verdict> deferred_authorizer::check(const principal&, action what,
                                                  std::string_view topic_or_filter, std::uint8_t, bool,
                                                  std::function<void(verdict)> done) {
    asked.push_back(pending{std::string(topic_or_filter), what, std::move(done)});
    return std::nullopt;
}

void deferred_authorizer::answer_all() {
    auto now = std::move(asked);
    asked.clear();
    for (auto& p : now) {
        const bool deny = p.topic.rfind(deny_prefix, 0) == 0;
        p.done(verdict{!deny, "test", deny ? "denied by test" : ""});
    }
}

void broker_fixture::start(authorizer* authz_override, authenticator* authn_override) {
    b = std::make_unique<broker>(config, exec, clock, authn_override ? *authn_override : authn,
                                 authz_override ? *authz_override : authz, store);
}

test_client& broker_fixture::client(unsigned worker, mqtt::protocol_version v) {
    clients.emplace_back(*this, worker, v);
    return clients.back();
}

void broker_fixture::advance(std::chrono::milliseconds by) {
    const auto step = std::chrono::milliseconds{100};
    while (by.count() > 0) {
        const auto d = std::min(by, step);
        clock.advance(d);
        by -= d;
        for (unsigned w = 0; w < exec.worker_count(); ++w) {
            b->tick(w);
        }
        settle();
    }
}

mqtt::publish make_publish(const std::string& topic, const std::string& payload, std::uint8_t qos,
                           std::uint16_t packet_id, bool retain) {
    mqtt::publish p;
    p.topic = topic;
    p.payload = common::shared_bytes::copy_of(payload);
    p.qos = qos;
    p.packet_id = packet_id;
    p.retain = retain;
    return p;
}

std::string payload_of(const mqtt::publish& p) {
    return p.payload.to_string();
}

}  // namespace tollgate::broker::test
