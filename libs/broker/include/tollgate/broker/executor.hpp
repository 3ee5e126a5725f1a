#pragma once
// How the broker runs work on the host's threads. The host (libs/net + apps/tollgate) owns one
// event loop per core ("worker"); every session and connection lives on exactly one of them.
// The broker never creates threads and never blocks: it only posts closures.
// Thread-safety: post() is callable from any thread; worker_count() is constant.
#include <functional>

namespace tollgate::broker {

class executor {
  public:
    virtual ~executor();
    /// Number of workers; worker indices are 0 .. worker_count()-1. Constant for the executor's life.
    [[nodiscard]] virtual unsigned worker_count() const = 0;
    /// Runs `fn` later on worker `worker`. Closures posted to one worker run one at a time and in
    /// the order they were posted (FIFO): the broker relies on this for session hand-over.
    /// Never runs `fn` inline.
    virtual void post(unsigned worker, std::function<void()> fn) = 0;
};

}  // namespace tollgate::broker
