// token_authenticator_offload: verify_pool (cold signature checks on their own threads) and
// authentication_gate (no answer reaches the broker after close), alone and with the real
// token_authenticator: concurrency, and shutdown with verifications still pending.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include <tollgate/auth/token_authenticator_offload.hpp>

#include "token_env.hpp"

namespace tollgate::auth::test {
namespace {

using namespace std::chrono_literals;

/// Counts events and lets a test wait (bounded) until a count is reached.
class counter {
  public:
    void add() {
        std::lock_guard lock(mutex_);
        ++n_;
        cv_.notify_all();
    }
    bool wait_for(int n, std::chrono::seconds limit = 20s) {
        std::unique_lock lock(mutex_);
        return cv_.wait_for(lock, limit, [&] { return n_ >= n; });
    }
    int value() {
        std::lock_guard lock(mutex_);
        return n_;
    }

  private:
    std::mutex mutex_;
    std::condition_variable cv_;
    int n_ = 0;
};

/// Waits until `pred` holds (bounded): the pool's counters change on its own threads.
template <typename Pred>
bool eventually(Pred pred, std::chrono::seconds limit = 20s) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!pred()) {
        if (std::chrono::steady_clock::now() > deadline) {
            return false;
        }
        std::this_thread::yield();
    }
    return true;
}

/// A job that blocks its worker until released, and says when it started and finished.
struct blocker {
    std::promise<void> started;
    std::promise<void> release;
    std::shared_future<void> released = release.get_future().share();
    std::atomic<bool> finished{false};
    std::function<void()> job() {
        return [this] {
            started.set_value();
            released.wait();
            finished = true;
        };
    }
};

broker::auth_request request_with(const std::string& token, const std::string& client_id = "d") {
    broker::auth_request r;
    r.client_id = client_id;
    r.password = bytes_of(token);
    return r;
}

TEST(verify_pool, runs_every_job_once_off_the_posting_thread) {
    verify_pool pool(4);
    EXPECT_EQ(pool.threads(), 4U);
    counter done;
    std::mutex m;
    std::set<std::thread::id> threads;
    constexpr int jobs = 2000;
    auto post = pool.executor();
    for (int i = 0; i < jobs; ++i) {
        post([&] {
            {
                std::lock_guard lock(m);
                threads.insert(std::this_thread::get_id());
            }
            done.add();
        });
    }
    ASSERT_TRUE(done.wait_for(jobs));
    EXPECT_TRUE(eventually([&] { return pool.stats().completed == jobs; }));
    pool.stop();
    EXPECT_EQ(done.value(), jobs);
    const auto st = pool.stats();
    EXPECT_EQ(st.queued, static_cast<std::uint64_t>(jobs));
    EXPECT_EQ(st.dropped, 0U);
    EXPECT_EQ(threads.count(std::this_thread::get_id()), 0U);
    EXPECT_LE(threads.size(), 4U);
}

TEST(verify_pool, stop_drops_queued_jobs_and_waits_for_the_running_one) {
    verify_pool pool(1);
    blocker b;
    pool.post(b.job());
    b.started.get_future().wait();
    std::atomic<int> ran{0};
    for (int i = 0; i < 10; ++i) {
        pool.post([&] { ++ran; });
    }
    EXPECT_EQ(pool.stats().pending, 10U);
    auto stopping = std::async(std::launch::async, [&] { pool.stop(); });
    // stop() has taken the queue once the ten are counted as dropped; only then let the job end.
    ASSERT_TRUE(eventually([&] { return pool.stats().dropped == 10; }));
    b.release.set_value();
    stopping.get();
    EXPECT_TRUE(b.finished);  // stop() returned only after the running job finished
    EXPECT_EQ(ran.load(), 0);
    pool.post([&] { ++ran; });  // after stop: dropped, never run
    pool.stop();                // idempotent
    EXPECT_EQ(ran.load(), 0);
    const auto st = pool.stats();
    EXPECT_EQ(st.completed, 1U);
    EXPECT_EQ(st.dropped, 11U);
}

TEST(verify_pool, executor_outlives_the_pool_and_a_throwing_job_is_contained) {
    std::function<void(std::function<void()>)> post;
    std::atomic<int> ran{0};
    {
        verify_pool pool(2);
        post = pool.executor();
        counter done;
        post([&] {
            done.add();
            throw std::runtime_error("job failed");
        });
        post([&] {
            ++ran;
            done.add();
        });
        ASSERT_TRUE(done.wait_for(2));
    }
    post([&] { ++ran; });  // the pool is gone: dropped
    EXPECT_EQ(ran.load(), 1);
    EXPECT_THROW(verify_pool(0), std::invalid_argument);
}

// Many CONNECTs with distinct cold tokens from several broker "workers" at once: each verdict
// arrives exactly once, on a verify thread, never on the thread that asked.
TEST(token_auth_offload, concurrent_cold_verifications_answer_once_each_on_the_pool) {
    common::manual_clock clock;
    token_env env(clock);
    verify_pool pool(2);
    token_auth_config cfg;
    cfg.issuers.push_back(env.config());
    cfg.offload = pool.executor();
    token_authenticator authn(cfg, clock);
    constexpr int askers = 4;
    constexpr int per_asker = 50;
    std::vector<std::vector<std::string>> tokens(askers);
    for (auto& list : tokens) {
        for (int i = 0; i < per_asker; ++i) {
            list.push_back(i % 5 == 4 ? env.token() + "x" : env.token());  // every fifth forged
        }
    }
    counter answered;
    std::atomic<int> successes{0};
    std::atomic<int> failures{0};
    std::atomic<int> inline_answers{0};
    std::vector<std::thread> threads;
    for (int a = 0; a < askers; ++a) {
        threads.emplace_back([&, a] {
            const auto me = std::this_thread::get_id();
            for (const auto& t : tokens[a]) {
                auto calls = std::make_shared<std::atomic<int>>(0);
                authn.authenticate(request_with(t), [&, me, calls](broker::auth_result r) {
                    EXPECT_EQ(++*calls, 1);
                    if (std::this_thread::get_id() == me) {
                        ++inline_answers;
                    }
                    (r.result == broker::auth_result::outcome::success ? successes : failures)++;
                    answered.add();
                });
            }
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    ASSERT_TRUE(answered.wait_for(askers * per_asker));
    pool.stop();
    EXPECT_EQ(answered.value(), askers * per_asker);
    EXPECT_EQ(successes.load(), askers * per_asker * 4 / 5);
    EXPECT_EQ(failures.load(), askers * per_asker / 5);
    EXPECT_EQ(inline_answers.load(), 0);
    EXPECT_EQ(authn.stats().verifications, static_cast<std::uint64_t>(askers * per_asker));
    // A reconnect with a verified token is a cache hit: answered inline, no new verification.
    int calls = 0;
    authn.authenticate(request_with(tokens[0][0]), [&](broker::auth_result r) {
        ++calls;
        EXPECT_EQ(r.result, broker::auth_result::outcome::success);
    });
    EXPECT_EQ(calls, 1);
    EXPECT_EQ(authn.stats().verifications, static_cast<std::uint64_t>(askers * per_asker));
}

// Shutdown with verifications pending (serve: auth_stack::stop_authentication before the broker is
// destroyed): the gate closes, the pool stops; queued checks are dropped, the running one finishes,
// and no answer reaches the receiver afterwards.
TEST(token_auth_offload, shutdown_with_pending_work_never_answers_after_close) {
    common::manual_clock clock;
    token_env env(clock);
    auto pool = std::make_unique<verify_pool>(1);
    token_auth_config cfg;
    cfg.issuers.push_back(env.config());
    cfg.offload = pool->executor();
    auto authn = std::make_unique<token_authenticator>(cfg, clock);
    authentication_gate gate(*authn);
    blocker b;
    pool->post(b.job());
    b.started.get_future().wait();
    std::atomic<bool> receiver_alive{true};
    std::atomic<int> answers{0};
    std::atomic<int> after_close{0};
    for (int i = 0; i < 20; ++i) {
        gate.authenticate(request_with(env.token()), [&](broker::auth_result) {
            if (!receiver_alive) {
                ++after_close;
            }
            ++answers;
        });
    }
    EXPECT_EQ(pool->stats().pending, 20U);
    gate.close();  // serve: before the broker dies
    receiver_alive = false;
    b.release.set_value();
    pool->stop();
    EXPECT_EQ(answers.load(), 0);
    EXPECT_EQ(after_close.load(), 0);
    // Each queued check either never started (dropped by stop) or ran after close (its answer
    // stopped by the gate); which, depends on when the worker got the lock back.
    const auto st = pool->stats();
    EXPECT_EQ(st.completed + st.dropped, 21U);  // the blocker and the 20
    EXPECT_EQ(gate.dropped(), st.completed - 1);
    // Steps after close are not forwarded, and the authenticator may go after the pool.
    gate.authenticate(request_with(env.token()), [&](broker::auth_result) { ++answers; });
    EXPECT_EQ(answers.load(), 0);
    pool.reset();
    authn.reset();
}

// An answer that was already in flight when the gate closed (a verification running on the pool,
// an introspection answer on the HTTP client's thread) is dropped, not delivered.
TEST(token_auth_offload, an_answer_arriving_after_close_is_dropped) {
    common::manual_clock clock;
    token_env env(clock);
    std::vector<std::function<void()>> queued;
    token_auth_config cfg;
    cfg.issuers.push_back(env.config());
    cfg.offload = [&](std::function<void()> job) { queued.push_back(std::move(job)); };
    token_authenticator authn(cfg, clock);
    authentication_gate gate(authn);
    int answers = 0;
    gate.authenticate(request_with(env.token()), [&](broker::auth_result) { ++answers; });
    gate.authenticate(request_with(env.token()), [&](broker::auth_result) { ++answers; });
    ASSERT_EQ(queued.size(), 2U);
    queued[0]();  // open: delivered
    EXPECT_EQ(answers, 1);
    gate.close();
    queued[1]();  // the verification finishes after close: dropped
    EXPECT_EQ(answers, 1);
    EXPECT_EQ(gate.dropped(), 1U);
    EXPECT_EQ(authn.stats().verifications, 2U);
}

// A refusal decided on the pool names the failed check in auth_result::detail (for the audit log and
// `tollgate admin explain`), never sent to the client.
TEST(token_auth_offload, refusals_on_the_pool_carry_the_failed_check) {
    common::manual_clock clock;
    token_env env(clock);
    verify_pool pool(1);
    token_auth_config cfg;
    cfg.issuers.push_back(env.config());
    cfg.offload = pool.executor();
    token_authenticator authn(cfg, clock);
    std::promise<broker::auth_result> forged;
    authn.authenticate(request_with(env.token() + "A"),
                       [&](broker::auth_result r) { forged.set_value(std::move(r)); });
    auto r = forged.get_future().get();
    EXPECT_EQ(r.result, broker::auth_result::outcome::failure);
    EXPECT_EQ(r.reason, mqtt::reason_code::bad_user_name_or_password);
    EXPECT_EQ(r.reason_string, "invalid token");
    EXPECT_FALSE(r.detail.empty());
    std::promise<broker::auth_result> expired;
    authn.authenticate(request_with(env.token("mqtt:all:#", -120)),
                       [&](broker::auth_result x) { expired.set_value(std::move(x)); });
    EXPECT_EQ(expired.get_future().get().detail, "token has expired (exp)");
}

}  // namespace
}  // namespace tollgate::auth::test
