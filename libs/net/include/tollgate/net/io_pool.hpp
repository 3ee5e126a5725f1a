#pragma once
// A pool of worker threads, each running its own event loop (an Asio io_context). One worker per
// core by default. A connection lives on one worker for its whole life, so per-connection and
// per-session state needs no lock; other threads reach it by post().
#include <chrono>
#include <functional>
#include <memory>
#include <optional>

namespace boost::asio {
class io_context;
}

namespace tollgate::net {

class io_pool {
  public:
    /// threads == 0: one per core (std::thread::hardware_concurrency(), at least 1).
    explicit io_pool(unsigned threads = 0);
    /// Stops and joins the workers; pending work and open connections are dropped without
    /// callbacks. Destroy servers that use this pool first.
    ~io_pool();
    io_pool(const io_pool&) = delete;
    io_pool& operator=(const io_pool&) = delete;

    [[nodiscard]] unsigned size() const noexcept;

    /// Runs fn on the given worker's thread. Thread-safe, from any thread, also before run().
    /// Throws std::out_of_range if worker >= size(). Work posted after stop() is dropped.
    void post(unsigned worker, std::function<void()> fn);

    /// Runs the workers: worker 0 on the calling thread, workers 1..size()-1 on threads of their
    /// own. Blocks until stop() and joins the other threads before returning. Call once. If a
    /// posted function throws, the exception is logged and the worker carries on.
    void run();

    /// True from the start of run() until it returns (false again after stop() once run() returned).
    /// Thread-safe.
    [[nodiscard]] bool running() const noexcept;

    /// Asks every worker to stop (pending handlers are not run). Thread-safe, idempotent, may be
    /// called before run() (run() then returns at once).
    void stop();

    /// Calls fn(worker) every period on every worker, on that worker's thread, until stop(). The
    /// first call is one period from now; a late tick does not make later ticks drift.
    /// Thread-safe.
    void every(std::chrono::milliseconds period, std::function<void(unsigned worker)> fn);

    /// Calls fn(signal_number) on worker 0 when SIGINT or SIGTERM arrives, for every such signal
    /// until stop(). Call once, before run().
    void on_signal(std::function<void(int)> fn);

    /// Calls fn() on worker 0 for every SIGHUP until stop() (the process is not terminated; the
    /// usual meaning: reload configuration files, reopen log files). Calls never overlap: a SIGHUP
    /// arriving while fn runs is delivered after it returns. Without this call SIGHUP keeps its
    /// default action (terminate). Call once, before run().
    void on_hangup(std::function<void()> fn);

    /// The index of the worker running the calling thread, if the caller is a worker of any
    /// io_pool.
    static std::optional<unsigned> current_worker() noexcept;

    struct impl;

  private:
    friend boost::asio::io_context& io_context_of(io_pool& pool, unsigned worker);
    std::unique_ptr<impl> impl_;
};

}  // namespace tollgate::net
