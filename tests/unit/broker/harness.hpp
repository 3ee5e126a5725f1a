#pragma once
// A deterministic harness for the broker: a manual clock, an executor whose posts queue up and run
// on demand in the test thread (several "workers"), fake transports that capture bytes, and test
// clients that build and parse packets with the real codec. No threads, no sleeps.
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <tollgate/broker/broker.hpp>
#include <tollgate/common/clock.hpp>
#include <tollgate/mqtt/mqtt.hpp>

namespace tollgate::broker::test {

/// Posts queue per worker; run_all() runs them (round robin, FIFO per worker) until none is left.
class test_executor final : public executor {
  public:
    explicit test_executor(unsigned workers) : queues_(workers) {}
    [[nodiscard]] unsigned worker_count() const override { return static_cast<unsigned>(queues_.size()); }
    void post(unsigned worker, std::function<void()> fn) override;
    /// Runs posted closures until every queue is empty; returns how many ran.
    std::size_t run_all();
    [[nodiscard]] std::size_t pending() const;

  private:
    mutable std::mutex mutex_;
    std::vector<std::deque<std::function<void()>>> queues_;
};

/// Captures what the broker sends; records close/abort/pause.
class fake_transport final : public transport {
  public:
    void send(common::shared_bytes bytes) override;
    void close() override { closed = true; }
    void abort() override { closed = aborted = true; }
    void pause_reading() override { paused = true; }
    void resume_reading() override { paused = false; }
    [[nodiscard]] std::size_t queued_bytes() const override { return held_bytes; }

    std::vector<std::uint8_t> out;
    bool closed = false;
    bool aborted = false;
    bool paused = false;
    std::size_t held_bytes = 0;  ///< what queued_bytes() reports (a client that stops reading)
    std::size_t sends = 0;
};

class broker_fixture;

/// One MQTT client on one worker, speaking through the codec.
class test_client {
  public:
    test_client(broker_fixture& f, unsigned worker, mqtt::protocol_version v);

    void send(const mqtt::packet& p);
    void send_raw(const std::vector<std::uint8_t>& bytes);
    /// Parses everything the broker sent since the last call into the inbox.
    void poll();
    /// Removes and returns the next packet received (after poll()); nullopt if none.
    std::optional<mqtt::packet> next();
    /// The next packet, which must be a T.
    template <typename T>
    T expect() {
        auto p = next();
        if (!p) {
            ADD_FAILURE() << "expected a packet, got nothing";
            return T{};
        }
        if (auto* t = std::get_if<T>(&*p)) {
            return std::move(*t);
        }
        ADD_FAILURE() << "unexpected packet type " << static_cast<int>(mqtt::type_of(*p));
        return T{};
    }
    /// Every PUBLISH in the inbox (others are left).
    std::vector<mqtt::publish> publishes();
    [[nodiscard]] bool inbox_empty();

    /// CONNECT and the CONNACK (settled).
    mqtt::connack connect(const std::string& client_id, bool clean_start = true, std::uint32_t expiry = 0,
                          std::uint16_t keep_alive = 0, std::optional<mqtt::will> will = std::nullopt);
    mqtt::connect make_connect(const std::string& client_id, bool clean_start = true,
                               std::uint32_t expiry = 0, std::uint16_t keep_alive = 0) const;
    mqtt::suback subscribe(const std::string& filter, std::uint8_t qos = 0, std::uint16_t packet_id = 1);
    void publish(const std::string& topic, const std::string& payload, std::uint8_t qos = 0,
                 std::uint16_t packet_id = 0, bool retain = false);
    void ack(const mqtt::publish& p);  ///< PUBACK or PUBREC+PUBCOMP flow step for a received message
    /// The network connection breaks (no DISCONNECT).
    void drop();

    [[nodiscard]] bool closed() const { return transport->closed; }

    broker_fixture& fixture;
    mqtt::protocol_version version;
    std::shared_ptr<fake_transport> transport;
    std::shared_ptr<connection> conn;

  private:
    mqtt::frame_reader reader_{268435460};
    std::size_t consumed_ = 0;
    std::deque<mqtt::packet> inbox_;
};

/// An authorizer that answers later, on demand, in the order asked (tests of verdict ordering).
class deferred_authorizer final : public authorizer {
  public:
    std::optional<verdict> check(const principal& who, action what, std::string_view topic_or_filter,
                                 std::uint8_t qos, bool retain, std::function<void(verdict)> done) override;
    struct pending {
        std::string topic;
        action what;
        std::function<void(verdict)> done;
    };
    std::vector<pending> asked;
    /// Topics/filters starting with this prefix are denied when answered with answer_all().
    std::string deny_prefix = "deny/";
    void answer_all();
};

class broker_fixture {
  public:
    explicit broker_fixture(unsigned workers = 2) : exec(workers) {}
    void start(authorizer* authz_override = nullptr, authenticator* authn_override = nullptr);
    test_client& client(unsigned worker, mqtt::protocol_version v = mqtt::protocol_version::v5);
    /// Runs every posted closure.
    void settle() { exec.run_all(); }
    /// Moves time forward in 100 ms ticks on every worker, settling in between.
    void advance(std::chrono::milliseconds by);

    common::manual_clock clock;
    test_executor exec;
    anonymous_authenticator authn;
    allow_all_authorizer authz;
    memory_persistence store;
    broker_config config;
    std::unique_ptr<broker> b;
    std::deque<test_client> clients;
};

mqtt::publish make_publish(const std::string& topic, const std::string& payload, std::uint8_t qos = 0,
                           std::uint16_t packet_id = 0, bool retain = false);
std::string payload_of(const mqtt::publish& p);

}  // namespace tollgate::broker::test
