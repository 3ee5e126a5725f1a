// mqtt_load: an MQTT load generator that runs the same load against any broker, so scripts/run-bench
// can put tollgate and Mosquitto side by side on the same machine.
//
//   mqtt_load --port 1883 --publishers 10 --subscribers 1 --qos 1 --messages 20000 --payload 64
//
// Scenarios (--topology):
//   fan-in   every publisher publishes to bench/<i>; every subscriber subscribes to bench/#
//   fan-out  every publisher publishes to bench/all; every subscriber subscribes to bench/all
//   pairs    publisher i publishes to bench/<i>; subscriber i subscribes to bench/<i>
// Each payload carries (publisher, sequence, send time), so the subscribers count loss, duplicates and
// latency. With --password-file (tokens, one per line) connection i sends line i modulo their count as
// its CONNECT password (publishers first, then subscribers), so the same load runs with token
// authentication and topic authorization on. Publishers keep up to --window QoS 1/2 messages in flight
// (bounded further by the broker's Receive Maximum). The run ends when every subscriber has everything it
// should get, or after
// --idle-timeout seconds without progress. Prints one JSON object.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <iostream>
#include <stdexcept>
#include <string>
#include <vector>

#include <boost/asio.hpp>

#include <tollgate/mqtt/codec.hpp>

#include "bench_support.hpp"
#include "mqtt_connection.hpp"

namespace asio = boost::asio;
namespace mqtt = tollgate::mqtt;
using asio::ip::tcp;
using std::chrono::steady_clock;

namespace {

struct options {
    tollgate::bench::connection_options conn;
    int publishers = 1;
    int subscribers = 1;
    int qos = 0;
    int messages = 10000;  // per publisher
    std::size_t payload = 64;
    int window = 100;
    int idle_timeout = 10;
    std::string topology = "fan-in";
    std::string username;                // CONNECT user name (e.g. "oauth2"); empty: none
    std::vector<std::string> passwords;  // --password-file: one per line (tokens)
};

std::string to_hex_byte(std::uint8_t b) {
    const char* digits = "0123456789abcdef";
    return {digits[b >> 4], digits[b & 15]};
}

struct stats {
    std::atomic<std::int64_t> sent{0};
    std::atomic<std::int64_t> acked{0};
    std::atomic<std::int64_t> received{0};
    std::atomic<std::int64_t> duplicates{0};
    std::atomic<std::int64_t> refused{0};
    std::vector<std::int64_t> latencies_us;  // subscriber thread only
    steady_clock::time_point last_progress = steady_clock::now();
};

template <typename Ack>
Ack ack_of(std::uint16_t packet_id) {
    Ack a;
    a.packet_id = packet_id;
    return a;
}

std::int64_t now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(steady_clock::now().time_since_epoch())
        .count();
}

// CONNECT as client_id with the credentials of connection `index`; throws unless accepted.
asio::awaitable<void> open(tollgate::bench::mqtt_connection& c, const options& o,
                           const std::string& client_id, int index) {
    mqtt::connect p;
    p.client_id = client_id;
    p.clean_start = true;
    p.keep_alive = 60;
    p.properties.receive_maximum = static_cast<std::uint16_t>(std::max(o.window, 1));
    if (!o.username.empty()) {
        p.username = o.username;
    }
    if (!o.passwords.empty()) {
        p.password = tollgate::common::shared_bytes::copy_of(
            o.passwords[static_cast<std::size_t>(index) % o.passwords.size()]);
    }
    auto ack = co_await c.connect(p);
    if (ack.reason_code != mqtt::reason_code::success) {
        throw std::runtime_error("CONNACK refused for " + client_id + " (reason 0x" +
                                 to_hex_byte(static_cast<std::uint8_t>(ack.reason_code)) + ")");
    }
}

std::string publisher_topic(const options& o, int i) {
    if (o.topology == "fan-out") {
        return "bench/all";
    }
    return "bench/" + std::to_string(i);
}

std::string subscriber_filter(const options& o, int i) {
    if (o.topology == "fan-in") {
        return "bench/#";
    }
    if (o.topology == "fan-out") {
        return "bench/all";
    }
    return "bench/" + std::to_string(i);
}

// How many messages subscriber i must receive.
std::int64_t expected_for(const options& o) {
    if (o.topology == "fan-in") {
        return static_cast<std::int64_t>(o.publishers) * o.messages;
    }
    return o.messages;
}

asio::awaitable<void> run_subscriber(asio::io_context& io, const options& o, int index, stats& st,
                                     std::vector<std::vector<std::uint8_t>>& seen, std::atomic<int>& ready,
                                     std::atomic<int>& done) {
    tollgate::bench::mqtt_connection c(io, o.conn);
    co_await open(c, o, "sub-" + std::to_string(index), o.publishers + index);
    mqtt::subscribe s;
    s.packet_id = 1;
    mqtt::subscription sub;
    sub.filter = subscriber_filter(o, index);
    sub.max_qos = static_cast<std::uint8_t>(o.qos);
    s.subscriptions.push_back(sub);
    c.queue(s);
    co_await c.flush();
    for (;;) {
        auto p = co_await c.receive();
        if (std::holds_alternative<mqtt::suback>(p)) {
            break;
        }
    }
    ++ready;
    const std::int64_t want = expected_for(o);
    std::int64_t got = 0;
    while (got < want) {
        auto p = co_await c.receive();
        if (auto* pub = std::get_if<mqtt::publish>(&p)) {
            if (pub->qos == 1) {
                c.queue(ack_of<mqtt::puback>(pub->packet_id));
            } else if (pub->qos == 2) {
                c.queue(ack_of<mqtt::pubrec>(pub->packet_id));
            }
            if (pub->payload.size() >= 16) {
                std::uint32_t from = 0;
                std::uint32_t seq = 0;
                std::int64_t t = 0;
                std::memcpy(&from, pub->payload.data(), 4);
                std::memcpy(&seq, pub->payload.data() + 4, 4);
                std::memcpy(&t, pub->payload.data() + 8, 8);
                auto& bits =
                    seen[static_cast<std::size_t>(index) * static_cast<std::size_t>(o.publishers) + from];
                if (seq < bits.size() && bits[seq] == 0) {
                    bits[seq] = 1;
                    ++got;
                    ++st.received;
                    st.latencies_us.push_back((now_ns() - t) / 1000);
                } else {
                    ++st.duplicates;
                }
                st.last_progress = steady_clock::now();
            }
        } else if (auto* rel = std::get_if<mqtt::pubrel>(&p)) {
            c.queue(ack_of<mqtt::pubcomp>(rel->packet_id));
        }
    }
    c.queue(mqtt::disconnect{});
    co_await c.flush();
    c.close();
    ++done;
}

asio::awaitable<void> run_publisher(asio::io_context& io, const options& o, int index, stats& st,
                                    std::atomic<int>& done) {
    tollgate::bench::mqtt_connection c(io, o.conn);
    co_await open(c, o, "pub-" + std::to_string(index), index);
    const std::string topic = publisher_topic(o, index);
    const int window = std::max(1, std::min(o.window, c.receive_maximum()));
    std::vector<std::uint8_t> body(std::max<std::size_t>(o.payload, 16), 0x5A);
    std::uint16_t next_id = 1;
    int inflight = 0;
    int seq = 0;
    while (seq < o.messages || inflight > 0) {
        // Fill the window (QoS 0: a batch of 64), then write it in one go.
        const int room = o.qos == 0 ? 64 : window - inflight;
        for (int k = 0; k < room && seq < o.messages; ++k, ++seq) {
            auto from = static_cast<std::uint32_t>(index);
            auto s = static_cast<std::uint32_t>(seq);
            std::int64_t t = now_ns();
            std::memcpy(body.data(), &from, 4);
            std::memcpy(body.data() + 4, &s, 4);
            std::memcpy(body.data() + 8, &t, 8);
            mqtt::publish p;
            p.topic = topic;
            p.qos = static_cast<std::uint8_t>(o.qos);
            p.payload = tollgate::common::shared_bytes::copy_of(std::span<const std::uint8_t>(body));
            if (o.qos > 0) {
                p.packet_id = next_id;
                next_id = static_cast<std::uint16_t>(next_id == 65535 ? 1 : next_id + 1);
                ++inflight;
            }
            c.queue(p);
            ++st.sent;
        }
        co_await c.flush();
        if (o.qos == 0) {
            continue;
        }
        // Wait for acknowledgements until at least half the window is free (or all, at the end).
        const int target = seq < o.messages ? window / 2 : 0;
        while (inflight > target) {
            auto p = co_await c.receive();
            if (auto* a = std::get_if<mqtt::puback>(&p)) {
                --inflight;
                (static_cast<std::uint8_t>(a->reason_code) < 0x80 ? st.acked : st.refused)++;
            } else if (auto* r = std::get_if<mqtt::pubrec>(&p)) {
                if (static_cast<std::uint8_t>(r->reason_code) >= 0x80) {
                    --inflight;
                    ++st.refused;
                } else {
                    c.queue(ack_of<mqtt::pubrel>(r->packet_id));
                }
            } else if (std::holds_alternative<mqtt::pubcomp>(p)) {
                --inflight;
                ++st.acked;
            }
        }
    }
    c.queue(mqtt::disconnect{});
    co_await c.flush();
    c.close();
    ++done;
}

int parse(int argc, char** argv, options& o) {
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto val = [&] { return tollgate::bench::option_value(argc, argv, i); };
        if (a == "--host") {
            o.conn.host = val();
        } else if (a == "--port") {
            o.conn.port = static_cast<std::uint16_t>(std::stoi(val()));
        } else if (a == "--username") {
            o.username = val();
        } else if (a == "--password-file") {
            o.passwords = tollgate::bench::read_lines(val(), "passwords");
        } else if (a == "--publishers") {
            o.publishers = std::stoi(val());
        } else if (a == "--subscribers") {
            o.subscribers = std::stoi(val());
        } else if (a == "--qos") {
            o.qos = std::stoi(val());
        } else if (a == "--messages") {
            o.messages = std::stoi(val());
        } else if (a == "--payload") {
            o.payload = std::stoul(val());
        } else if (a == "--window") {
            o.window = std::stoi(val());
        } else if (a == "--idle-timeout") {
            o.idle_timeout = std::stoi(val());
        } else if (a == "--topology") {
            o.topology = val();
        } else if (a == "--mqtt-version") {
            o.conn.version = val() == "3.1.1" ? mqtt::protocol_version::v311 : mqtt::protocol_version::v5;
        } else {
            std::cerr
                << "usage: mqtt_load [--host H] [--port P] [--publishers N] [--subscribers N] [--qos 0|1|2]\n"
                   "                 [--messages N per publisher] [--payload BYTES] [--window N]\n"
                   "                 [--topology fan-in|fan-out|pairs] [--mqtt-version 5|3.1.1] "
                   "[--idle-timeout S]\n"
                   "                 [--username NAME] [--password-file FILE (one per line, e.g. tokens)]\n";
            return 2;
        }
    }
    if (o.qos < 0 || o.qos > 2 || o.publishers < 1 || o.subscribers < 0 || o.messages < 1) {
        std::cerr << "mqtt_load: bad arguments\n";
        return 2;
    }
    if (o.topology == "pairs") {
        o.subscribers = o.publishers;
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    options o;
    if (int rc = tollgate::bench::guarded_parse("mqtt_load", [&] { return parse(argc, argv, o); }); rc != 0) {
        return rc;
    }
    asio::io_context io;
    stats st;
    std::vector<std::vector<std::uint8_t>> seen(
        static_cast<std::size_t>(o.subscribers) * static_cast<std::size_t>(o.publishers),
        std::vector<std::uint8_t>(static_cast<std::size_t>(o.messages), 0));
    std::atomic<int> subs_ready{0};
    std::atomic<int> subs_done{0};
    std::atomic<int> pubs_done{0};
    std::string failure;
    auto on_done = [&](const std::exception_ptr& e) {
        if (e) {
            try {
                std::rethrow_exception(e);
            } catch (const std::exception& ex) {
                failure = ex.what();
                io.stop();
            }
        }
    };
    for (int i = 0; i < o.subscribers; ++i) {
        asio::co_spawn(io, run_subscriber(io, o, i, st, seen, subs_ready, subs_done), on_done);
    }
    // Subscribers first: publishers start once every SUBACK arrived.
    while (subs_ready < o.subscribers && failure.empty() && !io.stopped()) {
        io.run_one();
    }
    const auto start = steady_clock::now();
    for (int i = 0; i < o.publishers; ++i) {
        asio::co_spawn(io, run_publisher(io, o, i, st, pubs_done), on_done);
    }
    st.last_progress = steady_clock::now();
    asio::steady_timer watchdog(io);
    std::function<void()> arm = [&] {
        watchdog.expires_after(std::chrono::milliseconds(200));
        watchdog.async_wait([&](boost::system::error_code ec) {
            if (ec) {
                return;
            }
            bool finished = subs_done == o.subscribers && pubs_done == o.publishers;
            if (finished || steady_clock::now() - st.last_progress > std::chrono::seconds(o.idle_timeout)) {
                io.stop();
                return;
            }
            arm();
        });
    };
    arm();
    io.run();
    // Timed up to the last message a subscriber received (not to when the watchdog noticed the end,
    // nor through the idle timeout of a run that stalled).
    const auto end = st.last_progress;
    const double seconds = std::max(1e-9, std::chrono::duration<double>(end - start).count());
    const auto lat = tollgate::bench::summarize(st.latencies_us);
    const std::int64_t expected = expected_for(o) * o.subscribers;
    std::cout << "{\"topology\":\"" << o.topology << "\",\"publishers\":" << o.publishers
              << ",\"subscribers\":" << o.subscribers << ",\"qos\":" << o.qos << ",\"payload\":" << o.payload
              << ",\"sent\":" << st.sent << ",\"acked\":" << st.acked << ",\"refused\":" << st.refused
              << ",\"expected\":" << expected << ",\"received\":" << st.received
              << ",\"lost\":" << (expected - st.received) << ",\"duplicates\":" << st.duplicates
              << ",\"seconds\":" << seconds
              << ",\"msgs_per_s\":" << static_cast<double>(st.received) / seconds << ",\"p50_us\":" << lat.p50
              << ",\"p99_us\":" << lat.p99 << ",\"error\":\"" << tollgate::bench::json_escape(failure)
              << "\"}" << std::endl;
    return failure.empty() && st.received == expected ? 0 : 1;
}
