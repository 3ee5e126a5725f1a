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
// latency. Publishers keep up to --window QoS 1/2 messages in flight (bounded further by the broker's
// Receive Maximum). The run ends when every subscriber has everything it should get, or after
// --idle-timeout seconds without progress. Prints one JSON object.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include <boost/asio.hpp>

#include <tollgate/mqtt/codec.hpp>

namespace asio = boost::asio;
namespace mqtt = tollgate::mqtt;
using asio::ip::tcp;
using std::chrono::steady_clock;

namespace {

struct options {
    std::string host = "127.0.0.1";
    std::uint16_t port = 1883;
    int publishers = 1;
    int subscribers = 1;
    int qos = 0;
    int messages = 10000;  // per publisher
    std::size_t payload = 64;
    int window = 100;
    int idle_timeout = 10;
    std::string topology = "fan-in";
    mqtt::protocol_version version = mqtt::protocol_version::v5;
};

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

// One MQTT connection: encode/decode through the codec, reads framed by frame_reader.
class connection {
  public:
    connection(asio::io_context& io, const options& o) : socket_(io), opts_(o), reader_(268435455) {}

    asio::awaitable<void> open(const std::string& client_id) {
        tcp::resolver resolver(socket_.get_executor());
        auto endpoints =
            co_await resolver.async_resolve(opts_.host, std::to_string(opts_.port), asio::use_awaitable);
        co_await asio::async_connect(socket_, endpoints, asio::use_awaitable);
        socket_.set_option(tcp::no_delay(true));
        mqtt::connect c;
        c.client_id = client_id;
        c.clean_start = true;
        c.keep_alive = 60;
        c.properties.receive_maximum = static_cast<std::uint16_t>(std::max(opts_.window, 1));
        queue(c);
        co_await flush();
        auto p = co_await receive();
        const auto* ack = std::get_if<mqtt::connack>(&p);
        if (ack == nullptr || ack->reason_code != mqtt::reason_code::success) {
            throw std::runtime_error("CONNACK refused for " + client_id);
        }
        if (ack->properties.receive_maximum) {
            server_receive_maximum_ = *ack->properties.receive_maximum;
        }
    }

    void queue(const mqtt::packet& p) { mqtt::encode(p, opts_.version, out_); }

    asio::awaitable<void> flush() {
        if (out_.empty()) {
            co_return;
        }
        std::vector<std::uint8_t> buf;
        buf.swap(out_);
        co_await asio::async_write(socket_, asio::buffer(buf), asio::use_awaitable);
    }

    asio::awaitable<mqtt::packet> receive() {
        for (;;) {
            auto next = reader_.next();
            if (auto* f = std::get_if<mqtt::frame>(&next)) {
                auto decoded = mqtt::decode(opts_.version, *f);
                if (auto* p = std::get_if<mqtt::packet>(&decoded)) {
                    co_return std::move(*p);
                }
                throw std::runtime_error("undecodable packet from broker: " +
                                         std::get<mqtt::decode_error>(decoded).message);
            }
            if (auto* e = std::get_if<mqtt::decode_error>(&next)) {
                throw std::runtime_error("bad frame from broker: " + e->message);
            }
            co_await flush();  // acknowledgements go out in one write, just before we block on a read
            std::size_t n = co_await socket_.async_read_some(asio::buffer(read_buf_), asio::use_awaitable);
            reader_.feed(std::span(read_buf_.data(), n));
        }
    }

    void close() {
        boost::system::error_code ignored;
        socket_.close(ignored);
    }
    [[nodiscard]] int receive_maximum() const { return server_receive_maximum_; }

  private:
    tcp::socket socket_;
    const options& opts_;
    mqtt::frame_reader reader_;
    std::vector<std::uint8_t> out_;
    std::array<std::uint8_t, 65536> read_buf_{};
    int server_receive_maximum_ = 65535;
};

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
    connection c(io, o);
    co_await c.open("sub-" + std::to_string(index));
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
    connection c(io, o);
    co_await c.open("pub-" + std::to_string(index));
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
        std::string a = argv[i];
        auto val = [&]() -> std::string {
            if (i + 1 >= argc) {
                throw std::invalid_argument(a + " needs a value");
            }
            return argv[++i];
        };
        if (a == "--host") {
            o.host = val();
        } else if (a == "--port") {
            o.port = static_cast<std::uint16_t>(std::stoi(val()));
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
            o.version = val() == "3.1.1" ? mqtt::protocol_version::v311 : mqtt::protocol_version::v5;
        } else {
            std::cerr
                << "usage: mqtt_load [--host H] [--port P] [--publishers N] [--subscribers N] [--qos 0|1|2]\n"
                   "                 [--messages N per publisher] [--payload BYTES] [--window N]\n"
                   "                 [--topology fan-in|fan-out|pairs] [--mqtt-version 5|3.1.1] "
                   "[--idle-timeout S]\n";
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
    if (int rc = parse(argc, argv, o); rc != 0) {
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
    auto& lat = st.latencies_us;
    std::sort(lat.begin(), lat.end());
    auto pct = [&](double p) -> std::int64_t {
        return lat.empty() ? 0
                           : lat[std::min(lat.size() - 1,
                                          static_cast<std::size_t>(p * static_cast<double>(lat.size())))];
    };
    const std::int64_t expected = expected_for(o) * o.subscribers;
    std::cout << "{\"topology\":\"" << o.topology << "\",\"publishers\":" << o.publishers
              << ",\"subscribers\":" << o.subscribers << ",\"qos\":" << o.qos << ",\"payload\":" << o.payload
              << ",\"sent\":" << st.sent << ",\"acked\":" << st.acked << ",\"refused\":" << st.refused
              << ",\"expected\":" << expected << ",\"received\":" << st.received
              << ",\"lost\":" << (expected - st.received) << ",\"duplicates\":" << st.duplicates
              << ",\"seconds\":" << seconds
              << ",\"msgs_per_s\":" << static_cast<double>(st.received) / seconds
              << ",\"p50_us\":" << pct(0.50) << ",\"p99_us\":" << pct(0.99) << ",\"error\":\"" << failure
              << "\"}" << std::endl;
    return failure.empty() && st.received == expected ? 0 : 1;
}
