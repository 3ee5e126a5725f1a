// io_pool and work_pool: post, periodic ticks on every worker, signals, blocking work off the loop.
#include <csignal>
#include <set>

#include <boost/asio/steady_timer.hpp>
#include <gtest/gtest.h>

#include <tollgate/net/io_pool_asio.hpp>
#include <tollgate/net/work_pool.hpp>

#include "net_test_support.hpp"

namespace tollgate::net::test {
namespace {

TEST(net_io_pool, post_runs_on_the_named_worker_thread) {
    running_pool running(3);
    auto& pool = running.pool();
    EXPECT_EQ(pool.size(), 3U);
    EXPECT_FALSE(io_pool::current_worker());
    std::set<std::thread::id> threads;
    for (unsigned w = 0; w < pool.size(); ++w) {
        running.run_on(w, [&, w] {
            EXPECT_EQ(io_pool::current_worker(), w);
            threads.insert(std::this_thread::get_id());
        });
    }
    EXPECT_EQ(threads.size(), 3U);
    EXPECT_THROW(pool.post(3, [] {}), std::out_of_range);
}

TEST(net_io_pool, post_from_many_threads_runs_everything) {
    running_pool running(2);
    std::atomic<int> count{0};
    std::promise<void> all;
    constexpr int per_thread = 1000;
    std::vector<std::thread> posters;
    for (int t = 0; t < 4; ++t) {
        posters.emplace_back([&, t] {
            for (int i = 0; i < per_thread; ++i) {
                running.pool().post(static_cast<unsigned>((t + i) % 2), [&] {
                    if (++count == 4 * per_thread) {
                        all.set_value();
                    }
                });
            }
        });
    }
    for (auto& p : posters) {
        p.join();
    }
    EXPECT_EQ(all.get_future().wait_for(event_timeout), std::future_status::ready);
}

TEST(net_io_pool, every_ticks_on_every_worker_on_its_own_thread) {
    running_pool running(2);
    std::mutex mutex;
    std::condition_variable changed;
    std::vector<int> ticks(2, 0);
    bool wrong_thread = false;
    running.pool().every(std::chrono::milliseconds(5), [&](unsigned worker) {
        std::lock_guard lock(mutex);
        if (io_pool::current_worker() != worker) {
            wrong_thread = true;
        }
        ++ticks.at(worker);
        changed.notify_all();
    });
    std::unique_lock lock(mutex);
    EXPECT_TRUE(changed.wait_for(lock, event_timeout, [&] { return ticks[0] >= 3 && ticks[1] >= 3; }));
    EXPECT_FALSE(wrong_thread);
}

TEST(net_io_pool, stop_before_run_returns_at_once) {
    io_pool pool(2);
    pool.stop();
    pool.run();
    SUCCEED();
}

TEST(net_io_pool, run_returns_after_stop_from_a_worker) {
    io_pool pool(2);
    pool.post(1, [&] { pool.stop(); });
    pool.run();
    SUCCEED();
}

TEST(net_io_pool, signal_handler_gets_sigterm) {
    io_pool pool(1);
    std::promise<int> got;
    pool.on_signal([&](int signal_number) {
        got.set_value(signal_number);
        pool.stop();
    });
    std::thread runner([&] { pool.run(); });
    pool.post(0, [] { std::raise(SIGTERM); });
    auto future = got.get_future();
    ASSERT_EQ(future.wait_for(event_timeout), std::future_status::ready);
    EXPECT_EQ(future.get(), SIGTERM);
    runner.join();
}

// SIGHUP is a reload request: the handler runs on worker 0 for each one, the pool keeps running,
// and SIGTERM still goes to the on_signal handler afterwards.
TEST(net_io_pool, sighup_calls_the_hangup_handler_and_does_not_stop) {
    io_pool pool(2);
    std::promise<void> second_hangup;
    std::promise<int> term;
    int hangups = 0;
    std::optional<unsigned> hangup_worker;
    pool.on_hangup([&] {
        hangup_worker = io_pool::current_worker();
        if (++hangups == 1) {
            pool.post(1, [] { std::raise(SIGHUP); });  // a second one, from another thread
        } else if (hangups == 2) {
            second_hangup.set_value();
        }
    });
    pool.on_signal([&](int signal_number) {
        term.set_value(signal_number);
        pool.stop();
    });
    std::thread runner([&] { pool.run(); });
    pool.post(0, [] { std::raise(SIGHUP); });
    ASSERT_EQ(second_hangup.get_future().wait_for(event_timeout), std::future_status::ready);
    EXPECT_TRUE(pool.running());
    pool.post(0, [] { std::raise(SIGTERM); });
    auto future = term.get_future();
    ASSERT_EQ(future.wait_for(event_timeout), std::future_status::ready);
    EXPECT_EQ(future.get(), SIGTERM);
    runner.join();
    EXPECT_EQ(hangups, 2);
    EXPECT_EQ(hangup_worker, 0U);
}

TEST(net_io_pool, io_context_of_gives_the_worker_context) {
    running_pool running(2);
    std::promise<unsigned> fired;
    auto timer = std::make_shared<asio::steady_timer>(io_context_of(running.pool(), 1));
    running.run_on(1, [&] {
        timer->expires_after(std::chrono::milliseconds(1));
        timer->async_wait([&](boost::system::error_code) { fired.set_value(*io_pool::current_worker()); });
    });
    auto future = fired.get_future();
    ASSERT_EQ(future.wait_for(event_timeout), std::future_status::ready);
    EXPECT_EQ(future.get(), 1U);
    running.run_on(1, [&] { timer.reset(); });
}

TEST(net_work_pool, runs_work_off_the_calling_thread_and_survives_exceptions) {
    work_pool work(2);
    std::promise<std::thread::id> ran;
    work.post([] { throw std::runtime_error("boom"); });
    work.post([&] { ran.set_value(std::this_thread::get_id()); });
    auto future = ran.get_future();
    ASSERT_EQ(future.wait_for(event_timeout), std::future_status::ready);
    EXPECT_NE(future.get(), std::this_thread::get_id());
    work.stop();
    work.post([] { ADD_FAILURE() << "work after stop must be dropped"; });
}

}  // namespace
}  // namespace tollgate::net::test
