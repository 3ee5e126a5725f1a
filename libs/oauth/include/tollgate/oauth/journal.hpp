#pragma once
// journal_follower: carries revocations made by other processes into this one. Every revocation
// an authorization_server makes is appended to the revocation journal (storage,
// oauth_revocation_journal); `tollgate admin client remove` and friends run in their own process
// on the same database, so a running `tollgate serve` learns of them only by reading that table.
//
// Design: one thread calls server.follow_revocation_journal() every `interval`, waiting on a
// condition variable between calls, so stop() (and the destructor) return promptly: at most the
// duration of one database read. A database error is logged (once per failure streak, and again
// on recovery) and retried at the next tick; it never ends the thread.
// Thread-safety: stop() may be called from any thread, more than once.
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace tollgate::oauth {

class authorization_server;

class journal_follower {
  public:
    /// Starts the thread. server must outlive the follower (or its stop()).
    journal_follower(authorization_server& server, std::chrono::milliseconds interval);
    journal_follower(const journal_follower&) = delete;
    journal_follower& operator=(const journal_follower&) = delete;
    ~journal_follower();
    /// Ends the thread; after it returns no more events are published. Idempotent.
    void stop();

  private:
    void run();

    authorization_server* server_;
    std::chrono::milliseconds interval_;
    std::mutex mutex_;
    std::condition_variable wake_;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace tollgate::oauth
