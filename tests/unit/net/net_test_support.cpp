#include "net_test_support.hpp"

#include <cstdlib>
#include <stdexcept>

#include <boost/asio/connect.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <openssl/ssl.h>

namespace tollgate::net::test {

const std::string& certs_dir() {
    static const std::string dir = [] {
        std::string d = std::string(TOLLGATE_TEST_BINARY_DIR) + "/test-certs";
        const std::string command = std::string(TOLLGATE_SOURCE_DIR) + "/scripts/gen-test-certs " + d;
        if (std::system(command.c_str()) != 0) {
            throw std::runtime_error("gen-test-certs failed: " + command);
        }
        return d;
    }();
    return dir;
}

std::string cert(const std::string& file) {
    return certs_dir() + "/" + file;
}

running_pool::running_pool(unsigned threads) : pool_(threads), thread_([this] { pool_.run(); }) {}

running_pool::~running_pool() {
    pool_.stop();
    thread_.join();
}

void running_pool::run_on(unsigned worker, std::function<void()> fn) {
    std::promise<void> done;
    auto future = done.get_future();
    pool_.post(worker, [&] {
        fn();
        done.set_value();
    });
    if (future.wait_for(event_timeout) != std::future_status::ready) {
        throw std::runtime_error("run_on: worker did not run the function");
    }
}

bool connection_record::wait(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex);
    return changed.wait_for(lock, timeout, pred);
}

recording_handler::recording_handler(std::shared_ptr<link> l, std::shared_ptr<connection_record> record,
                                     bool echo)
    : link_(std::move(l)), record_(std::move(record)), echo_(echo) {}

void recording_handler::on_data(std::span<const std::uint8_t> bytes) {
    {
        std::lock_guard lock(record_->mutex);
        record_->data.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
        ++record_->data_calls;
    }
    record_->changed.notify_all();
    if (echo_) {
        link_->send(common::shared_bytes::copy_of(bytes));
    }
    if (extra) {
        extra(bytes, *link_);
    }
}

void recording_handler::on_drained() {
    {
        std::lock_guard lock(record_->mutex);
        ++record_->drained;
    }
    record_->changed.notify_all();
}

void recording_handler::on_closed(std::error_code reason) {
    {
        std::lock_guard lock(record_->mutex);
        record_->closed = reason;
        ++record_->closed_count;
        record_->the_link.reset();
    }
    record_->changed.notify_all();
    link_.reset();
}

handler_factory recording_factory::make() {
    return [this](std::shared_ptr<link> l) -> std::shared_ptr<connection_handler> {
        ++calls;
        auto record = std::make_shared<connection_record>();
        record->the_link = l;
        record->peer = l->peer();
        auto handler = std::make_shared<recording_handler>(l, record, echo);
        if (customize) {
            customize(*handler);
        }
        {
            std::lock_guard lock(mutex);
            records.push_back(record);
        }
        changed.notify_all();
        return handler;
    };
}

std::shared_ptr<connection_record> recording_factory::wait_for(std::size_t index) {
    std::unique_lock lock(mutex);
    if (!changed.wait_for(lock, event_timeout, [&] { return records.size() > index; })) {
        return nullptr;
    }
    return records[index];
}

listener_config make_listener(transport_kind kind, std::string name) {
    listener_config config;
    config.name = std::move(name);
    config.kind = kind;
    config.address = "127.0.0.1";
    config.port = 0;
    if (kind == transport_kind::tls || kind == transport_kind::wss) {
        config.tls = server_tls();
    }
    return config;
}

tls_settings server_tls() {
    tls_settings tls;
    tls.cert_file = cert("server.crt");
    tls.key_file = cert("server.key");
    tls.ca_file = cert("ca.crt");
    return tls;
}

bool run_until(asio::io_context& context, const std::function<bool()>& done,
               std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    context.restart();
    while (!done()) {
        const auto now = std::chrono::steady_clock::now();
        if (now >= deadline) {
            return false;
        }
        if (context.run_one_for(deadline - now) == 0 && context.stopped()) {
            context.restart();
            if (done()) {
                break;
            }
            // Nothing left to run and not done: the awaited event can no longer happen.
            return false;
        }
    }
    return true;
}

tcp::socket connect_tcp(asio::io_context& context, std::uint16_t port) {
    tcp::socket socket(context);
    bool done = false;
    boost::system::error_code result;
    socket.async_connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port),
                         [&](boost::system::error_code ec) {
                             result = ec;
                             done = true;
                         });
    if (!run_until(context, [&] { return done; }) || result) {
        throw std::runtime_error("connect to port " + std::to_string(port) + " failed: " + result.message());
    }
    return socket;
}

template <class Stream>
std::string read_exactly(asio::io_context& context, Stream& stream, std::size_t n, std::error_code& ec) {
    std::string out(n, '\0');
    bool done = false;
    std::size_t got = 0;
    asio::async_read(stream, asio::buffer(out), [&](boost::system::error_code e, std::size_t bytes) {
        ec = e;
        got = bytes;
        done = true;
    });
    if (!run_until(context, [&] { return done; })) {
        ec = std::make_error_code(std::errc::timed_out);
    }
    out.resize(got);
    return out;
}

template <class Stream>
std::error_code write_all(asio::io_context& context, Stream& stream, std::string_view data) {
    bool done = false;
    std::error_code result;
    asio::async_write(stream, asio::buffer(data), [&](boost::system::error_code e, std::size_t) {
        result = e;
        done = true;
    });
    if (!run_until(context, [&] { return done; })) {
        return std::make_error_code(std::errc::timed_out);
    }
    return result;
}

template <class Stream>
std::error_code read_until_error(asio::io_context& context, Stream& stream, std::string* out) {
    std::array<char, 4096> buffer{};
    for (;;) {
        bool done = false;
        boost::system::error_code result;
        std::size_t n = 0;
        stream.async_read_some(asio::buffer(buffer), [&](boost::system::error_code e, std::size_t bytes) {
            result = e;
            n = bytes;
            done = true;
        });
        if (!run_until(context, [&] { return done; })) {
            return std::make_error_code(std::errc::timed_out);
        }
        if (out != nullptr) {
            out->append(buffer.data(), n);
        }
        if (result) {
            return result;
        }
    }
}

using tls_client = asio::ssl::stream<tcp::socket>;
template std::string read_exactly(asio::io_context&, tcp::socket&, std::size_t, std::error_code&);
template std::string read_exactly(asio::io_context&, tls_client&, std::size_t, std::error_code&);
template std::error_code write_all(asio::io_context&, tcp::socket&, std::string_view);
template std::error_code write_all(asio::io_context&, tls_client&, std::string_view);
template std::error_code read_until_error(asio::io_context&, tcp::socket&, std::string*);
template std::error_code read_until_error(asio::io_context&, tls_client&, std::string*);

std::shared_ptr<asio::ssl::context> client_tls(const std::string& cert_name, int version) {
    auto context = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
    context->load_verify_file(cert("ca.crt"));
    context->set_verify_mode(asio::ssl::verify_peer);
    if (!cert_name.empty()) {
        context->use_certificate_chain_file(cert(cert_name + ".crt"));
        context->use_private_key_file(cert(cert_name + ".key"), asio::ssl::context::pem);
    }
    if (version != 0) {
        SSL_CTX_set_min_proto_version(context->native_handle(), version);
        SSL_CTX_set_max_proto_version(context->native_handle(), version);
    }
    return context;
}

void set_sni(void* ssl) {
    static char host[] = "localhost";
    SSL_ctrl(static_cast<SSL*>(ssl), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name, host);
}

std::uint16_t port_of(const server& s, std::size_t index) {
    return s.endpoints().at(index).port;
}

}  // namespace tollgate::net::test
