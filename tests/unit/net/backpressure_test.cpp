// pause_reading/resume_reading: while paused no on_data and no socket reads, so the client's
// writes back up into the kernel buffers; on resume everything arrives.
#include <poll.h>

#include <gtest/gtest.h>

#include "net_test_support.hpp"

namespace tollgate::net::test {
namespace {

TEST(net_backpressure, paused_connection_stops_reading_until_resumed) {
    running_pool running(2);
    recording_factory factory;
    factory.echo = false;
    std::atomic<bool> paused{false};
    std::atomic<bool> paused_once{false};
    std::atomic<int> data_while_paused{0};
    factory.customize = [&](recording_handler& h) {
        h.extra = [&](std::span<const std::uint8_t>, link& l) {
            if (paused) {
                ++data_while_paused;
            }
            if (!paused_once.exchange(true)) {  // pause after the first bytes only
                paused = true;
                l.pause_reading();
            }
        };
    };
    server srv(running.pool(), {make_listener(transport_kind::tcp)}, factory.make());
    srv.start();

    asio::io_context context;
    auto client = connect_tcp(context, port_of(srv));
    ASSERT_FALSE(write_all(context, client, "first"));
    auto record = factory.wait_for(0);
    ASSERT_TRUE(record);
    ASSERT_TRUE(record->wait([&] { return record->data_calls >= 1; }));
    std::size_t received_at_pause = 0;
    running.run_on(record->the_link->worker(), [&] {
        std::lock_guard lock(record->mutex);
        received_at_pause = record->data.size();
    });

    // Write without blocking until the kernel refuses more and stays full: the socket buffers of
    // both ends are full because the server does not read. A server that kept reading would let
    // us reach the cap.
    client.non_blocking(true);
    const std::string chunk(64 * 1024, 'p');
    const std::size_t cap = 512U * 1024 * 1024;
    std::size_t written = 0;
    bool stayed_full = false;
    while (written < cap) {
        boost::system::error_code ec;
        const std::size_t n = client.write_some(asio::buffer(chunk), ec);
        written += n;
        if (ec == asio::error::would_block) {
            pollfd p{client.native_handle(), POLLOUT, 0};
            if (::poll(&p, 1, 1000) == 0) {  // no room for a whole second: the server is not reading
                stayed_full = true;
                break;
            }
            continue;
        }
        ASSERT_FALSE(ec) << ec.message();
    }
    ASSERT_TRUE(stayed_full) << "wrote " << written << " bytes without the server pushing back";
    EXPECT_GT(written, 0U);
    EXPECT_EQ(data_while_paused.load(), 0);
    {
        std::lock_guard lock(record->mutex);
        EXPECT_EQ(record->data.size(), received_at_pause);
    }

    // Resume: everything written arrives, in order, as no on_data was skipped.
    client.non_blocking(false);
    running.run_on(record->the_link->worker(), [&] {
        paused = false;
        record->the_link->resume_reading();
        record->the_link->resume_reading();  // idempotent
    });
    const std::size_t expected = 5 + written;
    EXPECT_TRUE(record->wait([&] { return record->data.size() == expected; }))
        << record->data.size() << " of " << expected;
    EXPECT_EQ(record->data.substr(0, 5), "first");
    EXPECT_EQ(record->data.find_first_not_of('p', 5), std::string::npos);
}

TEST(net_backpressure, pause_inside_on_data_then_resume_from_a_post_delivers_the_rest) {
    running_pool running(1);
    recording_factory factory;
    factory.echo = false;
    factory.customize = [](recording_handler& h) {
        h.extra = [](std::span<const std::uint8_t>, link& l) {
            l.pause_reading();
            l.resume_reading();  // pause and resume within one callback: reading goes on
        };
    };
    server srv(running.pool(), {make_listener(transport_kind::tcp)}, factory.make());
    srv.start();
    asio::io_context context;
    auto client = connect_tcp(context, port_of(srv));
    ASSERT_FALSE(write_all(context, client, "one"));
    auto record = factory.wait_for(0);
    ASSERT_TRUE(record);
    ASSERT_TRUE(record->wait([&] { return record->data == "one"; }));
    ASSERT_FALSE(write_all(context, client, "two"));
    EXPECT_TRUE(record->wait([&] { return record->data == "onetwo"; }));
}

}  // namespace
}  // namespace tollgate::net::test
