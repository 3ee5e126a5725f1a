// work_pool: an asio::thread_pool for blocking work.
#include <atomic>
#include <exception>

#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>

#include <tollgate/common/log.hpp>
#include <tollgate/net/work_pool.hpp>

namespace tollgate::net {

struct work_pool::impl {
    explicit impl(unsigned threads) : pool(threads) {}
    boost::asio::thread_pool pool;
    std::atomic<bool> stopped{false};
};

work_pool::work_pool(unsigned threads) : impl_(std::make_unique<impl>(threads == 0 ? 1 : threads)) {}

work_pool::~work_pool() {
    if (!impl_->stopped.exchange(true)) {
        impl_->pool.join();
    }
}

void work_pool::post(std::function<void()> fn) {
    if (impl_->stopped) {
        return;
    }
    boost::asio::post(impl_->pool, [fn = std::move(fn)] {
        try {
            fn();
        } catch (const std::exception& e) {
            common::logger("net")->error("work_pool: uncaught exception: {}", e.what());
        } catch (...) {
            common::logger("net")->error("work_pool: uncaught non-standard exception");
        }
    });
}

void work_pool::stop() {
    if (!impl_->stopped.exchange(true)) {
        impl_->pool.stop();
        impl_->pool.join();
    }
}

}  // namespace tollgate::net
