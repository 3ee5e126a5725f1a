#include <stdexcept>

#include <tollgate/store/pool.hpp>

#include "detail.hpp"

namespace tollgate::store {

pool::pool(std::string url, std::size_t size) : url_(std::move(url)), size_(size) {
    if (size_ == 0) {
        throw std::invalid_argument("store::pool: size must be at least 1");
    }
    if (size_ > 1 && url_.starts_with("sqlite:") &&
        detail::parse_sqlite_url(std::string_view(url_).substr(7)).path == ":memory:") {
        throw std::invalid_argument("store::pool: an in-memory SQLite database cannot be shared; use size 1");
    }
    idle_.reserve(size_);
}

pool::~pool() = default;

pool::lease::lease(pool* owner, std::unique_ptr<database> db) noexcept : owner_(owner), db_(std::move(db)) {}

pool::lease::lease(lease&& other) noexcept : owner_(other.owner_), db_(std::move(other.db_)) {}

pool::lease& pool::lease::operator=(lease&& other) noexcept {
    if (this != &other) {
        release();
        owner_ = other.owner_;
        db_ = std::move(other.db_);
    }
    return *this;
}

pool::lease::~lease() {
    release();
}

void pool::lease::release() noexcept {
    if (db_) {
        owner_->give_back(std::move(db_));
    }
}

pool::lease pool::take(std::unique_lock<std::mutex>& lock) {
    if (!idle_.empty()) {
        auto db = std::move(idle_.back());
        idle_.pop_back();
        return lease(this, std::move(db));
    }
    ++open_;  // reserve the slot, connect without holding the lock
    lock.unlock();
    try {
        auto db = open(url_);
        return lease(this, std::move(db));
    } catch (...) {
        lock.lock();
        --open_;
        lock.unlock();
        available_.notify_one();
        throw;
    }
}

pool::lease pool::acquire() {
    std::unique_lock lock(mutex_);
    available_.wait(lock, [this] { return !idle_.empty() || open_ < size_; });
    return take(lock);
}

pool::lease pool::acquire_for(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    if (!available_.wait_for(lock, timeout, [this] { return !idle_.empty() || open_ < size_; })) {
        throw error(error::kind::busy, "store::pool: no connection free within " +
                                           std::to_string(timeout.count()) + " ms (" + std::to_string(size_) +
                                           " in use)");
    }
    return take(lock);
}

std::size_t pool::open_connections() const {
    std::lock_guard lock(mutex_);
    return open_;
}

void pool::give_back(std::unique_ptr<database> db) noexcept {
    bool keep = db->healthy();
    if (keep && db->in_transaction()) {
        try {
            db->rollback();
        } catch (...) {
            keep = false;
        }
        keep = keep && db->healthy() && !db->in_transaction();
    }
    if (!keep) {
        db.reset();  // close outside the lock; the slot is reopened by a later acquire()
    }
    {
        std::lock_guard lock(mutex_);
        if (keep) {
            idle_.push_back(std::move(db));
        } else {
            --open_;
        }
    }
    available_.notify_one();
}

}  // namespace tollgate::store
