// verify_pool and authentication_gate (see token_authenticator_offload.hpp).
#include <atomic>
#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <pthread.h>
#include <shared_mutex>
#include <stdexcept>
#include <string>

#include <spdlog/spdlog.h>

#include <tollgate/auth/token_authenticator_offload.hpp>
#include <tollgate/common/log.hpp>

namespace tollgate::auth {

struct verify_pool::state {
    std::mutex mutex;
    std::condition_variable wake;
    std::deque<std::function<void()>> jobs;
    bool stopped = false;
    verify_pool_stats stats;

    void post(std::function<void()> job) {
        {
            std::lock_guard lock(mutex);
            if (!stopped) {
                jobs.push_back(std::move(job));
                ++stats.queued;
                wake.notify_one();
                return;
            }
            ++stats.dropped;
        }
        // `job` is destroyed here, outside the lock (its captures may run arbitrary destructors).
    }

    void run() {
        std::unique_lock lock(mutex);
        for (;;) {
            wake.wait(lock, [this] { return stopped || !jobs.empty(); });
            if (stopped) {
                return;  // stop() drops what is left
            }
            auto job = std::move(jobs.front());
            jobs.pop_front();
            lock.unlock();
            try {
                job();
            } catch (const std::exception& e) {
                common::logger("auth")->error("verify_pool: uncaught exception: {}", e.what());
            } catch (...) {
                common::logger("auth")->error("verify_pool: uncaught non-standard exception");
            }
            job = nullptr;  // captures die before the next job, outside the lock
            lock.lock();
            ++stats.completed;
        }
    }
};

verify_pool::verify_pool(unsigned threads) : state_(std::make_shared<state>()) {
    if (threads == 0 || threads > 256) {
        throw std::invalid_argument("verify_pool: threads must be between 1 and 256");
    }
    workers_.reserve(threads);
    for (unsigned i = 0; i < threads; ++i) {
        workers_.emplace_back([s = state_, i] {
            const std::string name = "tg-verify-" + std::to_string(i);  // ps -L, /proc/PID/task/*/comm
            pthread_setname_np(pthread_self(), name.c_str());
            s->run();
        });
    }
}

verify_pool::~verify_pool() {
    stop();
}

void verify_pool::post(std::function<void()> job) {
    state_->post(std::move(job));
}

std::function<void(std::function<void()>)> verify_pool::executor() const {
    return [s = state_](std::function<void()> job) { s->post(std::move(job)); };
}

void verify_pool::stop() {
    std::deque<std::function<void()>> left;
    {
        std::lock_guard lock(state_->mutex);
        if (!state_->stopped) {
            state_->stopped = true;
            left.swap(state_->jobs);
            state_->stats.dropped += left.size();
        }
        state_->wake.notify_all();
    }
    left.clear();  // dropped jobs die outside the lock
    for (auto& w : workers_) {
        if (w.joinable()) {
            w.join();
        }
    }
}

verify_pool_stats verify_pool::stats() const {
    std::lock_guard lock(state_->mutex);
    auto s = state_->stats;
    s.pending = state_->jobs.size();
    return s;
}

struct authentication_gate::state {
    std::shared_mutex mutex;  ///< shared while an answer is delivered, exclusive to close
    bool open = true;
    std::atomic<std::uint64_t> dropped{0};
};

authentication_gate::authentication_gate(broker::authenticator& inner)
    : inner_(inner), state_(std::make_shared<state>()) {}

authentication_gate::~authentication_gate() {
    close();
}

void authentication_gate::authenticate(broker::auth_request request,
                                       std::function<void(broker::auth_result)> done) {
    {
        std::shared_lock lock(state_->mutex);
        if (!state_->open) {
            ++state_->dropped;
            return;
        }
    }
    inner_.authenticate(std::move(request), [s = state_, done = std::move(done)](broker::auth_result r) {
        std::shared_lock lock(s->mutex);
        if (!s->open) {
            ++s->dropped;
            return;
        }
        done(std::move(r));
    });
}

void authentication_gate::close() {
    std::unique_lock lock(state_->mutex);
    state_->open = false;
}

std::uint64_t authentication_gate::dropped() const noexcept {
    return state_->dropped.load();
}

}  // namespace tollgate::auth
