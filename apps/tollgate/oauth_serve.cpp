#include "oauth_serve.hpp"

#include <atomic>
#include <chrono>
#include <stdexcept>

#include <tollgate/common/log.hpp>

namespace tollgate::app {

oauth::request to_oauth_request(net::http_request req) {
    oauth::request out;
    out.method = std::move(req.method);
    out.target = std::move(req.target);
    out.headers = std::move(req.headers);
    out.body = std::move(req.body);
    out.peer_address = req.peer.remote_address;
    out.secure = req.peer.kind == net::transport_kind::tls;
    if (req.peer.client_certificate_der) {
        const auto bytes = req.peer.client_certificate_der->span();
        out.client_certificate_der.assign(bytes.begin(), bytes.end());
    }
    return out;
}

net::http_response to_net_response(oauth::response r) {
    net::http_response out;
    out.status = static_cast<unsigned>(r.status);
    out.headers = std::move(r.headers);
    out.body = std::move(r.body);
    return out;
}

oauth_service::oauth_service(net::io_pool& pool, oauth::server_config config, const common::clock& clock)
    : config_(std::move(config))
    , pool_(&pool)
    , server_(std::make_unique<oauth::authorization_server>(config_, clock))
    , work_(std::make_unique<net::work_pool>(config_.work_threads)) {}

oauth_service::~oauth_service() {
    stop();
}

void oauth_service::handle(net::http_request req, net::http_responder respond) {
    // SQL and argon2id block: hand the request to the work pool, answer from there.
    work_->post([this, req = std::move(req), respond = std::move(respond)]() mutable {
        respond(to_net_response(server_->handle(to_oauth_request(std::move(req)))));
    });
}

void oauth_service::start() {
    net::listener_config listener;
    listener.name = "oauth";
    listener.address = config_.listen_address;
    listener.port = config_.port;
    if (!config_.tls_certificate_file.empty()) {
        listener.kind = net::transport_kind::tls;
        net::tls_settings tls;
        tls.cert_file = config_.tls_certificate_file;
        tls.key_file = config_.tls_private_key_file;
        tls.ca_file = config_.tls_client_ca_file;
        tls.request_client_cert = config_.request_client_certificates;
        listener.tls = tls;
    }
    net::http_limits limits;
    limits.max_body = config_.max_body_bytes;
    http_ = std::make_unique<net::http_server>(
        *pool_, std::vector<net::listener_config>{listener},
        [this](net::http_request req, net::http_responder respond) {
            handle(std::move(req), std::move(respond));
        },
        limits);
    http_->start();
    pool_->every(std::chrono::minutes{10}, [this, alive = alive_](unsigned worker) {
        // The io_pool may outlive this service: after stop() the timer does nothing.
        if (worker != 0 || !alive->load()) {
            return;
        }
        work_->post([this] {
            const auto report = server_->run_janitor();
            if (report.total() > 0) {
                common::logger("oauth")->info("janitor removed {} expired rows", report.total());
            }
        });
    });
    follower_ = std::make_unique<oauth::journal_follower>(*server_, config_.revocation_poll);
    for (const auto& e : http_->endpoints()) {
        common::logger("oauth")->info("authorization server listening on {}:{} (issuer {})", e.address,
                                      e.port, config_.issuer);
    }
}

void oauth_service::stop() {
    alive_->store(false);
    if (follower_) {
        follower_->stop();
    }
    if (http_) {
        http_->stop();
    }
    if (work_) {
        work_->stop();
    }
}

std::vector<net::bound_listener> oauth_service::endpoints() const {
    return http_ ? http_->endpoints() : std::vector<net::bound_listener>{};
}

std::unique_ptr<oauth_service> start_oauth_server(net::io_pool& pool, const oauth::server_config& config,
                                                  const common::clock& clock) {
    auto service = std::make_unique<oauth_service>(pool, config, clock);
    service->start();
    return service;
}

bool announce_first_start(oauth::authorization_server& server, std::ostream& out) {
    auto admin = server.bootstrap_admin_client();
    if (!admin) {
        return false;
    }
    // Printed once, to the terminal only: never to the log.
    out << "tollgate: created the administrator client of the authorization server.\n"
        << "  client_id:     " << admin->record.client_id << "\n"
        << "  client_secret: " << admin->secret << "\n"
        << "  Keep the secret now: it is stored only as a hash and will not be shown again.\n"
        << "  (Make a new one with: tollgate admin client rotate-secret " << admin->record.client_id << ")\n";
    out.flush();
    return true;
}

}  // namespace tollgate::app
