#include <exception>

#include <tollgate/common/log.hpp>
#include <tollgate/oauth/journal.hpp>
#include <tollgate/oauth/server.hpp>

namespace tollgate::oauth {

journal_follower::journal_follower(authorization_server& server, std::chrono::milliseconds interval)
    : server_(&server)
    , interval_(interval < std::chrono::milliseconds{1} ? std::chrono::milliseconds{1} : interval) {
    thread_ = std::thread([this] { run(); });
}

journal_follower::~journal_follower() {
    stop();
}

void journal_follower::stop() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) {
        thread_.join();
    }
}

void journal_follower::run() {
    bool failing = false;
    std::unique_lock lock(mutex_);
    while (!wake_.wait_for(lock, interval_, [this] { return stopping_; })) {
        lock.unlock();
        try {
            const auto n = server_->follow_revocation_journal();
            if (failing) {
                common::logger("oauth")->info("revocation journal readable again");
                failing = false;
            }
            if (n > 0) {
                common::logger("oauth")->debug("revocation journal: {} revocation(s) from other processes",
                                               n);
            }
        } catch (const std::exception& e) {
            if (!failing) {
                common::logger("oauth")->error("revocation journal: cannot read (retrying): {}", e.what());
                failing = true;
            }
        }
        lock.lock();
    }
}

}  // namespace tollgate::oauth
