// ldap_source: opening one connection (see ldap_source_connect.hpp), with the watchdog that bounds
// the ldaps:// TLS handshake.
#include "ldap_source_connect.hpp"

#include <condition_variable>
#include <fcntl.h>
#include <mutex>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

namespace tollgate::auth::detail {
namespace {

/// Bounds the opening of one connection. libldap 2.5 runs the ldaps:// TLS handshake right after
/// the TCP connect with no deadline of its own (ldap_int_tls_start; LDAP_OPT_NETWORK_TIMEOUT covers
/// the TCP connect only), so a server that accepts TCP and then stays silent would hold the caller
/// forever. libldap's connection callback (LDAP_OPT_CONNECT_CB: called on the connecting thread
/// after the TCP connect, before TLS) hands the socket to the watchdog armed on that thread, which
/// keeps a duplicate of it. The watchdog's thread shuts the socket down when the deadline passes
/// before the watchdog is disarmed (destroyed): the blocked handshake then reads end-of-file and
/// fails, and ldap_connect returns an error. Holding a duplicate means the socket (and so the
/// number the watchdog acts on) stays ours even after libldap closes its own descriptor.
class connect_watchdog {
  public:
    explicit connect_watchdog(std::chrono::steady_clock::time_point deadline)
        : thread_([this, deadline] { run(deadline); }) {}

    connect_watchdog(const connect_watchdog&) = delete;
    connect_watchdog& operator=(const connect_watchdog&) = delete;

    ~connect_watchdog() {
        {
            std::lock_guard lock(mutex_);
            disarmed_ = true;
        }
        wake_.notify_one();
        thread_.join();
        if (fd_ >= 0) {
            ::close(fd_);
        }
    }

    /// Watches `fd` (a connected socket) from now on; shut down at once when the deadline has passed.
    void watch(int fd) noexcept {
        std::lock_guard lock(mutex_);
        if (fd_ >= 0) {
            ::close(fd_);  // libldap tried another address: the latest socket is the one in use
        }
        fd_ = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
        if (fired_ && fd_ >= 0) {
            ::shutdown(fd_, SHUT_RDWR);
        }
    }

    [[nodiscard]] bool fired() noexcept {
        std::lock_guard lock(mutex_);
        return fired_;
    }

  private:
    void run(std::chrono::steady_clock::time_point deadline) {
        std::unique_lock lock(mutex_);
        if (wake_.wait_until(lock, deadline, [this] { return disarmed_; })) {
            return;
        }
        fired_ = true;
        if (fd_ >= 0) {
            ::shutdown(fd_, SHUT_RDWR);
        }
    }

    std::mutex mutex_;
    std::condition_variable wake_;
    int fd_ = -1;
    bool disarmed_ = false;
    bool fired_ = false;
    std::thread thread_;  ///< last: started once the members above exist
};

/// The watchdog of the connection this thread is opening (libldap calls back on the same thread).
thread_local connect_watchdog* current_watchdog = nullptr;

int on_connect(LDAP* /*ld*/, Sockbuf* sb, LDAPURLDesc* /*srv*/, sockaddr* /*addr*/, ldap_conncb* /*ctx*/) {
    ber_socket_t fd = -1;
    if (current_watchdog != nullptr && ber_sockbuf_ctrl(sb, LBER_SB_OPT_GET_FD, &fd) == 1 && fd >= 0) {
        current_watchdog->watch(fd);
    }
    return 0;
}

void on_disconnect(LDAP* /*ld*/, Sockbuf* /*sb*/, ldap_conncb* /*ctx*/) {}

/// libldap keeps a pointer to it in every handle: static storage.
ldap_conncb watchdog_callbacks{on_connect, on_disconnect, nullptr};

void set_option(LDAP* ld, int option, const void* value, std::string_view what) {
    const int rc = ldap_set_option(ld, option, value);
    if (rc != LDAP_OPT_SUCCESS) {
        throw ldap_failure(describe(ld, std::string("ldap: setting ") + std::string(what), rc));
    }
}

void set_tls_options(LDAP* raw, const ldap_config& config) {
    const int demand = LDAP_OPT_X_TLS_DEMAND;
    set_option(raw, LDAP_OPT_X_TLS_REQUIRE_CERT, &demand, "TLS certificate check");
    const int tls12 = LDAP_OPT_X_TLS_PROTOCOL_TLS1_2;
    set_option(raw, LDAP_OPT_X_TLS_PROTOCOL_MIN, &tls12, "TLS minimum version");
    if (!config.ca_file.empty()) {
        set_option(raw, LDAP_OPT_X_TLS_CACERTFILE, config.ca_file.c_str(), "TLS CA file");
    }
    if (!config.cert_file.empty()) {
        set_option(raw, LDAP_OPT_X_TLS_CERTFILE, config.cert_file.c_str(), "TLS client certificate");
        set_option(raw, LDAP_OPT_X_TLS_KEYFILE, config.key_file.c_str(), "TLS client key");
    }
    const int is_server = 0;  // a TLS context of this handle's own, with the options above
    set_option(raw, LDAP_OPT_X_TLS_NEWCTX, &is_server, "TLS context");
}

/// A handle with its options set (no network I/O yet). libldap's global and TLS library
/// initialisation happen here on first use, so handles are prepared one at a time.
ldap_ptr prepare(const ldap_config& config) {
    static std::mutex prepare_mutex;
    std::lock_guard lock(prepare_mutex);
    LDAP* raw = nullptr;
    const int rc = ldap_initialize(&raw, config.url.c_str());
    ldap_ptr ld(raw);
    if (rc != LDAP_SUCCESS || raw == nullptr) {
        throw ldap_failure(describe(nullptr, "ldap: bad URL", rc));
    }
    const int version = LDAP_VERSION3;
    set_option(raw, LDAP_OPT_PROTOCOL_VERSION, &version, "protocol version");
    set_option(raw, LDAP_OPT_REFERRALS, nullptr, "referrals off");  // never chase: no rebinding elsewhere
    const timeval connect_tv = to_timeval(config.connect_timeout);
    const timeval op_tv = to_timeval(config.operation_timeout);
    set_option(raw, LDAP_OPT_NETWORK_TIMEOUT, &connect_tv, "connect timeout");
    set_option(raw, LDAP_OPT_TIMEOUT, &op_tv, "operation timeout");
    set_option(raw, LDAP_OPT_CONNECT_CB, &watchdog_callbacks, "connect callback");
    if (config.tls != ldap_tls::none) {
        set_tls_options(raw, config);
    }
    return ld;
}

/// Opens the TCP connection (and for ldaps:// completes the TLS handshake) within connect_timeout.
void open_transport(LDAP* raw, const ldap_config& config) {
    int rc = LDAP_SUCCESS;
    bool fired = false;
    {
        connect_watchdog watchdog(std::chrono::steady_clock::now() + config.connect_timeout);
        current_watchdog = &watchdog;
        rc = ldap_connect(raw);
        current_watchdog = nullptr;
        fired = watchdog.fired();
    }
    if (rc != LDAP_SUCCESS) {
        std::string what = "ldap: connect to " + config.url;
        if (fired) {
            what += " (not " +
                    std::string(config.tls == ldap_tls::ldaps ? "connected with TLS" : "connected") +
                    " within connect_timeout " + std::to_string(config.connect_timeout.count()) + " ms)";
        }
        throw ldap_failure(describe(raw, what, rc));
    }
}

void bind(LDAP* raw, const ldap_config& config) {
    int rc = LDAP_SUCCESS;
    if (config.bind_method == ldap_bind_method::sasl_external) {
        // RFC 4513 §5.2.3 / RFC 4422 Appendix A: the server takes the identity from the TLS client
        // certificate (and may map it to an entry). An empty initial response asks for no other
        // authorization identity; without one the server would first send an empty challenge
        // (RFC 4422 §5), which this one-step bind does not answer.
        char none[] = "";
        berval empty{0, none};
        rc = ldap_sasl_bind_s(raw, nullptr, "EXTERNAL", &empty, nullptr, nullptr, nullptr);
        if (rc != LDAP_SUCCESS) {
            throw ldap_failure(describe(raw, "ldap: SASL EXTERNAL bind to " + config.url, rc));
        }
        return;
    }
    if (config.bind_dn.empty()) {
        return;  // anonymous
    }
    berval password{};
    password.bv_len = static_cast<ber_len_t>(config.bind_password.size());
    password.bv_val = const_cast<char*>(config.bind_password.data());
    rc =
        ldap_sasl_bind_s(raw, config.bind_dn.c_str(), LDAP_SASL_SIMPLE, &password, nullptr, nullptr, nullptr);
    if (rc != LDAP_SUCCESS) {
        throw ldap_failure(describe(raw, "ldap: bind as " + config.bind_dn + " to " + config.url, rc));
    }
}

}  // namespace

timeval to_timeval(std::chrono::milliseconds ms) noexcept {
    timeval tv{};
    tv.tv_sec = static_cast<decltype(tv.tv_sec)>(ms.count() / 1000);
    tv.tv_usec = static_cast<decltype(tv.tv_usec)>((ms.count() % 1000) * 1000);
    return tv;
}

std::string describe(LDAP* ld, std::string_view what, int rc) {
    std::string out = std::string(what) + ": " + ldap_err2string(rc);
    char* diagnostic = nullptr;
    if (ld != nullptr && ldap_get_option(ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, &diagnostic) == LDAP_OPT_SUCCESS &&
        diagnostic != nullptr) {
        if (*diagnostic != '\0') {
            out += " (";
            out += diagnostic;
            out += ')';
        }
        ldap_memfree(diagnostic);
    }
    return out;
}

ldap_ptr open_ldap_connection(const ldap_config& config) {
    ldap_ptr ld = prepare(config);
    LDAP* raw = ld.get();
    open_transport(raw, config);
    if (config.tls == ldap_tls::starttls) {
        const int rc = ldap_start_tls_s(raw, nullptr, nullptr);
        if (rc != LDAP_SUCCESS) {
            throw ldap_failure(describe(raw, "ldap: StartTLS to " + config.url, rc));
        }
    }
    bind(raw, config);
    return ld;
}

}  // namespace tollgate::auth::detail
