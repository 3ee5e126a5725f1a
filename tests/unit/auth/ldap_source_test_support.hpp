#pragma once
// Helpers for ldap_source_test: the fixture's slapd (tests/support/slapd-server), a root-bound admin
// connection that builds test entries, a TCP proxy whose connections a test can drop, and a listener
// that never answers.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

struct ldap;  // LDAP of <ldap.h>

namespace tollgate::auth::ldap_test {

/// $TOLLGATE_TEST_LDAP_DIR (set by the `slapd` fixture); throws std::runtime_error when unset.
std::string server_dir();
std::string server_url();  ///< ldap://127.0.0.1:<port>
std::uint16_t server_port();
std::string read_file(const std::string& path);  ///< without the trailing newline
std::uint16_t unused_port();                     ///< a loopback port nothing listens on (bound, then closed)

using attrs = std::vector<std::pair<std::string, std::vector<std::string>>>;

/// A connection bound as the root DN (cn=admin,dc=tollgate,dc=test). Throws std::runtime_error.
class directory_admin {
  public:
    explicit directory_admin(const std::string& url);
    ~directory_admin();
    directory_admin(const directory_admin&) = delete;
    directory_admin& operator=(const directory_admin&) = delete;

    void add(const std::string& dn, const attrs& attributes);
    /// Deletes `dn` and everything below it; nothing when it does not exist.
    void remove_subtree(const std::string& dn);

  private:
    ::ldap* ld_ = nullptr;
};

/// Listens on 127.0.0.1:<port> and never accepts: connections complete in the kernel's backlog and
/// then hear nothing.
class silent_listener {
  public:
    silent_listener();
    ~silent_listener();
    silent_listener(const silent_listener&) = delete;
    silent_listener& operator=(const silent_listener&) = delete;
    [[nodiscard]] std::uint16_t port() const noexcept { return port_; }

  private:
    int fd_ = -1;
    std::uint16_t port_ = 0;
};

/// Forwards 127.0.0.1:<port()> to 127.0.0.1:<upstream> on its own thread.
class tcp_proxy {
  public:
    explicit tcp_proxy(std::uint16_t upstream);
    ~tcp_proxy();
    tcp_proxy(const tcp_proxy&) = delete;
    tcp_proxy& operator=(const tcp_proxy&) = delete;

    [[nodiscard]] std::uint16_t port() const noexcept { return port_; }
    [[nodiscard]] int accepted() const noexcept { return accepted_.load(); }
    /// Closes every forwarded connection; returns once they are closed.
    void drop_connections();
    /// From now on, accepted connections are closed at once.
    void refuse_new() noexcept { refuse_ = true; }
    /// While on, accepted connections are held open and never forwarded (a server that accepts TCP
    /// and never speaks); drop_connections() closes them too.
    void hold_new(bool on) noexcept { hold_ = on; }

  private:
    void run();

    std::uint16_t upstream_;
    std::uint16_t port_ = 0;
    int listen_fd_ = -1;
    int wake_[2] = {-1, -1};
    std::atomic<int> accepted_{0};
    std::atomic<bool> refuse_{false};
    std::atomic<bool> hold_{false};
    std::atomic<bool> stop_{false};
    std::mutex mutex_;
    std::condition_variable done_;
    std::uint64_t drops_requested_ = 0;
    std::uint64_t drops_done_ = 0;
    std::thread thread_;
};

}  // namespace tollgate::auth::ldap_test
