// connect_load: CONNECT + authentication rate. Each of --connections concurrent clients loops:
// TCP connect, CONNECT with the next token as password, read the CONNACK, DISCONNECT, close.
//
//   connect_load --port 1883 --tokens tokens.txt --connections 16            # cold: each token once
//   connect_load --port 1883 --tokens tokens.txt --reuse --count 20000      # cached: token 1 always
//
// Cold tokens (the default) are used once each, in file order, so a broker's verified-token cache
// never hits and every CONNECT costs a signature check; the run makes as many connections as the
// file has tokens (or --count, at most that). With --reuse every CONNECT presents the first token:
// after the first, a cache hit. The elapsed time runs from the first TCP connect to the last
// CONNACK. Prints one JSON object: accepted, refused (by reason code), transport errors,
// accepted per second, and CONNACK latency percentiles (µs from the TCP connect).
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <iostream>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include <boost/asio.hpp>

#include <tollgate/mqtt/codec.hpp>

#include "bench_support.hpp"
#include "mqtt_connection.hpp"

namespace asio = boost::asio;
namespace mqtt = tollgate::mqtt;
using std::chrono::steady_clock;

namespace {

struct options {
    tollgate::bench::connection_options conn;
    std::string tokens_file;
    std::vector<std::string> tokens;
    bool reuse = false;
    long count = 0;  // 0: one connection per token
    int connections = 16;
    std::string username;  // optional CONNECT user name (MQTT 3.1.1 needs one with a password)
};

struct results {
    long accepted = 0;
    std::map<int, std::int64_t> refused;  // CONNACK reason code -> count
    long transport_errors = 0;
    std::string first_error;
    std::vector<std::int64_t> latencies_us;
    steady_clock::time_point last_done;
};

mqtt::connect connect_packet(const options& o, long index) {
    mqtt::connect c;
    c.client_id = "cl-" + std::to_string(index);
    c.clean_start = true;
    c.keep_alive = 60;
    if (!o.username.empty()) {
        c.username = o.username;
    }
    c.password =
        tollgate::common::shared_bytes::copy_of(o.tokens[o.reuse ? 0 : static_cast<std::size_t>(index)]);
    return c;
}

asio::awaitable<void> run_client(asio::io_context& io, const options& o, long& next, results& r) {
    while (next < o.count) {
        const long index = next++;
        const auto packet = connect_packet(o, index);
        tollgate::bench::mqtt_connection c(io, o.conn);
        const auto start = steady_clock::now();
        try {
            const auto ack = co_await c.connect(packet);
            const auto end = steady_clock::now();
            r.last_done = end;
            if (ack.reason_code == mqtt::reason_code::success) {
                ++r.accepted;
                r.latencies_us.push_back(
                    std::chrono::duration_cast<std::chrono::microseconds>(end - start).count());
                c.queue(mqtt::disconnect{});
                co_await c.flush();
            } else {
                ++r.refused[static_cast<int>(ack.reason_code)];
            }
        } catch (const std::exception& e) {
            ++r.transport_errors;
            if (r.first_error.empty()) {
                r.first_error = e.what();
            }
        }
        c.close();
    }
}

int usage() {
    std::cerr << "usage: connect_load --tokens FILE [--host H] [--port P] [--connections N] [--count N]\n"
                 "                    [--reuse] [--username NAME] [--mqtt-version 5|3.1.1]\n";
    return 2;
}

int parse(int argc, char** argv, options& o) {
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--reuse") {
            o.reuse = true;
            continue;
        }
        if (i + 1 >= argc) {
            return usage();
        }
        const std::string v = argv[++i];
        if (a == "--host") {
            o.conn.host = v;
        } else if (a == "--port") {
            o.conn.port = static_cast<std::uint16_t>(std::stoi(v));
        } else if (a == "--tokens") {
            o.tokens_file = v;
        } else if (a == "--connections") {
            o.connections = std::stoi(v);
        } else if (a == "--count") {
            o.count = std::stol(v);
        } else if (a == "--username") {
            o.username = v;
        } else if (a == "--mqtt-version") {
            o.conn.version = v == "3.1.1" ? mqtt::protocol_version::v311 : mqtt::protocol_version::v5;
        } else {
            return usage();
        }
    }
    if (o.tokens_file.empty() || o.connections < 1 || o.count < 0) {
        return usage();
    }
    o.tokens = tollgate::bench::read_lines(o.tokens_file, "tokens");
    const long available = static_cast<long>(o.tokens.size());
    if (o.count == 0) {
        o.count = available;
    }
    if (!o.reuse && o.count > available) {
        std::cerr << "connect_load: --count " << o.count << " cold connections need as many tokens; "
                  << o.tokens_file << " has " << available << "\n";
        return 2;
    }
    return 0;
}

void print(const options& o, results& r, double seconds) {
    const auto lat = tollgate::bench::summarize(r.latencies_us);
    std::int64_t refused = 0;
    const std::string reasons = tollgate::bench::counts_json(r.refused, refused);
    std::cout << "{\"mode\":\"" << (o.reuse ? "cached" : "cold") << "\",\"connections\":" << o.connections
              << ",\"attempted\":" << o.count << ",\"accepted\":" << r.accepted << ",\"refused\":" << refused
              << ",\"refused_reasons\":" << reasons << ",\"transport_errors\":" << r.transport_errors
              << ",\"seconds\":" << seconds
              << ",\"accepted_per_s\":" << static_cast<double>(r.accepted) / seconds
              << ",\"p50_us\":" << lat.p50 << ",\"p90_us\":" << lat.p90 << ",\"p99_us\":" << lat.p99
              << ",\"first_error\":\"" << tollgate::bench::json_escape(r.first_error) << "\"}" << std::endl;
}

}  // namespace

int main(int argc, char** argv) {
    options o;
    if (int rc = tollgate::bench::guarded_parse("connect_load", [&] { return parse(argc, argv, o); });
        rc != 0) {
        return rc;
    }
    asio::io_context io(1);
    results r;
    long next = 0;
    const auto start = steady_clock::now();
    r.last_done = start;
    for (int i = 0; i < o.connections; ++i) {
        asio::co_spawn(io, run_client(io, o, next, r), asio::detached);
    }
    io.run();
    const double seconds = std::max(1e-9, std::chrono::duration<double>(r.last_done - start).count());
    print(o, r, seconds);
    return r.accepted == o.count ? 0 : 1;
}
