#pragma once
// Keeping signature checks off the broker's event loops, and shutting that down safely.
//
//  - verify_pool: a few threads that run token_authenticator's cold verifications (signature
//    checks; token_auth_config::offload = pool.executor()). The broker worker that received the
//    CONNECT only hashes the token and looks it up in the cache; a miss is queued here and the
//    verdict goes back to the connection's worker through the broker's `done`.
//  - authentication_gate: a broker::authenticator decorator whose close() guarantees that no
//    `done` reaches the broker from then on (answers still arriving from the pool, an HTTP
//    client's thread after introspection or a key refresh, are dropped). serve closes it, and stops
//    the pool, before the broker is destroyed.
//
// Design of verify_pool: one FIFO of jobs (std::deque<std::function<void()>>) under one mutex and a
// condition variable, `threads` workers taking jobs from the front. The state the jobs are queued
// in is shared (std::shared_ptr) with every executor() handed out, so an executor used after the
// pool was stopped or destroyed (a key refresh answering late) only drops the job. stop() marks the
// state stopped, drops the queued jobs (destroying them, never running them) and joins the
// workers, so when it returns no job is running or will run.
//
// Thread-safety: every member of both classes may be called from any thread, except that stop()
// and the destructors must not be called from one of the pool's own jobs.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include <tollgate/broker/auth.hpp>

namespace tollgate::auth {

struct verify_pool_stats {
    std::uint64_t queued = 0;     ///< jobs accepted
    std::uint64_t completed = 0;  ///< jobs that ran to the end (an escaping exception counts too)
    std::uint64_t dropped = 0;    ///< jobs discarded without running (posted after, or pending at, stop())
    std::size_t pending = 0;      ///< jobs queued and not started now
};

class verify_pool {
  public:
    /// Starts `threads` workers, named "tg-verify-<i>" (Linux thread names). Throws
    /// std::invalid_argument when threads is 0 (verify inline instead: leave
    /// token_auth_config::offload empty) or above 256.
    explicit verify_pool(unsigned threads);
    /// stop().
    ~verify_pool();
    verify_pool(const verify_pool&) = delete;
    verify_pool& operator=(const verify_pool&) = delete;

    /// Queues `job` to run once on a worker; after stop() it is dropped (destroyed, never run). A
    /// job's exception is caught and logged (the pool keeps running).
    void post(std::function<void()> job);
    /// A function suitable for token_auth_config::offload: post() through the shared state, usable
    /// after the pool is gone (the job is then dropped).
    [[nodiscard]] std::function<void(std::function<void()>)> executor() const;
    /// Stops taking jobs, drops those not started, waits for running ones to finish and joins the
    /// workers. Idempotent.
    void stop();

    [[nodiscard]] verify_pool_stats stats() const;
    [[nodiscard]] unsigned threads() const noexcept { return static_cast<unsigned>(workers_.size()); }

    struct state;

  private:
    std::shared_ptr<state> state_;
    std::vector<std::thread> workers_;
};

class authentication_gate final : public broker::authenticator {
  public:
    /// `inner` must outlive the gate and every step it forwards (their answers may arrive later).
    explicit authentication_gate(broker::authenticator& inner);
    ~authentication_gate() override;
    authentication_gate(const authentication_gate&) = delete;
    authentication_gate& operator=(const authentication_gate&) = delete;

    /// Forwards to `inner` while open; the answer is passed to `done` only if the gate is still open
    /// when it arrives. Once closed, steps are not forwarded and `done` is never called.
    void authenticate(broker::auth_request request, std::function<void(broker::auth_result)> done) override;
    /// From now on no `done` is called. Waits for answers being delivered right now to return, so
    /// once it returns the receiver (the broker) may be destroyed. Idempotent.
    void close();
    /// Answers dropped because they arrived after close().
    [[nodiscard]] std::uint64_t dropped() const noexcept;

    struct state;

  private:
    broker::authenticator& inner_;
    std::shared_ptr<state> state_;
};

}  // namespace tollgate::auth
