// TCP and TLS transports: echo, peer info, TLS versions, client certificates, handshake timeout,
// max_connections, close/abort semantics, coalesced ordering, start() errors.
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "net_test_support.hpp"

namespace tollgate::net::test {
namespace {

using tls_client = asio::ssl::stream<tcp::socket>;

struct fixture {
    explicit fixture(listener_config config, bool echo = true) {
        factory.echo = echo;
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

// Handshakes a TLS client; returns the handshake error.
std::error_code tls_handshake(asio::io_context& context, tls_client& client) {
    set_sni(client.native_handle());
    client.set_verify_callback(asio::ssl::host_name_verification("localhost"));
    bool done = false;
    boost::system::error_code result;
    client.async_handshake(asio::ssl::stream_base::client, [&](boost::system::error_code ec) {
        result = ec;
        done = true;
    });
    if (!run_until(context, [&] { return done; })) {
        return std::make_error_code(std::errc::timed_out);
    }
    return result;
}

std::string der_of_pem(const std::string& path) {
    std::FILE* file = std::fopen(path.c_str(), "rb");
    if (file == nullptr) {
        return {};
    }
    X509* x = PEM_read_X509(file, nullptr, nullptr, nullptr);
    std::fclose(file);
    if (x == nullptr) {
        return {};
    }
    unsigned char* der = nullptr;
    const int n = i2d_X509(x, &der);
    std::string out(reinterpret_cast<char*>(der), static_cast<std::size_t>(n));
    OPENSSL_free(der);
    X509_free(x);
    return out;
}

TEST(net_tcp, echo_and_peer_info) {
    fixture f(make_listener(transport_kind::tcp, "mqtt-tcp"));
    asio::io_context client_context;
    auto client = connect_tcp(client_context, f.port());
    ASSERT_FALSE(write_all(client_context, client, "hello"));
    std::error_code ec;
    EXPECT_EQ(read_exactly(client_context, client, 5, ec), "hello");
    EXPECT_FALSE(ec);
    auto record = f.factory.wait_for(0);
    ASSERT_TRUE(record);
    EXPECT_EQ(record->peer.kind, transport_kind::tcp);
    EXPECT_EQ(record->peer.listener, "mqtt-tcp");
    EXPECT_EQ(record->peer.remote_address, "127.0.0.1");
    EXPECT_EQ(record->peer.remote_port, client.local_endpoint().port());
    EXPECT_FALSE(record->peer.client_certificate_der);
    EXPECT_EQ(f.srv->connection_count(), 1U);
    EXPECT_EQ(f.srv->endpoints().at(0).name, "mqtt-tcp");
    EXPECT_NE(f.srv->endpoints().at(0).port, 0);
}

TEST(net_tcp, peer_close_reports_on_closed_exactly_once) {
    fixture f(make_listener(transport_kind::tcp));
    asio::io_context client_context;
    {
        auto client = connect_tcp(client_context, f.port());
        ASSERT_FALSE(write_all(client_context, client, "x"));
        std::error_code ec;
        read_exactly(client_context, client, 1, ec);
    }
    auto record = f.factory.wait_for(0);
    ASSERT_TRUE(record);
    ASSERT_TRUE(record->wait([&] { return record->closed.has_value(); }));
    EXPECT_EQ(record->closed_count, 1);
    EXPECT_EQ(*record->closed, std::error_code(boost::system::error_code(asio::error::eof)));
}

TEST(net_tcp, close_flushes_queued_bytes_then_ends_the_connection) {
    fixture f(make_listener(transport_kind::tcp), false);
    const std::string big(1 << 20, 'z');
    f.factory.customize = nullptr;
    asio::io_context client_context;
    auto client = connect_tcp(client_context, f.port());
    ASSERT_FALSE(write_all(client_context, client, "go"));
    auto record = f.factory.wait_for(0);
    ASSERT_TRUE(record);
    f.pool.run_on(record->the_link->worker(), [&] {
        record->the_link->send(common::shared_bytes::copy_of(big));
        record->the_link->send(common::shared_bytes::copy_of(std::string_view("end")));
        record->the_link->close();
        record->the_link->send(common::shared_bytes::copy_of(std::string_view("ignored after close")));
    });
    std::string received;
    const auto ec = read_until_error(client_context, client, &received);
    EXPECT_EQ(ec, std::error_code(boost::system::error_code(asio::error::eof)));
    EXPECT_EQ(received, big + "end");
    ASSERT_TRUE(record->wait([&] { return record->closed.has_value(); }));
    EXPECT_EQ(record->closed_count, 1);
}

TEST(net_tcp, abort_drops_the_connection_and_reports_once) {
    fixture f(make_listener(transport_kind::tcp), false);
    asio::io_context client_context;
    auto client = connect_tcp(client_context, f.port());
    ASSERT_FALSE(write_all(client_context, client, "x"));
    auto record = f.factory.wait_for(0);
    ASSERT_TRUE(record);
    ASSERT_TRUE(record->wait([&] { return record->data_calls > 0; }));
    auto the_link = record->the_link;
    f.pool.run_on(the_link->worker(), [&] {
        the_link->abort();
        the_link->abort();
        the_link->send(common::shared_bytes::copy_of(std::string_view("no-op")));
        EXPECT_EQ(the_link->queued_bytes(), 0U);
    });
    EXPECT_TRUE(read_until_error(client_context, client));
    ASSERT_TRUE(record->wait([&] { return record->closed.has_value(); }));
    EXPECT_EQ(record->closed_count, 1);
    EXPECT_EQ(*record->closed, std::error_code(boost::system::error_code(asio::error::operation_aborted)));
}

// Many small sends from one on_data go out coalesced; order and integrity must hold.
TEST(net_tcp, ten_thousand_small_sends_arrive_in_order) {
    fixture f(make_listener(transport_kind::tcp), false);
    constexpr std::uint32_t count = 10000;
    f.factory.customize = [](recording_handler& h) {
        h.extra = [](std::span<const std::uint8_t>, link& l) {
            for (std::uint32_t i = 0; i < count; ++i) {
                const std::uint8_t bytes[4] = {
                    static_cast<std::uint8_t>(i >> 24), static_cast<std::uint8_t>(i >> 16),
                    static_cast<std::uint8_t>(i >> 8), static_cast<std::uint8_t>(i)};
                l.send(common::shared_bytes::copy_of(std::span<const std::uint8_t>(bytes)));
            }
            EXPECT_EQ(l.queued_bytes(), count * 4U);
        };
    };
    asio::io_context client_context;
    auto client = connect_tcp(client_context, f.port());
    ASSERT_FALSE(write_all(client_context, client, "g"));
    std::error_code ec;
    const auto data = read_exactly(client_context, client, count * 4, ec);
    ASSERT_FALSE(ec);
    ASSERT_EQ(data.size(), count * 4U);
    for (std::uint32_t i = 0; i < count; ++i) {
        const auto* p = reinterpret_cast<const unsigned char*>(data.data() + 4 * i);
        const std::uint32_t v =
            (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
        ASSERT_EQ(v, i) << "at index " << i;
    }
}

// One shared payload queued to many connections is not copied: the buffer is shared.
TEST(net_tcp, shared_payload_is_sent_without_copy_to_several_connections) {
    fixture f(make_listener(transport_kind::tcp), false);
    asio::io_context client_context;
    auto a = connect_tcp(client_context, f.port());
    auto b = connect_tcp(client_context, f.port());
    ASSERT_FALSE(write_all(client_context, a, "1"));
    ASSERT_FALSE(write_all(client_context, b, "2"));
    auto ra = f.factory.wait_for(0);
    auto rb = f.factory.wait_for(1);
    ASSERT_TRUE(ra && rb);
    const auto payload = common::shared_bytes::copy_of(std::string_view("shared-payload"));
    for (auto* r : {ra.get(), rb.get()}) {
        auto the_link = r->the_link;
        f.pool.run_on(the_link->worker(), [&] {
            the_link->send(common::shared_bytes::copy_of(std::string_view("hdr:")));
            the_link->send(payload);
        });
    }
    std::error_code ec;
    EXPECT_EQ(read_exactly(client_context, a, 18, ec), "hdr:shared-payload");
    EXPECT_EQ(read_exactly(client_context, b, 18, ec), "hdr:shared-payload");
}

TEST(net_tcp, on_drained_after_exceeding_the_threshold) {
    auto config = make_listener(transport_kind::tcp);
    config.drain_threshold = 1000;
    fixture f(config, false);
    asio::io_context client_context;
    auto client = connect_tcp(client_context, f.port());
    ASSERT_FALSE(write_all(client_context, client, "x"));
    auto record = f.factory.wait_for(0);
    ASSERT_TRUE(record);
    f.pool.run_on(record->the_link->worker(),
                  [&] { record->the_link->send(common::shared_bytes::copy_of(std::string(5000, 'd'))); });
    std::error_code ec;
    EXPECT_EQ(read_exactly(client_context, client, 5000, ec).size(), 5000U);
    EXPECT_TRUE(record->wait([&] { return record->drained == 1; }));
}

TEST(net_tcp, factory_returning_null_refuses_the_connection) {
    running_pool pool;
    server srv(pool.pool(), {make_listener(transport_kind::tcp)},
               [](std::shared_ptr<link>) { return nullptr; });
    srv.start();
    asio::io_context client_context;
    auto client = connect_tcp(client_context, port_of(srv));
    EXPECT_EQ(read_until_error(client_context, client),
              std::error_code(boost::system::error_code(asio::error::eof)));
}

TEST(net_tcp, max_connections_closes_the_excess_and_frees_slots) {
    auto config = make_listener(transport_kind::tcp);
    config.max_connections = 2;
    fixture f(config);
    asio::io_context client_context;
    auto a = connect_tcp(client_context, f.port());
    auto b = connect_tcp(client_context, f.port());
    std::error_code ec;
    ASSERT_FALSE(write_all(client_context, a, "a"));
    ASSERT_FALSE(write_all(client_context, b, "b"));
    EXPECT_EQ(read_exactly(client_context, a, 1, ec), "a");
    EXPECT_EQ(read_exactly(client_context, b, 1, ec), "b");
    auto c = connect_tcp(client_context, f.port());
    EXPECT_TRUE(read_until_error(client_context, c));  // closed at once
    EXPECT_EQ(f.factory.calls.load(), 2);
    // The slot is freed when the socket closes, even while someone still holds the link.
    auto ra = f.factory.wait_for(0);
    ASSERT_TRUE(ra);
    std::shared_ptr<link> held;
    {
        std::lock_guard lock(ra->mutex);
        held = ra->the_link;
    }
    a.close();
    ASSERT_TRUE(ra->wait([&] { return ra->closed.has_value(); }));
    EXPECT_EQ(f.srv->connection_count(), 1U);
    auto d = connect_tcp(client_context, f.port());
    ASSERT_FALSE(write_all(client_context, d, "d"));
    EXPECT_EQ(read_exactly(client_context, d, 1, ec), "d");
    EXPECT_EQ(f.factory.calls.load(), 3);
    const unsigned worker = held->worker();
    f.pool.run_on(worker, [&] { held.reset(); });  // its timer and socket belong to that worker
}

TEST(net_tls, echo_over_tls_1_2_and_1_3) {
    fixture f(make_listener(transport_kind::tls, "mqtt-tls"));
    for (int version : {TLS1_2_VERSION, TLS1_3_VERSION}) {
        asio::io_context client_context;
        auto context = client_tls("", version);
        tls_client client(connect_tcp(client_context, f.port()), *context);
        ASSERT_FALSE(tls_handshake(client_context, client));
        EXPECT_EQ(SSL_version(client.native_handle()), version);
        ASSERT_FALSE(write_all(client_context, client, "secure"));
        std::error_code ec;
        EXPECT_EQ(read_exactly(client_context, client, 6, ec), "secure");
    }
    auto record = f.factory.wait_for(0);
    ASSERT_TRUE(record);
    EXPECT_EQ(record->peer.kind, transport_kind::tls);
    EXPECT_FALSE(record->peer.client_certificate_der);
}

TEST(net_tls, min_version_1_3_refuses_tls_1_2) {
    auto config = make_listener(transport_kind::tls);
    config.tls->min_version = "1.3";
    fixture f(config);
    asio::io_context client_context;
    auto context = client_tls("", TLS1_2_VERSION);
    tls_client client(connect_tcp(client_context, f.port()), *context);
    EXPECT_TRUE(tls_handshake(client_context, client));
    EXPECT_EQ(f.factory.calls.load(), 0);
}

listener_config mtls_listener(bool require) {
    auto config = make_listener(transport_kind::tls, "mqtt-mtls");
    config.tls->request_client_cert = true;
    config.tls->require_client_cert = require;
    return config;
}

TEST(net_tls, mtls_valid_client_certificate_is_visible_in_peer_info) {
    fixture f(mtls_listener(true));
    asio::io_context client_context;
    auto context = client_tls("client");
    tls_client client(connect_tcp(client_context, f.port()), *context);
    ASSERT_FALSE(tls_handshake(client_context, client));
    ASSERT_FALSE(write_all(client_context, client, "m"));
    std::error_code ec;
    EXPECT_EQ(read_exactly(client_context, client, 1, ec), "m");
    auto record = f.factory.wait_for(0);
    ASSERT_TRUE(record);
    ASSERT_TRUE(record->peer.client_certificate_der);
    EXPECT_EQ(record->peer.client_certificate_der->to_string(), der_of_pem(cert("client.crt")));
    EXPECT_NE(record->peer.client_certificate_subject.find("CN=test-client"), std::string::npos)
        << record->peer.client_certificate_subject;
}

// With TLS 1.3 the client may finish its handshake before the server rejects its certificate, so
// the proof is: no handler is made and the client's first read fails.
void expect_rejected(fixture& f, const std::string& client_cert) {
    asio::io_context client_context;
    auto context = client_tls(client_cert);
    tls_client client(connect_tcp(client_context, f.port()), *context);
    if (!tls_handshake(client_context, client)) {
        (void)write_all(client_context, client, "x");
        EXPECT_TRUE(read_until_error(client_context, client));
    }
    EXPECT_EQ(f.factory.calls.load(), 0);
}

TEST(net_tls, mtls_certificate_from_another_ca_is_rejected) {
    fixture f(mtls_listener(false));
    expect_rejected(f, "rogue-client");
}

TEST(net_tls, mtls_required_certificate_missing_is_rejected) {
    fixture f(mtls_listener(true));
    expect_rejected(f, "");
}

TEST(net_tls, mtls_optional_certificate_may_be_absent) {
    fixture f(mtls_listener(false));
    asio::io_context client_context;
    auto context = client_tls("");
    tls_client client(connect_tcp(client_context, f.port()), *context);
    ASSERT_FALSE(tls_handshake(client_context, client));
    ASSERT_FALSE(write_all(client_context, client, "o"));
    std::error_code ec;
    EXPECT_EQ(read_exactly(client_context, client, 1, ec), "o");
    auto record = f.factory.wait_for(0);
    ASSERT_TRUE(record);
    EXPECT_FALSE(record->peer.client_certificate_der);
    EXPECT_TRUE(record->peer.client_certificate_subject.empty());
}

TEST(net_tls, silent_client_is_dropped_after_the_handshake_timeout) {
    auto config = make_listener(transport_kind::tls);
    config.handshake_timeout = std::chrono::milliseconds(300);
    fixture f(config);
    asio::io_context client_context;
    const auto start = std::chrono::steady_clock::now();
    auto client = connect_tcp(client_context, f.port());
    EXPECT_TRUE(read_until_error(client_context, client));  // the server closes; we never send
    const auto elapsed = std::chrono::steady_clock::now() - start;
    EXPECT_GE(elapsed, std::chrono::milliseconds(250));
    EXPECT_LT(elapsed, std::chrono::seconds(10));
    EXPECT_EQ(f.factory.calls.load(), 0);
}

TEST(net_server, start_names_listener_and_file_when_tls_material_is_missing) {
    running_pool pool;
    auto config = make_listener(transport_kind::tls, "mqtt-tls");
    config.tls->cert_file = "/nonexistent/x.crt";
    server srv(pool.pool(), {config}, [](std::shared_ptr<link>) { return nullptr; });
    try {
        srv.start();
        FAIL() << "start() must throw";
    } catch (const std::runtime_error& e) {
        EXPECT_EQ(std::string(e.what()),
                  "listener 'mqtt-tls': cannot read cert_file /nonexistent/x.crt: No such file or directory");
    }
}

TEST(net_server, start_names_listener_address_and_port_when_bind_fails) {
    running_pool pool;
    server first(pool.pool(), {make_listener(transport_kind::tcp, "one")},
                 [](std::shared_ptr<link>) { return nullptr; });
    first.start();
    auto config = make_listener(transport_kind::tcp, "two");
    config.port = port_of(first);
    server second(pool.pool(), {config}, [](std::shared_ptr<link>) { return nullptr; });
    try {
        second.start();
        FAIL() << "start() must throw";
    } catch (const std::runtime_error& e) {
        const std::string expected =
            "listener 'two': cannot bind 127.0.0.1:" + std::to_string(config.port) + ":";
        EXPECT_EQ(std::string(e.what()).substr(0, expected.size()), expected) << e.what();
    }
}

TEST(net_server, stop_accepting_refuses_new_connections_and_keeps_open_ones) {
    fixture f(make_listener(transport_kind::tcp));
    asio::io_context client_context;
    auto a = connect_tcp(client_context, f.port());
    ASSERT_FALSE(write_all(client_context, a, "a"));
    std::error_code ec;
    EXPECT_EQ(read_exactly(client_context, a, 1, ec), "a");
    const auto port = f.port();
    f.srv->stop_accepting();
    // stop_accepting posts to worker 0; a round trip through worker 0 orders us after it.
    f.pool.run_on(0, [] {});
    tcp::socket b(client_context);
    boost::system::error_code connect_ec;
    bool done = false;
    b.async_connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port),
                    [&](boost::system::error_code e) {
                        connect_ec = e;
                        done = true;
                    });
    ASSERT_TRUE(run_until(client_context, [&] { return done; }));
    EXPECT_EQ(connect_ec, asio::error::connection_refused);
    ASSERT_FALSE(write_all(client_context, a, "still"));
    EXPECT_EQ(read_exactly(client_context, a, 5, ec), "still");
}

TEST(net_server, destroying_the_server_after_the_pool_stopped_releases_handlers) {
    struct holder : connection_handler {
        explicit holder(std::shared_ptr<link> l) : the_link(std::move(l)) {}
        void on_data(std::span<const std::uint8_t>) override {}
        void on_closed(std::error_code) override { ADD_FAILURE() << "no on_closed after the pool stopped"; }
        std::shared_ptr<link> the_link;  // a cycle that only the server can break
    };
    io_pool pool(1);
    std::thread runner([&] { pool.run(); });
    std::promise<std::weak_ptr<holder>> made;
    auto srv = std::make_unique<server>(
        pool, std::vector<listener_config>{make_listener(transport_kind::tcp)}, [&](std::shared_ptr<link> l) {
            auto h = std::make_shared<holder>(std::move(l));
            made.set_value(h);
            return h;
        });
    srv->start();
    asio::io_context context;
    auto client = connect_tcp(context, port_of(*srv));
    auto future = made.get_future();
    ASSERT_EQ(future.wait_for(event_timeout), std::future_status::ready);
    auto weak = future.get();
    EXPECT_FALSE(weak.expired());
    pool.stop();
    runner.join();
    EXPECT_FALSE(pool.running());
    srv.reset();
    EXPECT_TRUE(weak.expired());
}

}  // namespace
}  // namespace tollgate::net::test
