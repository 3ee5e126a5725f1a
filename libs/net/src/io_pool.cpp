// io_pool: one io_context per worker thread.
#include <exception>
#include <stdexcept>
#include <thread>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <tollgate/common/log.hpp>
#include <tollgate/net/io_pool_asio.hpp>

#include "io_pool_impl.hpp"

namespace tollgate::net {

namespace asio = boost::asio;

namespace {

thread_local std::optional<unsigned> this_worker;

void run_worker(asio::io_context& context, unsigned index) {
    this_worker = index;
    for (;;) {
        try {
            context.run();
            break;
        } catch (const std::exception& e) {
            common::logger("net")->error("worker {}: uncaught exception in a handler: {}", index, e.what());
        } catch (...) {
            common::logger("net")->error("worker {}: uncaught non-standard exception in a handler", index);
        }
    }
    this_worker.reset();
}

// A periodic tick on one worker; re-arms itself from the previous deadline so it does not drift.
struct ticker : std::enable_shared_from_this<ticker> {
    ticker(asio::io_context& context, std::chrono::milliseconds every, unsigned index,
           std::shared_ptr<std::function<void(unsigned)>> callback)
        : timer(context), period(every), worker(index), fn(std::move(callback)) {}

    void arm() {
        timer.expires_at(timer.expiry() + period);
        timer.async_wait([self = shared_from_this()](boost::system::error_code ec) {
            if (ec) {
                return;
            }
            (*self->fn)(self->worker);
            self->arm();
        });
    }

    asio::steady_timer timer;
    std::chrono::milliseconds period;
    unsigned worker;
    std::shared_ptr<std::function<void(unsigned)>> fn;
};

void arm_signals(asio::signal_set& signals, std::shared_ptr<std::function<void(int)>> fn) {
    signals.async_wait([&signals, fn](boost::system::error_code ec, int signal_number) {
        if (ec) {
            return;
        }
        (*fn)(signal_number);
        arm_signals(signals, fn);
    });
}

void arm_hangups(asio::signal_set& signals, std::shared_ptr<std::function<void()>> fn) {
    signals.async_wait([&signals, fn](boost::system::error_code ec, int) {
        if (ec) {
            return;
        }
        (*fn)();
        arm_hangups(signals, fn);
    });
}

}  // namespace

io_pool::io_pool(unsigned threads) : impl_(std::make_unique<impl>()) {
    if (threads == 0) {
        threads = std::max(1U, std::thread::hardware_concurrency());
    }
    impl_->workers.reserve(threads);
    for (unsigned i = 0; i < threads; ++i) {
        auto w = std::make_unique<impl::worker>();
        w->guard.emplace(w->context.get_executor());
        impl_->workers.push_back(std::move(w));
    }
}

io_pool::~io_pool() {
    stop();
    // Destroy the signal set before the contexts, then each context, last worker first, so worker 0
    // (accept loops, signals) goes last; pending handlers and the objects they own go with them.
    impl_->signals.reset();
    impl_->hangups.reset();
    while (!impl_->workers.empty()) {
        impl_->workers.pop_back();
    }
}

unsigned io_pool::size() const noexcept {
    return static_cast<unsigned>(impl_->workers.size());
}

void io_pool::post(unsigned worker, std::function<void()> fn) {
    if (worker >= impl_->workers.size()) {
        throw std::out_of_range("io_pool::post: no worker " + std::to_string(worker));
    }
    asio::post(impl_->workers[worker]->context, std::move(fn));
}

void io_pool::run() {
    if (impl_->running.exchange(true)) {
        throw std::logic_error("io_pool::run called twice");
    }
    impl_->active = true;
    std::vector<std::thread> threads;
    threads.reserve(impl_->workers.size());
    for (unsigned i = 1; i < impl_->workers.size(); ++i) {
        threads.emplace_back([this, i] { run_worker(impl_->workers[i]->context, i); });
    }
    if (!impl_->stopped) {
        run_worker(impl_->workers[0]->context, 0);
    }
    for (auto& t : threads) {
        t.join();
    }
    impl_->active = false;
}

bool io_pool::running() const noexcept {
    return impl_->active;
}

void io_pool::stop() {
    impl_->stopped = true;
    for (auto& w : impl_->workers) {
        w->context.stop();
    }
}

void io_pool::every(std::chrono::milliseconds period, std::function<void(unsigned)> fn) {
    if (period.count() <= 0) {
        throw std::invalid_argument("io_pool::every: period must be positive");
    }
    auto shared_fn = std::make_shared<std::function<void(unsigned)>>(std::move(fn));
    for (unsigned i = 0; i < impl_->workers.size(); ++i) {
        auto& context = impl_->workers[i]->context;
        asio::post(context, [&context, period, i, shared_fn] {
            auto t = std::make_shared<ticker>(context, period, i, shared_fn);
            t->timer.expires_at(std::chrono::steady_clock::now());
            t->arm();
        });
    }
}

void io_pool::on_signal(std::function<void(int)> fn) {
    auto& context = impl_->workers[0]->context;
    impl_->signals = std::make_unique<asio::signal_set>(context, SIGINT, SIGTERM);
    arm_signals(*impl_->signals, std::make_shared<std::function<void(int)>>(std::move(fn)));
}

void io_pool::on_hangup(std::function<void()> fn) {
    auto& context = impl_->workers[0]->context;
    impl_->hangups = std::make_unique<asio::signal_set>(context, SIGHUP);
    arm_hangups(*impl_->hangups, std::make_shared<std::function<void()>>(std::move(fn)));
}

std::optional<unsigned> io_pool::current_worker() noexcept {
    return this_worker;
}

asio::io_context& io_context_of(io_pool& pool, unsigned worker) {
    if (worker >= pool.impl_->workers.size()) {
        throw std::out_of_range("io_context_of: no worker " + std::to_string(worker));
    }
    return pool.impl_->workers[worker]->context;
}

}  // namespace tollgate::net
