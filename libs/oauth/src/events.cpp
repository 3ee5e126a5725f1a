#include <algorithm>
#include <thread>
#include <utility>

#include <tollgate/oauth/events.hpp>

namespace tollgate::oauth {

struct hub_state {
    struct entry {
        std::uint64_t id;
        std::shared_ptr<revocation_listener> listener;
        std::shared_ptr<int> in_flight;  // use_count() - 1 = calls running now
    };
    std::mutex mutex;
    std::condition_variable idle;
    std::vector<entry> entries;
    std::uint64_t next_id = 1;
};

namespace {

class function_listener final : public revocation_listener {
  public:
    explicit function_listener(std::function<void(const revocation_event&)> fn) : fn_(std::move(fn)) {}
    void on_revocation(const revocation_event& event) override { fn_(event); }

  private:
    std::function<void(const revocation_event&)> fn_;
};

thread_local const hub_state* publishing_hub = nullptr;

}  // namespace

std::string_view to_string(revocation_kind k) noexcept {
    switch (k) {
        case revocation_kind::access_token:
            return "access_token";
        case revocation_kind::refresh_family:
            return "refresh_family";
        case revocation_kind::client:
            return "client";
        case revocation_kind::subject:
            return "subject";
    }
    return "unknown";
}

revocation_hub::revocation_hub() : state_(std::make_shared<hub_state>()) {}

revocation_hub::subscription revocation_hub::subscribe(std::shared_ptr<revocation_listener> listener) {
    std::lock_guard lock(state_->mutex);
    const auto id = state_->next_id++;
    state_->entries.push_back({id, std::move(listener), std::make_shared<int>(0)});
    return subscription(state_, id);
}

revocation_hub::subscription revocation_hub::subscribe(std::function<void(const revocation_event&)> fn) {
    return subscribe(std::make_shared<function_listener>(std::move(fn)));
}

void revocation_hub::publish(const revocation_event& event) const {
    std::vector<hub_state::entry> snapshot;
    {
        std::lock_guard lock(state_->mutex);
        snapshot = state_->entries;  // copies hold in_flight, so unsubscribe waits for us
    }
    const auto* previous = publishing_hub;
    publishing_hub = state_.get();
    for (const auto& e : snapshot) {
        bool still_subscribed = false;
        {
            std::lock_guard lock(state_->mutex);
            still_subscribed = std::any_of(state_->entries.begin(), state_->entries.end(),
                                           [&](const hub_state::entry& x) { return x.id == e.id; });
        }
        if (!still_subscribed) {
            continue;
        }
        try {
            e.listener->on_revocation(event);
        } catch (...) {
            // A listener must not throw; one that does cannot stop the others.
        }
    }
    publishing_hub = previous;
    snapshot.clear();
    std::lock_guard lock(state_->mutex);
    state_->idle.notify_all();
}

std::size_t revocation_hub::listener_count() const {
    std::lock_guard lock(state_->mutex);
    return state_->entries.size();
}

revocation_hub::subscription::subscription(subscription&& other) noexcept
    : hub_(std::move(other.hub_)), id_(std::exchange(other.id_, 0)) {}

revocation_hub::subscription& revocation_hub::subscription::operator=(subscription&& other) noexcept {
    if (this != &other) {
        reset();
        hub_ = std::move(other.hub_);
        id_ = std::exchange(other.id_, 0);
    }
    return *this;
}

revocation_hub::subscription::~subscription() {
    reset();
}

void revocation_hub::subscription::reset() {
    auto hub = hub_.lock();
    if (!hub || id_ == 0) {
        id_ = 0;
        return;
    }
    std::unique_lock lock(hub->mutex);
    auto it = std::find_if(hub->entries.begin(), hub->entries.end(),
                           [&](const hub_state::entry& x) { return x.id == id_; });
    if (it != hub->entries.end()) {
        auto in_flight = it->in_flight;
        hub->entries.erase(it);
        // Wait for calls running on other threads; a call on this very thread (unsubscribing from
        // inside the callback) cannot be waited for.
        if (publishing_hub != hub.get()) {
            hub->idle.wait(lock, [&] { return in_flight.use_count() == 1; });
        }
    }
    id_ = 0;
}

}  // namespace tollgate::oauth
