#pragma once
// io_pool internals shared by this library's Asio code.
#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <tollgate/net/io_pool.hpp>

namespace tollgate::net {

// One io_context per worker, each with a work guard so run() blocks until stop(). Contexts are
// created with concurrency hint 1: each is run by exactly one thread.
struct io_pool::impl {
    struct worker {
        boost::asio::io_context context{1};
        std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> guard;
    };
    std::vector<std::unique_ptr<worker>> workers;
    std::atomic<bool> stopped{false};
    std::atomic<bool> running{false};  ///< run() was called
    std::atomic<bool> active{false};   ///< run() has not returned yet
    std::unique_ptr<boost::asio::signal_set> signals;
    std::unique_ptr<boost::asio::signal_set> hangups;  ///< SIGHUP (on_hangup)
};

}  // namespace tollgate::net
