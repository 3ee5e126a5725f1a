#pragma once
// In-process revocation events: the authorization server publishes one event per revoked access
// token (by jti), refresh family, client or subject, and the broker side (which holds live MQTT
// sessions keyed by jti, client and subject) subscribes to end sessions at once.
//
// Design: a revocation_hub holds a list of listeners behind a mutex; publish() copies the list
// under the lock and calls each listener outside it, on the publishing thread, so a listener may
// subscribe or unsubscribe (even itself) from inside its callback without deadlock. A
// subscription is an RAII handle: destroying it unsubscribes, and after the destructor returns
// the listener is never called again (it waits for a call in progress on another thread).
// Listeners must be quick and must not throw (an exception is caught and dropped).
// Thread-safety: all members are thread-safe.
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace tollgate::oauth {

enum class revocation_kind {
    access_token,    ///< one access token, named by jti
    refresh_family,  ///< a grant (refresh family): its tokens' jtis come as access_token events too
    client,          ///< every token of a client (client removed or secret rotated)
    subject,         ///< every token of a user (user removed or password changed)
};

std::string_view to_string(revocation_kind k) noexcept;

struct revocation_event {
    revocation_kind kind{};
    std::string jti;              ///< access_token
    std::string family_id;        ///< refresh_family
    std::string client_id;        ///< client; also set on the others when known
    std::string subject;          ///< subject; also set on the others when known
    std::int64_t time = 0;        ///< Unix seconds when revoked
    std::int64_t expires_at = 0;  ///< access_token: when it would have expired anyway (0 unknown)
};

class revocation_listener {
  public:
    virtual ~revocation_listener() = default;
    virtual void on_revocation(const revocation_event& event) = 0;
};

class revocation_hub {
  public:
    class subscription {
      public:
        subscription() = default;
        subscription(subscription&& other) noexcept;
        subscription& operator=(subscription&& other) noexcept;
        subscription(const subscription&) = delete;
        subscription& operator=(const subscription&) = delete;
        ~subscription();
        /// Unsubscribes now (idempotent).
        void reset();

      private:
        friend class revocation_hub;
        subscription(std::weak_ptr<struct hub_state> hub, std::uint64_t id) : hub_(std::move(hub)), id_(id) {}
        std::weak_ptr<struct hub_state> hub_;
        std::uint64_t id_ = 0;
    };

    revocation_hub();
    /// The listener is held (shared) until the subscription ends.
    [[nodiscard]] subscription subscribe(std::shared_ptr<revocation_listener> listener);
    [[nodiscard]] subscription subscribe(std::function<void(const revocation_event&)> fn);
    /// Calls every listener subscribed now with event, on this thread.
    void publish(const revocation_event& event) const;
    [[nodiscard]] std::size_t listener_count() const;

  private:
    std::shared_ptr<struct hub_state> state_;
};

}  // namespace tollgate::oauth
