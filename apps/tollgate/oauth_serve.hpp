#pragma once
// The authorization server as a network service: libs/oauth's authorization_server mounted on a
// net::http_server (its own listener, default 127.0.0.1:8080; HTTPS when a certificate is
// configured, with optional client certificates for RFC 8705). Requests are handled on a
// work_pool (SQL and argon2id block), never on the io_pool's threads; a janitor pass runs every
// ten minutes on the work pool too. A journal_follower thread reads the revocation journal every
// revocation_poll, so revocations by `tollgate admin` (another process) reach revocations().
//
// Usage from `tollgate serve`:
//     auto oauth = tollgate::app::start_oauth_server(pool, oauth_config, clock);   // binds, throws
//     tollgate::app::announce_first_start(oauth->server(), std::cout);            // prints admin secret once
//     ... pool.run() ...
//     oauth->stop();  // before the io_pool is destroyed
#include <atomic>
#include <memory>
#include <ostream>
#include <vector>

#include <tollgate/common/clock.hpp>
#include <tollgate/net/http_server.hpp>
#include <tollgate/net/io_pool.hpp>
#include <tollgate/net/work_pool.hpp>
#include <tollgate/oauth/config.hpp>
#include <tollgate/oauth/http.hpp>
#include <tollgate/oauth/journal.hpp>
#include <tollgate/oauth/server.hpp>

namespace tollgate::app {

class oauth_service {
  public:
    /// Opens the data directory and database (throws std::runtime_error / store::error) but does
    /// not bind yet. The pool and the clock must outlive the service.
    oauth_service(net::io_pool& pool, oauth::server_config config, const common::clock& clock);
    ~oauth_service();
    oauth_service(const oauth_service&) = delete;
    oauth_service& operator=(const oauth_service&) = delete;

    /// Binds the listener (throws std::runtime_error naming address and cause), schedules the
    /// janitor and starts following the revocation journal.
    void start();
    /// Stops accepting, lets requests in progress finish, stops following the journal. Idempotent.
    void stop();
    [[nodiscard]] std::vector<net::bound_listener> endpoints() const;
    [[nodiscard]] oauth::authorization_server& server() noexcept { return *server_; }

  private:
    void handle(net::http_request req, net::http_responder respond);

    oauth::server_config config_;
    net::io_pool* pool_;
    std::unique_ptr<oauth::authorization_server> server_;
    std::unique_ptr<net::work_pool> work_;
    std::unique_ptr<net::http_server> http_;
    std::unique_ptr<oauth::journal_follower> follower_;
    std::shared_ptr<std::atomic<bool>> alive_ = std::make_shared<std::atomic<bool>>(true);
};

/// Builds the service from config and starts it on pool.
std::unique_ptr<oauth_service> start_oauth_server(net::io_pool& pool, const oauth::server_config& config,
                                                  const common::clock& clock);

/// On an empty database: creates the "admin" client and prints its id and secret to out, once.
/// Returns true when it did.
bool announce_first_start(oauth::authorization_server& server, std::ostream& out);

/// Conversions between net's and oauth's request/response types (exposed for tests).
oauth::request to_oauth_request(net::http_request req);
net::http_response to_net_response(oauth::response r);

}  // namespace tollgate::app
