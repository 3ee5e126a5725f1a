// http_load: a closed-loop HTTP/1.1 load generator (keep-alive, N connections, fixed duration), so
// bench/token-endpoint-vs-oidc-provider.sh can drive tollgate's token endpoint and node
// oidc-provider with the same client, the same requests and the same concurrency.
//
//   http_load --url http://127.0.0.1:8080/token --method POST --header "Authorization: Basic ..."
//             --body "grant_type=client_credentials" --connections 16 --duration 10 --warmup 2
//             --expect-body access_token
//
// Each connection sends one request, reads the whole response, and sends the next (no pipelining);
// a response without keep-alive, or a transport error, reconnects. Responses that finish during
// the first --warmup seconds are not counted. A response counts as "ok" when its status is 200 and
// (with --expect-body) its body contains the given text; other statuses count per status code.
// Prints one JSON object: ok, ok_per_s, other statuses, transport errors, reconnects, latency
// percentiles of the counted responses (µs, from the start of the write to the end of the read).
// Plain http:// only (loopback benchmarks; TLS would measure the TLS stacks as well).
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <iostream>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "bench_support.hpp"

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;
using std::chrono::steady_clock;

namespace {

struct options {
    std::string host;
    std::string port;
    std::string target;
    http::verb method = http::verb::get;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    std::string expect_body;
    int connections = 8;
    double duration = 10;
    double warmup = 1;
};

struct results {
    std::int64_t ok = 0;
    std::int64_t transport_errors = 0;
    std::int64_t reconnects = 0;
    std::map<int, std::int64_t> other_status;  // status -> count (everything but an ok 200)
    std::vector<std::int64_t> latencies_us;
    std::string first_error;
    std::string first_bad_body;
};

// The measured window: [counted_from, until).
struct window {
    steady_clock::time_point counted_from;
    steady_clock::time_point until;
};

http::request<http::string_body> make_request(const options& o) {
    http::request<http::string_body> req{o.method, o.target, 11};
    req.set(http::field::host, o.host + ":" + o.port);
    req.set(http::field::user_agent, "tollgate-http_load");
    for (const auto& [name, value] : o.headers) {
        req.set(name, value);
    }
    req.body() = o.body;
    req.keep_alive(true);
    req.prepare_payload();
    return req;
}

void count(const options& o, const http::response<http::string_body>& res, std::int64_t micros, results& r) {
    const bool ok = res.result_int() == 200 &&
                    (o.expect_body.empty() || res.body().find(o.expect_body) != std::string::npos);
    if (ok) {
        ++r.ok;
        r.latencies_us.push_back(micros);
        return;
    }
    ++r.other_status[static_cast<int>(res.result_int())];
    if (r.first_bad_body.empty()) {
        r.first_bad_body = std::to_string(res.result_int()) + " " + res.body().substr(0, 200);
    }
}

asio::awaitable<void> run_connection(const options& o, const tcp::resolver::results_type& endpoints, window w,
                                     results& r) {
    beast::tcp_stream stream(co_await asio::this_coro::executor);
    const auto req = make_request(o);
    beast::flat_buffer buffer;
    bool connected = false;
    while (steady_clock::now() < w.until) {
        try {
            if (!connected) {
                stream.expires_after(std::chrono::seconds(10));
                co_await stream.async_connect(endpoints, asio::use_awaitable);
                stream.socket().set_option(tcp::no_delay(true));
                connected = true;
                buffer.clear();
            }
            const auto start = steady_clock::now();
            stream.expires_after(std::chrono::seconds(30));
            co_await http::async_write(stream, req, asio::use_awaitable);
            http::response_parser<http::string_body> parser;
            parser.body_limit(1024 * 1024);
            co_await http::async_read(stream, buffer, parser, asio::use_awaitable);
            const auto end = steady_clock::now();
            const auto& res = parser.get();
            if (end >= w.counted_from && end < w.until) {
                count(o, res, std::chrono::duration_cast<std::chrono::microseconds>(end - start).count(), r);
            }
            if (!res.keep_alive()) {
                stream.socket().close();
                connected = false;
                ++r.reconnects;
            }
        } catch (const boost::system::system_error& e) {
            ++r.transport_errors;
            if (r.first_error.empty()) {
                r.first_error = e.code().message();
            }
            boost::system::error_code ignored;
            stream.socket().close(ignored);
            connected = false;
            ++r.reconnects;
        }
    }
    boost::system::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
}

bool parse_url(const std::string& url, options& o) {
    const std::string scheme = "http://";
    if (url.rfind(scheme, 0) != 0) {
        return false;
    }
    const std::string rest = url.substr(scheme.size());
    const auto slash = rest.find('/');
    const std::string authority = rest.substr(0, slash);
    o.target = slash == std::string::npos ? "/" : rest.substr(slash);
    const auto colon = authority.rfind(':');
    if (colon == std::string::npos || authority.empty()) {
        o.host = authority;
        o.port = "80";
    } else {
        o.host = authority.substr(0, colon);
        o.port = authority.substr(colon + 1);
    }
    return !o.host.empty();
}

int usage() {
    std::cerr
        << "usage: http_load --url http://HOST:PORT/PATH [--method GET|POST] [--header 'Name: value']...\n"
           "                 [--body TEXT] [--expect-body TEXT] [--connections N] [--duration S]\n"
           "                 [--warmup S]\n";
    return 2;
}

int parse(int argc, char** argv, options& o) {
    bool have_url = false;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (i + 1 >= argc) {
            return usage();
        }
        const std::string v = argv[++i];
        if (a == "--url") {
            if (!parse_url(v, o)) {
                std::cerr << "http_load: only http://host[:port]/path URLs\n";
                return 2;
            }
            have_url = true;
        } else if (a == "--method") {
            o.method = http::string_to_verb(v);
            if (o.method == http::verb::unknown) {
                return usage();
            }
        } else if (a == "--header") {
            const auto colon = v.find(':');
            if (colon == std::string::npos) {
                return usage();
            }
            const auto value_at = v.find_first_not_of(' ', colon + 1);
            o.headers.emplace_back(v.substr(0, colon),
                                   value_at == std::string::npos ? "" : v.substr(value_at));
        } else if (a == "--body") {
            o.body = v;
        } else if (a == "--expect-body") {
            o.expect_body = v;
        } else if (a == "--connections") {
            o.connections = std::stoi(v);
        } else if (a == "--duration") {
            o.duration = std::stod(v);
        } else if (a == "--warmup") {
            o.warmup = std::stod(v);
        } else {
            return usage();
        }
    }
    if (!have_url || o.connections < 1 || o.duration <= 0 || o.warmup < 0) {
        return usage();
    }
    return 0;
}

void print(const options& o, results& r) {
    using tollgate::bench::json_escape;
    const auto lat = tollgate::bench::summarize(r.latencies_us);
    std::int64_t other = 0;
    const std::string statuses = tollgate::bench::counts_json(r.other_status, other);
    std::cout << "{\"connections\":" << o.connections << ",\"seconds\":" << o.duration << ",\"ok\":" << r.ok
              << ",\"ok_per_s\":" << static_cast<double>(r.ok) / o.duration << ",\"other_status\":" << other
              << ",\"statuses\":" << statuses << ",\"transport_errors\":" << r.transport_errors
              << ",\"reconnects\":" << r.reconnects << ",\"p50_us\":" << lat.p50 << ",\"p90_us\":" << lat.p90
              << ",\"p99_us\":" << lat.p99 << ",\"max_us\":" << lat.max << ",\"first_error\":\""
              << json_escape(r.first_error) << "\",\"first_bad_response\":\"" << json_escape(r.first_bad_body)
              << "\"}" << std::endl;
}

}  // namespace

int main(int argc, char** argv) {
    options o;
    if (int rc = tollgate::bench::guarded_parse("http_load", [&] { return parse(argc, argv, o); }); rc != 0) {
        return rc;
    }
    asio::io_context io(1);
    results r;
    try {
        const auto endpoints = tcp::resolver(io).resolve(o.host, o.port);
        const auto start = steady_clock::now();
        const auto to_duration = [](double s) {
            return std::chrono::duration_cast<steady_clock::duration>(std::chrono::duration<double>(s));
        };
        const window w{start + to_duration(o.warmup), start + to_duration(o.warmup + o.duration)};
        for (int i = 0; i < o.connections; ++i) {
            asio::co_spawn(io, run_connection(o, endpoints, w, r), asio::detached);
        }
        io.run();
    } catch (const std::exception& e) {
        std::cerr << "http_load: " << e.what() << "\n";
        return 1;
    }
    print(o, r);
    return r.ok > 0 ? 0 : 1;
}
