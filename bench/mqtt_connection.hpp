// One client-side MQTT connection for the load generators in bench/ (mqtt_load, connect_load):
// packets encoded and decoded by libs/mqtt, reads framed by its frame_reader, writes batched
// (queue() then flush(); receive() flushes what is queued before it blocks on a read).
// Benchmark code only: included by the bench tools, never by the libraries. Not thread-safe: one
// coroutine drives one connection on a single-threaded io_context.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

#include <boost/asio.hpp>

#include <tollgate/mqtt/codec.hpp>

namespace tollgate::bench {

struct connection_options {
    std::string host = "127.0.0.1";
    std::uint16_t port = 1883;
    mqtt::protocol_version version = mqtt::protocol_version::v5;
};

class mqtt_connection {
  public:
    mqtt_connection(boost::asio::io_context& io, const connection_options& o)
        : socket_(io), opts_(o), reader_(268435455) {}

    /// TCP connect, send `c`, read the CONNACK and return it (refusals included). Throws
    /// boost::system::system_error on transport errors, std::runtime_error on a bad answer.
    boost::asio::awaitable<mqtt::connack> connect(const mqtt::connect& c) {
        using boost::asio::ip::tcp;
        tcp::resolver resolver(socket_.get_executor());
        auto endpoints = co_await resolver.async_resolve(opts_.host, std::to_string(opts_.port),
                                                         boost::asio::use_awaitable);
        co_await boost::asio::async_connect(socket_, endpoints, boost::asio::use_awaitable);
        socket_.set_option(tcp::no_delay(true));
        queue(c);
        co_await flush();
        auto p = co_await receive();
        auto* ack = std::get_if<mqtt::connack>(&p);
        if (ack == nullptr) {
            throw std::runtime_error("the broker's first packet is not a CONNACK");
        }
        if (ack->properties.receive_maximum) {
            server_receive_maximum_ = *ack->properties.receive_maximum;
        }
        co_return std::move(*ack);
    }

    void queue(const mqtt::packet& p) { mqtt::encode(p, opts_.version, out_); }

    boost::asio::awaitable<void> flush() {
        if (out_.empty()) {
            co_return;
        }
        std::vector<std::uint8_t> buf;
        buf.swap(out_);
        co_await boost::asio::async_write(socket_, boost::asio::buffer(buf), boost::asio::use_awaitable);
    }

    /// The next packet from the broker. Throws on transport errors and undecodable input.
    boost::asio::awaitable<mqtt::packet> receive() {
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
            std::size_t n =
                co_await socket_.async_read_some(boost::asio::buffer(read_buf_), boost::asio::use_awaitable);
            reader_.feed(std::span(read_buf_.data(), n));
        }
    }

    void close() {
        boost::system::error_code ignored;
        socket_.close(ignored);
    }

    /// The broker's Receive Maximum from the CONNACK (65535 when it sent none).
    [[nodiscard]] int receive_maximum() const { return server_receive_maximum_; }

  private:
    boost::asio::ip::tcp::socket socket_;
    const connection_options& opts_;
    mqtt::frame_reader reader_;
    std::vector<std::uint8_t> out_;
    std::array<std::uint8_t, 65536> read_buf_{};
    int server_receive_maximum_ = 65535;
};

}  // namespace tollgate::bench
