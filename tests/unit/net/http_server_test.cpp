// http_server: requests, keep-alive, errors answered by the server, limits, responder threading.
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <gtest/gtest.h>
#include <openssl/ssl.h>

#include <tollgate/net/http_server.hpp>
#include <tollgate/net/work_pool.hpp>

#include "net_test_support.hpp"

namespace tollgate::net::test {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;

// Answers with a description of the request: "METHOD TARGET\nname=value\n...\n\nBODY".
void describe(http_request request, http_responder respond) {
    std::string text = request.method + " " + request.target + "\n";
    for (const auto& [name, value] : request.headers) {
        text += name + "=" + value + "\n";
    }
    text += "x-dup-count=" + std::to_string(request.header_count("X-Dup")) + "\n";
    text += "peer-port=" + std::to_string(request.peer.remote_port) + "\n\n" + request.body;
    respond({200, {{"Content-Type", "text/plain"}, {"X-Extra", "1"}}, std::move(text)});
}

struct fixture {
    explicit fixture(http_handler handler = describe, http_limits limits = {},
                     transport_kind kind = transport_kind::tcp) {
        srv = std::make_unique<http_server>(pool.pool(),
                                            std::vector<listener_config>{make_listener(kind, "http")},
                                            std::move(handler), limits);
        srv->start();
    }
    ~fixture() { srv.reset(); }
    std::uint16_t port() const { return srv->endpoints().at(0).port; }
    running_pool pool;
    std::unique_ptr<http_server> srv;
};

template <class Stream>
struct client {
    Stream& stream;
    asio::io_context& context;
    beast::flat_buffer buffer;

    http::response<http::string_body> exchange(std::string_view raw, std::error_code& ec) {
        if ((ec = write_all(context, stream, raw))) {
            return {};
        }
        return read(ec);
    }
    http::response<http::string_body> read(std::error_code& ec) {
        http::response<http::string_body> response;
        bool done = false;
        http::async_read(stream, buffer, response, [&](boost::system::error_code e, std::size_t) {
            ec = e;
            done = true;
        });
        if (!run_until(context, [&] { return done; })) {
            ec = std::make_error_code(std::errc::timed_out);
        }
        return response;
    }
};

TEST(net_http, get_with_headers_in_order_and_server_header) {
    fixture f;
    asio::io_context context;
    auto socket = connect_tcp(context, f.port());
    client<tcp::socket> c{socket, context, {}};
    std::error_code ec;
    auto response =
        c.exchange("GET /.well-known/x?y=1 HTTP/1.1\r\nHost: localhost\r\nAccept: */*\r\n\r\n", ec);
    ASSERT_FALSE(ec) << ec.message();
    EXPECT_EQ(response.result_int(), 200U);
    EXPECT_EQ(response[http::field::server], "tollgate");
    EXPECT_EQ(response["X-Extra"], "1");
    EXPECT_EQ(response.body().substr(0, response.body().find("x-dup")),
              "GET /.well-known/x?y=1\nhost=localhost\naccept=*/*\n");
}

TEST(net_http, post_body_and_keep_alive_on_one_connection) {
    fixture f;
    asio::io_context context;
    auto socket = connect_tcp(context, f.port());
    client<tcp::socket> c{socket, context, {}};
    std::error_code ec;
    const std::string port_line = "peer-port=" + std::to_string(socket.local_endpoint().port());
    for (int i = 0; i < 3; ++i) {
        auto response = c.exchange(
            "POST /token HTTP/1.1\r\nHost: h\r\nContent-Type: application/x-www-form-urlencoded\r\n"
            "Content-Length: 18\r\n\r\ngrant_type=example",
            ec);
        ASSERT_FALSE(ec) << ec.message();
        EXPECT_EQ(response.result_int(), 200U);
        EXPECT_TRUE(response.keep_alive());
        EXPECT_NE(response.body().find(port_line), std::string::npos);
        EXPECT_EQ(response.body().substr(response.body().size() - 18), "grant_type=example");
    }
    EXPECT_EQ(f.srv->connection_count(), 1U);
}

TEST(net_http, pipelined_requests_are_answered_in_order) {
    fixture f;
    asio::io_context context;
    auto socket = connect_tcp(context, f.port());
    client<tcp::socket> c{socket, context, {}};
    std::error_code ec;
    ASSERT_FALSE(
        write_all(context, socket, "GET /a HTTP/1.1\r\nHost: h\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\n"));
    EXPECT_EQ(c.read(ec).body().substr(0, 7), "GET /a\n");
    EXPECT_EQ(c.read(ec).body().substr(0, 7), "GET /b\n");
}

TEST(net_http, duplicate_headers_are_preserved_in_order) {
    fixture f;
    asio::io_context context;
    auto socket = connect_tcp(context, f.port());
    client<tcp::socket> c{socket, context, {}};
    std::error_code ec;
    auto response =
        c.exchange("GET / HTTP/1.1\r\nHost: h\r\nX-Dup: first\r\nx-dup: second\r\nX-DUP: third\r\n\r\n", ec);
    ASSERT_FALSE(ec);
    EXPECT_NE(response.body().find("x-dup=first\nx-dup=second\nx-dup=third\nx-dup-count=3\n"),
              std::string::npos)
        << response.body();
}

TEST(net_http, garbage_gets_400_and_close) {
    fixture f;
    asio::io_context context;
    auto socket = connect_tcp(context, f.port());
    client<tcp::socket> c{socket, context, {}};
    std::error_code ec;
    auto response = c.exchange("THIS IS NOT HTTP\r\n\r\n", ec);
    ASSERT_FALSE(ec) << ec.message();
    EXPECT_EQ(response.result_int(), 400U);
    EXPECT_EQ(response[http::field::server], "tollgate");
    EXPECT_FALSE(response.keep_alive());
}

TEST(net_http, body_over_the_limit_gets_413) {
    http_limits limits;
    limits.max_body = 1024;
    fixture f(describe, limits);
    asio::io_context context;
    auto socket = connect_tcp(context, f.port());
    client<tcp::socket> c{socket, context, {}};
    std::error_code ec;
    auto response = c.exchange(
        "POST /token HTTP/1.1\r\nHost: h\r\nContent-Length: 100000\r\n\r\n" + std::string(2048, 'b'), ec);
    ASSERT_FALSE(ec) << ec.message();
    EXPECT_EQ(response.result_int(), 413U);
    EXPECT_EQ(response[http::field::server], "tollgate");
}

TEST(net_http, chunked_body_over_the_limit_gets_413) {
    http_limits limits;
    limits.max_body = 16;
    fixture f(describe, limits);
    asio::io_context context;
    auto socket = connect_tcp(context, f.port());
    client<tcp::socket> c{socket, context, {}};
    std::error_code ec;
    auto response = c.exchange("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n20\r\n" +
                                   std::string(32, 'c') + "\r\n0\r\n\r\n",
                               ec);
    ASSERT_FALSE(ec) << ec.message();
    EXPECT_EQ(response.result_int(), 413U);
}

TEST(net_http, header_block_over_the_limit_gets_431) {
    http_limits limits;
    limits.max_header = 1024;
    fixture f(describe, limits);
    asio::io_context context;
    auto socket = connect_tcp(context, f.port());
    client<tcp::socket> c{socket, context, {}};
    std::error_code ec;
    auto response =
        c.exchange("GET / HTTP/1.1\r\nHost: h\r\nX-Big: " + std::string(4096, 'h') + "\r\n\r\n", ec);
    ASSERT_FALSE(ec) << ec.message();
    EXPECT_EQ(response.result_int(), 431U);
}

TEST(net_http, expect_100_continue_gets_interim_response) {
    fixture f;
    asio::io_context context;
    auto socket = connect_tcp(context, f.port());
    client<tcp::socket> c{socket, context, {}};
    std::error_code ec;
    auto interim =
        c.exchange("POST / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n", ec);
    ASSERT_FALSE(ec) << ec.message();
    EXPECT_EQ(interim.result_int(), 100U);
    auto response = c.exchange("body", ec);
    ASSERT_FALSE(ec) << ec.message();
    EXPECT_EQ(response.result_int(), 200U);
    EXPECT_EQ(response.body().substr(response.body().size() - 4), "body");
}

TEST(net_http, responder_called_from_another_thread) {
    work_pool work(1);
    fixture f([&](http_request request, http_responder respond) {
        work.post([request = std::move(request), respond = std::move(respond)] {
            EXPECT_FALSE(io_pool::current_worker());
            respond({201, {{"Location", "/x"}}, "made " + request.target});
            respond({500, {}, "second call is ignored"});
        });
    });
    asio::io_context context;
    auto socket = connect_tcp(context, f.port());
    client<tcp::socket> c{socket, context, {}};
    std::error_code ec;
    for (int i = 0; i < 2; ++i) {
        auto response = c.exchange("GET /thing HTTP/1.1\r\nHost: h\r\n\r\n", ec);
        ASSERT_FALSE(ec) << ec.message();
        EXPECT_EQ(response.result_int(), 201U);
        EXPECT_EQ(response.body(), "made /thing");
        EXPECT_EQ(response["Location"], "/x");
    }
}

TEST(net_http, dropped_responder_and_throwing_handler_give_500) {
    fixture f([](http_request request, http_responder) {
        if (request.target == "/throw") {
            throw std::runtime_error("handler failure");
        }
    });
    asio::io_context context;
    auto socket = connect_tcp(context, f.port());
    client<tcp::socket> c{socket, context, {}};
    std::error_code ec;
    EXPECT_EQ(c.exchange("GET /drop HTTP/1.1\r\nHost: h\r\n\r\n", ec).result_int(), 500U);
    EXPECT_EQ(c.exchange("GET /throw HTTP/1.1\r\nHost: h\r\n\r\n", ec).result_int(), 500U);
}

TEST(net_http, connection_close_and_http_1_0_close_after_the_response) {
    fixture f;
    asio::io_context context;
    for (const char* request :
         {"GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n", "GET / HTTP/1.0\r\n\r\n"}) {
        auto socket = connect_tcp(context, f.port());
        ASSERT_FALSE(write_all(context, socket, request));
        std::string raw;
        EXPECT_EQ(read_until_error(context, socket, &raw),
                  std::error_code(boost::system::error_code(asio::error::eof)));
        EXPECT_NE(raw.find("200 OK"), std::string::npos) << raw;
    }
}

TEST(net_http, head_response_has_no_body) {
    fixture f;
    asio::io_context context;
    auto socket = connect_tcp(context, f.port());
    ASSERT_FALSE(write_all(context, socket, "HEAD /x HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"));
    std::string raw;
    read_until_error(context, socket, &raw);
    const auto end_of_header = raw.find("\r\n\r\n");
    ASSERT_NE(end_of_header, std::string::npos);
    EXPECT_EQ(raw.size(), end_of_header + 4) << raw;
    EXPECT_NE(raw.find("Content-Length: "), std::string::npos);
}

TEST(net_http, idle_connection_is_closed_after_the_read_timeout) {
    http_limits limits;
    limits.read_timeout = std::chrono::milliseconds(200);
    fixture f(describe, limits);
    asio::io_context context;
    auto socket = connect_tcp(context, f.port());
    ASSERT_FALSE(write_all(context, socket, "GET / HTTP/1.1\r\n"));  // incomplete
    EXPECT_TRUE(read_until_error(context, socket));
}

TEST(net_http, tls_listener_serves_https) {
    fixture f(describe, {}, transport_kind::tls);
    asio::io_context context;
    auto tls = client_tls("");
    asio::ssl::stream<tcp::socket> stream(connect_tcp(context, f.port()), *tls);
    set_sni(stream.native_handle());
    bool done = false;
    boost::system::error_code hs;
    stream.async_handshake(asio::ssl::stream_base::client, [&](boost::system::error_code e) {
        hs = e;
        done = true;
    });
    ASSERT_TRUE(run_until(context, [&] { return done; }));
    ASSERT_FALSE(hs) << hs.message();
    client<asio::ssl::stream<tcp::socket>> c{stream, context, {}};
    std::error_code ec;
    auto response = c.exchange("GET /jwks HTTP/1.1\r\nHost: localhost\r\n\r\n", ec);
    ASSERT_FALSE(ec) << ec.message();
    EXPECT_EQ(response.result_int(), 200U);
    EXPECT_EQ(response[http::field::server], "tollgate");
}

TEST(net_http, stop_closes_idle_connections) {
    fixture f;
    asio::io_context context;
    auto socket = connect_tcp(context, f.port());
    client<tcp::socket> c{socket, context, {}};
    std::error_code ec;
    ASSERT_EQ(c.exchange("GET / HTTP/1.1\r\nHost: h\r\n\r\n", ec).result_int(), 200U);
    f.srv->stop();
    EXPECT_TRUE(read_until_error(context, socket));
}

TEST(net_http, rejects_websocket_listener_kinds) {
    running_pool pool;
    http_server srv(pool.pool(), {make_listener(transport_kind::ws)}, describe);
    EXPECT_THROW(srv.start(), std::invalid_argument);
}

}  // namespace
}  // namespace tollgate::net::test
