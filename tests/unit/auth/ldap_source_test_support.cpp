#include "ldap_source_test_support.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <cerrno>
#include <cstdlib>
#include <fcntl.h>
#include <fstream>
#include <netinet/in.h>
#include <poll.h>
#include <sstream>
#include <stdexcept>
#include <sys/socket.h>
#include <unistd.h>

#include <ldap.h>

namespace tollgate::auth::ldap_test {
namespace {

constexpr const char* root_dn = "cn=admin,dc=tollgate,dc=test";
constexpr const char* root_password = "admin-test-secret";

sockaddr_in loopback(std::uint16_t port) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return addr;
}

/// A socket bound to 127.0.0.1:0; returns the fd and sets port.
int bound_socket(std::uint16_t& port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        throw std::runtime_error("socket failed");
    }
    sockaddr_in addr = loopback(0);
    socklen_t len = sizeof addr;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
        ::close(fd);
        throw std::runtime_error("bind failed");
    }
    port = ntohs(addr.sin_port);
    return fd;
}

void check(::ldap* ld, int rc, const std::string& what) {
    if (rc != LDAP_SUCCESS) {
        throw std::runtime_error(what + ": " + ldap_err2string(rc));
    }
    (void)ld;
}

/// Copies what is readable on `from` to `to`; false on EOF or error.
bool forward(int from, int to) {
    char buf[16384];
    const ssize_t n = ::read(from, buf, sizeof buf);
    if (n <= 0) {
        return false;
    }
    ssize_t sent = 0;
    while (sent < n) {
        const ssize_t w = ::send(to, buf + sent, static_cast<std::size_t>(n - sent), MSG_NOSIGNAL);
        if (w <= 0) {
            return false;
        }
        sent += w;
    }
    return true;
}

}  // namespace

std::string server_dir() {
    const char* dir = std::getenv("TOLLGATE_TEST_LDAP_DIR");
    if (dir == nullptr || *dir == '\0') {
        throw std::runtime_error("TOLLGATE_TEST_LDAP_DIR is not set: run through ctest (the slapd fixture)");
    }
    return dir;
}

std::string read_file(const std::string& path) {
    std::ifstream in(path);
    if (!in) {
        throw std::runtime_error("cannot read " + path);
    }
    std::stringstream ss;
    ss << in.rdbuf();
    std::string s = ss.str();
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) {
        s.pop_back();
    }
    return s;
}

std::string server_url() {
    return read_file(server_dir() + "/url");
}

std::uint16_t server_port() {
    const std::string url = server_url();
    return static_cast<std::uint16_t>(std::stoi(url.substr(url.rfind(':') + 1)));
}

std::uint16_t unused_port() {
    std::uint16_t port = 0;
    ::close(bound_socket(port));
    return port;
}

directory_admin::directory_admin(const std::string& url) {
    check(nullptr, ldap_initialize(&ld_, url.c_str()), "ldap_initialize");
    const int version = LDAP_VERSION3;
    ldap_set_option(ld_, LDAP_OPT_PROTOCOL_VERSION, &version);
    berval password{};
    std::string pw = root_password;
    password.bv_len = pw.size();
    password.bv_val = pw.data();
    check(ld_, ldap_sasl_bind_s(ld_, root_dn, LDAP_SASL_SIMPLE, &password, nullptr, nullptr, nullptr),
          "root bind");
}

directory_admin::~directory_admin() {
    if (ld_ != nullptr) {
        ldap_unbind_ext_s(ld_, nullptr, nullptr);
    }
}

void directory_admin::add(const std::string& dn, const attrs& attributes) {
    std::vector<std::string> names;
    std::vector<std::vector<berval>> values(attributes.size());
    std::vector<std::vector<berval*>> pointers(attributes.size());
    std::vector<LDAPMod> mods(attributes.size());
    std::vector<LDAPMod*> list;
    names.reserve(attributes.size());
    for (std::size_t i = 0; i < attributes.size(); ++i) {
        names.push_back(attributes[i].first);
        for (const auto& v : attributes[i].second) {
            values[i].push_back(berval{static_cast<ber_len_t>(v.size()), const_cast<char*>(v.data())});
        }
        for (auto& bv : values[i]) {
            pointers[i].push_back(&bv);
        }
        pointers[i].push_back(nullptr);
        mods[i].mod_op = LDAP_MOD_ADD | LDAP_MOD_BVALUES;
        mods[i].mod_type = names[i].data();
        mods[i].mod_vals.modv_bvals = pointers[i].data();
        list.push_back(&mods[i]);
    }
    list.push_back(nullptr);
    check(ld_, ldap_add_ext_s(ld_, dn.c_str(), list.data(), nullptr, nullptr), "add " + dn);
}

void directory_admin::remove_subtree(const std::string& dn) {
    char no_attrs[] = "1.1";
    char* attrs_list[] = {no_attrs, nullptr};
    LDAPMessage* result = nullptr;
    const int rc = ldap_search_ext_s(ld_, dn.c_str(), LDAP_SCOPE_SUBTREE, "(objectClass=*)", attrs_list, 0,
                                     nullptr, nullptr, nullptr, 0, &result);
    if (rc == LDAP_NO_SUCH_OBJECT) {
        ldap_msgfree(result);
        return;
    }
    std::vector<std::string> dns;
    for (LDAPMessage* e = ldap_first_entry(ld_, result); e != nullptr; e = ldap_next_entry(ld_, e)) {
        char* d = ldap_get_dn(ld_, e);
        dns.emplace_back(d);
        ldap_memfree(d);
    }
    ldap_msgfree(result);
    check(ld_, rc, "search " + dn);
    // Children have longer DNs than their parents: delete the longest first.
    std::sort(dns.begin(), dns.end(), [](const auto& a, const auto& b) { return a.size() > b.size(); });
    for (const auto& d : dns) {
        check(ld_, ldap_delete_ext_s(ld_, d.c_str(), nullptr, nullptr), "delete " + d);
    }
}

silent_listener::silent_listener() {
    fd_ = bound_socket(port_);
    if (::listen(fd_, 16) != 0) {
        ::close(fd_);
        throw std::runtime_error("listen failed");
    }
}

silent_listener::~silent_listener() {
    ::close(fd_);
}

tcp_proxy::tcp_proxy(std::uint16_t upstream) : upstream_(upstream) {
    listen_fd_ = bound_socket(port_);
    if (::listen(listen_fd_, 16) != 0 || ::pipe2(wake_, O_CLOEXEC) != 0) {
        ::close(listen_fd_);
        throw std::runtime_error("proxy setup failed");
    }
    thread_ = std::thread([this] { run(); });
}

tcp_proxy::~tcp_proxy() {
    stop_ = true;
    const char c = 's';
    (void)!::write(wake_[1], &c, 1);
    thread_.join();
    ::close(listen_fd_);
    ::close(wake_[0]);
    ::close(wake_[1]);
}

void tcp_proxy::drop_connections() {
    std::unique_lock lock(mutex_);
    const std::uint64_t ticket = ++drops_requested_;
    const char c = 'd';
    (void)!::write(wake_[1], &c, 1);
    done_.wait(lock, [&] { return drops_done_ >= ticket; });
}

void tcp_proxy::run() {
    std::vector<std::pair<int, int>> pairs;  // (client, upstream)
    std::vector<int> held;                   // accepted, never forwarded
    auto close_held = [&held] {
        for (const int fd : held) {
            ::close(fd);
        }
        held.clear();
    };
    auto close_pair = [](const std::pair<int, int>& p) {
        ::close(p.first);
        ::close(p.second);
    };
    while (!stop_) {
        std::vector<pollfd> fds = {{wake_[0], POLLIN, 0}, {listen_fd_, POLLIN, 0}};
        for (const auto& [a, b] : pairs) {
            fds.push_back({a, POLLIN, 0});
            fds.push_back({b, POLLIN, 0});
        }
        if (::poll(fds.data(), fds.size(), -1) < 0) {
            continue;  // EINTR
        }
        if ((fds[0].revents & POLLIN) != 0) {
            char c = 0;
            (void)!::read(wake_[0], &c, 1);
            for (const auto& p : pairs) {
                close_pair(p);
            }
            pairs.clear();
            close_held();
            std::lock_guard lock(mutex_);
            drops_done_ = drops_requested_;
            done_.notify_all();
            continue;
        }
        std::vector<std::pair<int, int>> kept;
        for (std::size_t i = 0; i < pairs.size(); ++i) {
            const bool a_ready = (fds[2 + 2 * i].revents & (POLLIN | POLLHUP | POLLERR)) != 0;
            const bool b_ready = (fds[3 + 2 * i].revents & (POLLIN | POLLHUP | POLLERR)) != 0;
            const bool ok = (!a_ready || forward(pairs[i].first, pairs[i].second)) &&
                            (!b_ready || forward(pairs[i].second, pairs[i].first));
            if (ok) {
                kept.push_back(pairs[i]);
            } else {
                close_pair(pairs[i]);
            }
        }
        pairs = std::move(kept);
        if ((fds[1].revents & POLLIN) != 0) {
            const int client = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
            if (client < 0) {
                continue;
            }
            if (refuse_) {
                ::close(client);
                continue;
            }
            if (hold_) {
                ++accepted_;
                held.push_back(client);
                continue;
            }
            const int up = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
            sockaddr_in addr = loopback(upstream_);
            if (up < 0 || ::connect(up, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
                ::close(client);
                if (up >= 0) {
                    ::close(up);
                }
                continue;
            }
            ++accepted_;
            pairs.emplace_back(client, up);
        }
    }
    for (const auto& p : pairs) {
        close_pair(p);
    }
    close_held();
}

}  // namespace tollgate::auth::ldap_test
