#pragma once
// A fixed-size pool of connections to one database, for use from many threads.
//
// Design: connections are opened lazily (up to `size`) and kept in an idle stack; acquire()
// takes one or waits on a condition variable until a lease returns one. A returned connection
// that is still inside a transaction is rolled back; one that is broken (!healthy()) or whose
// rollback fails is closed, and its slot is reopened by a later acquire(). All members are
// thread-safe. Every lease must be destroyed before the pool.
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <tollgate/store/database.hpp>

namespace tollgate::store {

class pool {
  public:
    /// Does not connect yet. Throws std::invalid_argument if size is 0, or if the URL is an
    /// in-memory SQLite database and size > 1 (each connection would see its own database).
    pool(std::string url, std::size_t size);
    ~pool();
    pool(const pool&) = delete;
    pool& operator=(const pool&) = delete;

    /// Exclusive use of one connection until destroyed. Movable.
    class lease {
      public:
        lease(lease&& other) noexcept;
        lease& operator=(lease&& other) noexcept;
        lease(const lease&) = delete;
        lease& operator=(const lease&) = delete;
        ~lease();

        database& operator*() const noexcept { return *db_; }
        database* operator->() const noexcept { return db_.get(); }
        database& get() const noexcept { return *db_; }

      private:
        friend class pool;
        lease(pool* owner, std::unique_ptr<database> db) noexcept;
        void release() noexcept;

        pool* owner_;
        std::unique_ptr<database> db_;
    };

    /// Blocks until a connection is free. Opening a new connection may throw store::error
    /// (kind::connection); the slot stays free for the next attempt.
    lease acquire();
    /// As acquire(), but throws store::error (kind::busy) if none is free within `timeout`.
    lease acquire_for(std::chrono::milliseconds timeout);

    std::size_t size() const noexcept { return size_; }
    /// Connections currently open (idle or leased).
    std::size_t open_connections() const;
    const std::string& url() const noexcept { return url_; }

  private:
    lease take(std::unique_lock<std::mutex>& lock);
    void give_back(std::unique_ptr<database> db) noexcept;

    std::string url_;
    std::size_t size_;
    mutable std::mutex mutex_;
    std::condition_variable available_;
    std::vector<std::unique_ptr<database>> idle_;
    std::size_t open_ = 0;  // idle + leased + being opened
};

}  // namespace tollgate::store
