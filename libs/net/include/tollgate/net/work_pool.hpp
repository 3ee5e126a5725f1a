#pragma once
// A few threads for blocking work (SQL, LDAP, password hashing) so that io_pool workers never
// block. Results go back to a connection by io_pool::post or an http_responder.
#include <functional>
#include <memory>

namespace tollgate::net {

class work_pool {
  public:
    /// threads == 0 is treated as 1.
    explicit work_pool(unsigned threads = 2);
    /// Waits for work already posted to finish, then joins the threads.
    ~work_pool();
    work_pool(const work_pool&) = delete;
    work_pool& operator=(const work_pool&) = delete;

    /// Runs fn on one of the pool's threads. Thread-safe. An exception thrown by fn is logged and
    /// swallowed. Work posted after stop() is dropped.
    void post(std::function<void()> fn);
    /// Stops taking work, drops work not yet started and joins the threads. Idempotent.
    void stop();

  private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

}  // namespace tollgate::net
