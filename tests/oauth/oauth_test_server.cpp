// A real authorization server process for the end-to-end tests: apps/tollgate/oauth_serve on a
// free loopback port over a fresh data directory, seeded with a user and the clients the tests
// use. Writes a JSON ready file (issuer, port, data directory, client secrets, limits) once
// listening; runs until SIGTERM.
//
//   oauth_test_server <data-dir> <ready-file> [<cert-dir>]
//
// With a cert-dir (made by scripts/gen-test-certs) the listener is HTTPS with server.crt and asks
// for client certificates issued by ca.crt (RFC 8705 tls_client_auth); the issuer is https://.
// Limits are small so the tests can reach them: 3 login failures per user name, 8 per address,
// and the signing-key table is re-read every second (rotation by `tollgate admin key rotate`).
#include <arpa/inet.h>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <netinet/in.h>
#include <stdexcept>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <tollgate/common/clock.hpp>
#include <tollgate/net/io_pool.hpp>

#include "../../apps/tollgate/oauth_serve.hpp"

namespace {

std::uint16_t free_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
        throw std::runtime_error("cannot find a free port");
    }
    ::close(fd);
    return ntohs(addr.sin_port);
}

std::string add(tollgate::oauth::authorization_server& s, const std::string& id, const std::string& method,
                std::vector<std::string> grants, std::vector<std::string> scopes,
                std::vector<std::string> redirect_uris = {}) {
    tollgate::oauth::client_options o;
    o.client_id = id;
    o.name = "Test client " + id;
    o.auth_method = method;
    o.grant_types = std::move(grants);
    o.scopes = std::move(scopes);
    o.redirect_uris = std::move(redirect_uris);
    o.access_token_ttl = 300;
    return s.create_client(o).secret;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 3 && argc != 4) {
        std::cerr << "usage: oauth_test_server <data-dir> <ready-file> [<cert-dir>]\n";
        return 2;
    }
    try {
        tollgate::common::real_clock clock;
        tollgate::net::io_pool pool(1);
        tollgate::oauth::server_config config;
        config.data_dir = argv[1];
        config.port = free_port();
        config.issuer = "http://127.0.0.1:" + std::to_string(config.port);
        if (argc == 4) {
            const std::string certs = argv[3];
            config.issuer = "https://127.0.0.1:" + std::to_string(config.port);
            config.tls_certificate_file = certs + "/server.crt";
            config.tls_private_key_file = certs + "/server.key";
            config.tls_client_ca_file = certs + "/ca.crt";
            config.request_client_certificates = true;
        }
        config.refresh_grace = std::chrono::seconds{0};
        config.device_poll_interval = std::chrono::seconds{1};
        config.login_max_failures = 3;
        config.login_address_max_failures = 8;
        config.signing_key_refresh = std::chrono::seconds{1};
        auto service = tollgate::app::start_oauth_server(pool, config, clock);
        auto& s = service->server();
        s.add_user("alice", "correct horse battery");
        const std::vector<std::string> scopes{"mqtt:sub:sensors/#", "mqtt:pub:sensors/#", "offline_access"};
        boost::json::object ready;
        ready["issuer"] = config.issuer;
        ready["port"] = config.port;
        ready["data_dir"] = config.data_dir;
        ready["login_max_failures"] = config.login_max_failures;
        ready["login_address_max_failures"] = config.login_address_max_failures;
        boost::json::object secrets;
        secrets["web"] = add(s, "web", "client_secret_basic", {"authorization_code", "refresh_token"}, scopes,
                             {"http://127.0.0.1/cb"});
        secrets["svc"] = add(s, "svc", "client_secret_post", {"client_credentials"}, scopes);
        secrets["rs"] = add(s, "rs", "client_secret_basic", {"client_credentials"}, {});
        add(s, "tv", "none", {"device_code", "refresh_token"}, scopes);
        ready["secrets"] = std::move(secrets);
        ready["user"] = "alice";
        ready["password"] = "correct horse battery";
        const std::string tmp = std::string(argv[2]) + ".tmp";
        std::ofstream(tmp) << boost::json::serialize(ready);
        std::rename(tmp.c_str(), argv[2]);
        std::cout << "ready" << std::endl;  // one line on stdout: the event a test can wait on
        pool.on_signal([&](int) { pool.stop(); });
        pool.run();
        service->stop();
    } catch (const std::exception& e) {
        std::cerr << "oauth_test_server: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
