// WebSocket and WebSocket over TLS: subprotocol "mqtt", path, binary frames only, framing freedom.
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <gtest/gtest.h>
#include <openssl/ssl.h>

#include "net_test_support.hpp"

namespace tollgate::net::test {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;

struct fixture {
    explicit fixture(listener_config config) {
        srv = std::make_unique<server>(pool.pool(), std::vector<listener_config>{std::move(config)},
                                       factory.make());
        srv->start();
    }
    ~fixture() { srv.reset(); }
    std::uint16_t port() const { return port_of(*srv); }
    running_pool pool;
    recording_factory factory;
    std::unique_ptr<server> srv;
};

template <class Next>
struct ws_client {
    template <class... Args>
    explicit ws_client(Args&&... args) : ws(std::forward<Args>(args)...) {}
    websocket::stream<Next> ws;
    websocket::response_type response;

    std::error_code handshake(asio::io_context& context, const std::string& path, const char* subprotocol) {
        ws.set_option(websocket::stream_base::decorator([subprotocol](websocket::request_type& request) {
            if (subprotocol != nullptr) {
                request.set(http::field::sec_websocket_protocol, subprotocol);
            }
        }));
        bool done = false;
        boost::system::error_code result;
        ws.async_handshake(response, "localhost", path, [&](boost::system::error_code ec) {
            result = ec;
            done = true;
        });
        if (!run_until(context, [&] { return done; })) {
            return std::make_error_code(std::errc::timed_out);
        }
        return result;
    }

    std::error_code write(asio::io_context& context, std::string_view data, bool fin = true) {
        bool done = false;
        boost::system::error_code result;
        ws.async_write_some(fin, asio::buffer(data), [&](boost::system::error_code ec, std::size_t) {
            result = ec;
            done = true;
        });
        if (!run_until(context, [&] { return done; })) {
            return std::make_error_code(std::errc::timed_out);
        }
        return result;
    }

    // Reads messages until `n` bytes arrived or an error; returns the bytes.
    std::string read_bytes(asio::io_context& context, std::size_t n, std::error_code& ec) {
        std::string out;
        while (out.size() < n) {
            beast::flat_buffer buffer;
            bool done = false;
            boost::system::error_code result;
            ws.async_read(buffer, [&](boost::system::error_code e, std::size_t) {
                result = e;
                done = true;
            });
            if (!run_until(context, [&] { return done; })) {
                ec = std::make_error_code(std::errc::timed_out);
                return out;
            }
            if (result) {
                ec = result;
                return out;
            }
            EXPECT_TRUE(ws.got_binary());
            out += beast::buffers_to_string(buffer.data());
        }
        return out;
    }
};

using plain_ws = ws_client<tcp::socket>;
using tls_ws = ws_client<beast::ssl_stream<tcp::socket>>;

std::error_code tls_handshake(asio::io_context& context, beast::ssl_stream<tcp::socket>& stream) {
    set_sni(stream.native_handle());
    bool done = false;
    boost::system::error_code result;
    stream.async_handshake(asio::ssl::stream_base::client, [&](boost::system::error_code ec) {
        result = ec;
        done = true;
    });
    if (!run_until(context, [&] { return done; })) {
        return std::make_error_code(std::errc::timed_out);
    }
    return result;
}

// [MQTT-6.0.0-3] the client offers "mqtt"; [MQTT-6.0.0-4] the server selects "mqtt".
TEST(net_ws, echo_with_subprotocol_mqtt_MQTT_6_0_0_4) {
    fixture f(make_listener(transport_kind::ws, "mqtt-ws"));
    asio::io_context context;
    plain_ws client(connect_tcp(context, f.port()));
    ASSERT_FALSE(client.handshake(context, "/mqtt", "mqtt"));
    EXPECT_EQ(client.response[http::field::sec_websocket_protocol], "mqtt");
    EXPECT_EQ(client.response[http::field::server], "tollgate");
    client.ws.binary(true);
    ASSERT_FALSE(client.write(context, "\x10\x02hi"));
    std::error_code ec;
    EXPECT_EQ(client.read_bytes(context, 4, ec), "\x10\x02hi");
    auto record = f.factory.wait_for(0);
    ASSERT_TRUE(record);
    EXPECT_EQ(record->peer.kind, transport_kind::ws);
    EXPECT_EQ(record->peer.listener, "mqtt-ws");
}

TEST(net_ws, subprotocol_mqtt_found_among_several_offers) {
    fixture f(make_listener(transport_kind::ws));
    asio::io_context context;
    plain_ws client(connect_tcp(context, f.port()));
    ASSERT_FALSE(client.handshake(context, "/mqtt", "mqttv3.1, mqtt"));
    EXPECT_EQ(client.response[http::field::sec_websocket_protocol], "mqtt");
}

// Data messages may split and join packets freely: the handler just gets the bytes in order.
TEST(net_ws, bytes_split_across_frames_and_messages_arrive_in_order) {
    fixture f(make_listener(transport_kind::ws));
    f.factory.echo = false;
    asio::io_context context;
    plain_ws client(connect_tcp(context, f.port()));
    ASSERT_FALSE(client.handshake(context, "/mqtt", "mqtt"));
    client.ws.binary(true);
    ASSERT_FALSE(client.write(context, "ab", false));  // one message in three frames
    ASSERT_FALSE(client.write(context, "cd", false));
    ASSERT_FALSE(client.write(context, "ef", true));
    ASSERT_FALSE(client.write(context, "g"));  // then two more messages
    ASSERT_FALSE(client.write(context, "hij"));
    auto record = f.factory.wait_for(0);
    ASSERT_TRUE(record);
    EXPECT_TRUE(record->wait([&] { return record->data == "abcdefghij"; })) << record->data;
}

TEST(net_ws, wrong_path_gets_404) {
    fixture f(make_listener(transport_kind::ws));
    asio::io_context context;
    plain_ws client(connect_tcp(context, f.port()));
    EXPECT_TRUE(client.handshake(context, "/other", "mqtt"));
    EXPECT_EQ(client.response.result_int(), 404U);
    EXPECT_EQ(client.response[http::field::server], "tollgate");
    EXPECT_EQ(f.factory.calls.load(), 0);
}

TEST(net_ws, missing_subprotocol_is_refused_MQTT_6_0_0_3) {
    fixture f(make_listener(transport_kind::ws));
    asio::io_context context;
    plain_ws client(connect_tcp(context, f.port()));
    EXPECT_TRUE(client.handshake(context, "/mqtt", nullptr));
    EXPECT_EQ(client.response.result_int(), 400U);
    EXPECT_EQ(f.factory.calls.load(), 0);
}

TEST(net_ws, other_subprotocol_only_is_refused_MQTT_6_0_0_3) {
    fixture f(make_listener(transport_kind::ws));
    asio::io_context context;
    plain_ws client(connect_tcp(context, f.port()));
    EXPECT_TRUE(client.handshake(context, "/mqtt", "mqttx, chat"));
    EXPECT_EQ(client.response.result_int(), 400U);
    EXPECT_EQ(f.factory.calls.load(), 0);
}

TEST(net_ws, plain_http_request_without_upgrade_gets_426) {
    fixture f(make_listener(transport_kind::ws));
    asio::io_context context;
    auto socket = connect_tcp(context, f.port());
    ASSERT_FALSE(write_all(context, socket, "GET /mqtt HTTP/1.1\r\nHost: localhost\r\n\r\n"));
    std::string response;
    read_until_error(context, socket, &response);
    EXPECT_EQ(response.substr(0, 12), "HTTP/1.1 426") << response;
}

// [MQTT-6.0.0-1] a text data frame closes the network connection; its bytes never reach MQTT.
TEST(net_ws, text_frame_closes_the_connection_MQTT_6_0_0_1) {
    fixture f(make_listener(transport_kind::ws));
    asio::io_context context;
    plain_ws client(connect_tcp(context, f.port()));
    ASSERT_FALSE(client.handshake(context, "/mqtt", "mqtt"));
    client.ws.text(true);
    ASSERT_FALSE(client.write(context, "not binary"));
    std::error_code ec;
    client.read_bytes(context, 1, ec);
    EXPECT_EQ(ec, std::error_code(boost::system::error_code(websocket::error::closed)));
    EXPECT_EQ(client.ws.reason().code, websocket::close_code::unknown_data);
    auto record = f.factory.wait_for(0);
    ASSERT_TRUE(record);
    ASSERT_TRUE(record->wait([&] { return record->closed.has_value(); }));
    EXPECT_TRUE(record->data.empty());
}

TEST(net_ws, close_sends_a_close_frame) {
    fixture f(make_listener(transport_kind::ws));
    f.factory.echo = false;
    asio::io_context context;
    plain_ws client(connect_tcp(context, f.port()));
    ASSERT_FALSE(client.handshake(context, "/mqtt", "mqtt"));
    client.ws.binary(true);
    ASSERT_FALSE(client.write(context, "x"));
    auto record = f.factory.wait_for(0);
    ASSERT_TRUE(record);
    ASSERT_TRUE(record->wait([&] { return record->data_calls > 0; }));
    auto the_link = record->the_link;
    f.pool.run_on(the_link->worker(), [&] {
        the_link->send(common::shared_bytes::copy_of(std::string_view("bye")));
        the_link->close();
    });
    std::error_code ec;
    EXPECT_EQ(client.read_bytes(context, 3, ec), "bye");
    client.read_bytes(context, 1, ec);
    EXPECT_EQ(ec, std::error_code(boost::system::error_code(websocket::error::closed)));
    EXPECT_EQ(client.ws.reason().code, websocket::close_code::normal);
    ASSERT_TRUE(record->wait([&] { return record->closed.has_value(); }));
    EXPECT_EQ(record->closed_count, 1);
}

TEST(net_ws, oversized_message_closes_the_connection) {
    auto config = make_listener(transport_kind::ws);
    config.ws_max_message_size = 1024;
    fixture f(config);
    f.factory.echo = false;
    asio::io_context context;
    plain_ws client(connect_tcp(context, f.port()));
    ASSERT_FALSE(client.handshake(context, "/mqtt", "mqtt"));
    client.ws.binary(true);
    ASSERT_FALSE(client.write(context, std::string(4096, 'x')));
    auto record = f.factory.wait_for(0);
    ASSERT_TRUE(record);
    ASSERT_TRUE(record->wait([&] { return record->closed.has_value(); }));
    EXPECT_EQ(record->data.size(), 0U);
}

TEST(net_wss, echo_over_tls_with_subprotocol_mqtt) {
    fixture f(make_listener(transport_kind::wss, "mqtt-wss"));
    asio::io_context context;
    auto tls = client_tls("");
    tls_ws client(connect_tcp(context, f.port()), *tls);
    ASSERT_FALSE(tls_handshake(context, client.ws.next_layer()));
    ASSERT_FALSE(client.handshake(context, "/mqtt", "mqtt"));
    EXPECT_EQ(client.response[http::field::sec_websocket_protocol], "mqtt");
    client.ws.binary(true);
    ASSERT_FALSE(client.write(context, "wss-bytes"));
    std::error_code ec;
    EXPECT_EQ(client.read_bytes(context, 9, ec), "wss-bytes");
    auto record = f.factory.wait_for(0);
    ASSERT_TRUE(record);
    EXPECT_EQ(record->peer.kind, transport_kind::wss);
}

TEST(net_wss, mtls_certificate_visible_over_wss) {
    auto config = make_listener(transport_kind::wss);
    config.tls->require_client_cert = true;
    fixture f(config);
    asio::io_context context;
    auto tls = client_tls("client");
    tls_ws client(connect_tcp(context, f.port()), *tls);
    ASSERT_FALSE(tls_handshake(context, client.ws.next_layer()));
    ASSERT_FALSE(client.handshake(context, "/mqtt", "mqtt"));
    auto record = f.factory.wait_for(0);
    ASSERT_TRUE(record);
    EXPECT_TRUE(record->peer.client_certificate_der);
    EXPECT_NE(record->peer.client_certificate_subject.find("CN=test-client"), std::string::npos);
}

TEST(net_ws, silent_client_is_dropped_after_the_handshake_timeout) {
    auto config = make_listener(transport_kind::ws);
    config.handshake_timeout = std::chrono::milliseconds(300);
    fixture f(config);
    asio::io_context context;
    auto socket = connect_tcp(context, f.port());
    ASSERT_FALSE(write_all(context, socket, "GET /mqtt HTTP/1.1\r\n"));  // and never the rest
    EXPECT_TRUE(read_until_error(context, socket));
    EXPECT_EQ(f.factory.calls.load(), 0);
}

}  // namespace
}  // namespace tollgate::net::test
