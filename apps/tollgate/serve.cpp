#include "serve.hpp"

#include <csignal>
#include <functional>
#include <iostream>
#include <memory>
#include <system_error>
#include <unistd.h>

#include <tollgate/broker/auth.hpp>
#include <tollgate/broker/broker.hpp>
#include <tollgate/broker/persistence.hpp>
#include <tollgate/common/clock.hpp>
#include <tollgate/common/log.hpp>
#include <tollgate/net/io_pool.hpp>
#include <tollgate/net/server.hpp>
#include <tollgate/net/work_pool.hpp>

#include "adapters.hpp"
#include "audit_wiring.hpp"
#include "auth_wiring.hpp"
#include "config.hpp"
#include "oauth_serve.hpp"
#include "ready_file.hpp"

namespace tollgate::app {
namespace {

constexpr std::chrono::milliseconds tick_period{100};

net::transport_kind to_kind(listener_type type) {
    switch (type) {
        case listener_type::tcp:
            return net::transport_kind::tcp;
        case listener_type::tls:
            return net::transport_kind::tls;
        case listener_type::ws:
            return net::transport_kind::ws;
        case listener_type::wss:
            return net::transport_kind::wss;
    }
    return net::transport_kind::tcp;
}

net::listener_config to_listener_config(const listener_settings& l) {
    net::listener_config out;
    out.name = l.name;
    out.kind = to_kind(l.type);
    out.address = l.address;
    out.port = l.port;
    out.ws_path = l.path;
    out.max_connections = l.max_connections;
    out.handshake_timeout = l.handshake_timeout;
    // The broker expects on_drained() whenever the write queue empties (broker::transport).
    out.drain_threshold = 0;
    if (l.type == listener_type::tls || l.type == listener_type::wss) {
        net::tls_settings tls;
        tls.cert_file = l.cert_file;
        tls.key_file = l.key_file;
        tls.ca_file = l.ca_file;
        tls.request_client_cert = l.client_certificates != client_cert_mode::none;
        tls.require_client_cert = l.client_certificates == client_cert_mode::require;
        tls.min_version = l.tls_min_version;
        out.tls = std::move(tls);
    }
    return out;
}

// Loads the file (or the embedded default), applies the command line, validates. Throws
// config_error.
config load(const serve_options& o) {
    config cfg = o.config_file ? load_config_file(*o.config_file)
                               : parse_config(default_config_text(), "<embedded default>");
    if (o.data_dir) {
        cfg.server.data_dir = *o.data_dir;
    }
    if (o.log_level) {
        cfg.log.level = *o.log_level;
    }
    if (o.log_format) {
        if (*o.log_format == "text") {
            cfg.log.format = common::log_format::text;
        } else if (*o.log_format == "json") {
            cfg.log.format = common::log_format::json;
        } else {
            throw config_error("--log-format: must be one of text, json (got \"" + *o.log_format + "\")");
        }
    }
    if (o.log_file) {
        cfg.log.file = *o.log_file;
    }
    if (o.threads) {
        if (*o.threads > 1024) {
            throw config_error("--threads: must be between 0 and 1024 (got " + std::to_string(*o.threads) +
                               ")");
        }
        cfg.server.threads = *o.threads;
    }
    validate(cfg);
    cfg.mqtt.broker.allow_anonymous = cfg.mqtt.allow_anonymous;
    if (auto bad = cfg.mqtt.broker.validate()) {
        throw config_error("mqtt: " + *bad);
    }
    return cfg;
}

// Drives the graceful shutdown. Signals and polls arrive on worker 0 only, so no locking.
class shutdown_control {
  public:
    shutdown_control(net::io_pool& pool, net::server& server, broker::broker& broker,
                     std::chrono::milliseconds deadline)
        : pool_(pool), server_(server), broker_(broker), timeout_(deadline) {}

    void on_signal(int signal) {
        auto log = common::logger("app");
        const char* name = signal == SIGINT ? "SIGINT" : "SIGTERM";
        if (started_) {
            log->warn("{} again during shutdown: stopping now", name);
            code_ = exit_code::failure;
            pool_.stop();
            return;
        }
        started_ = true;
        deadline_ = std::chrono::steady_clock::now() + timeout_;
        log->info("{} received: shutting down (deadline {} ms)", name, timeout_.count());
        server_.stop_accepting();
        broker_.begin_shutdown([this] { pool_.post(0, [this] { broker_done_ = true; }); });
    }

    // Called on worker 0 every tick: stops the pool once the broker is done and every connection
    // has flushed and closed, or when the deadline passes.
    void poll() {
        if (!started_) {
            return;
        }
        auto log = common::logger("app");
        const std::size_t open = server_.connection_count();
        if (broker_done_ && open == 0) {
            log->info("shutdown complete");
            pool_.stop();
        } else if (std::chrono::steady_clock::now() >= deadline_) {
            // Connections that did not finish in time (a peer that stopped reading) are dropped;
            // the shutdown itself is still the one that was asked for.
            log->warn("shutdown deadline passed with {} connection(s) still open{}: closing them", open,
                      broker_done_ ? "" : " and the broker not finished");
            pool_.stop();
        }
    }

    [[nodiscard]] exit_code code() const { return code_; }

  private:
    net::io_pool& pool_;
    net::server& server_;
    broker::broker& broker_;
    std::chrono::milliseconds timeout_;
    std::chrono::steady_clock::time_point deadline_{};
    bool started_ = false;
    bool broker_done_ = false;
    exit_code code_ = exit_code::ok;
};

// SIGHUP: reloads the static policy files (auth_stack::reload), reopens the audit file (logrotate)
// and re-reads the TLS listeners' certificate files, on the reload thread (file reads never block
// a broker worker). Ends with one line saying what changed; each failure is logged with its reason
// and leaves the old state in force.
void reload_all(auth_stack* auth, audit_wiring& audit, net::server& server) {
    const bool policy_ok = auth == nullptr || auth->reload();
    const bool audit_reopened = audit.reopen();
    std::size_t tls_reloaded = 0;
    std::size_t tls_changed = 0;
    std::size_t tls_failed = 0;
    auto log = common::logger("app");
    for (const auto& r : server.reload_tls()) {
        if (!r.ok) {
            ++tls_failed;
            log->error("reload: listener '{}' keeps its TLS certificate: {}", r.listener, r.error);
            continue;
        }
        ++tls_reloaded;
        tls_changed += r.changed ? 1 : 0;
        log->info("reload: listener '{}' certificate {} ({})", r.listener,
                  r.changed ? "replaced" : "unchanged", r.certificate);
    }
    log->info(
        "reload (SIGHUP) done: policy files {}, audit log {}, TLS listeners {} reloaded ({} changed, {} "
        "failed)",
        policy_ok ? "ok" : "kept after an error", audit_reopened ? "reopened" : "off", tls_reloaded,
        tls_changed, tls_failed);
}

void log_startup(const config& cfg, unsigned threads) {
    auto log = common::logger("app");
    log->info("tollgate starting: {} worker thread(s), data_dir {}", threads, cfg.server.data_dir);
    if (cfg.auth.enabled) {
        log->info("token authentication on: clients connect with an OAuth 2.0 access token");
    } else if (cfg.mqtt.allow_anonymous) {
        log->warn("mqtt.allow_anonymous = true: clients connect without credentials");
    } else {
        log->warn(
            "mqtt.allow_anonymous = false and no other authentication is configured: every CONNECT "
            "will be refused (0x87)");
    }
}

exit_code serve(const config& cfg, const serve_options& options) {
    auto log = common::logger("app");
    std::error_code ec;
    std::filesystem::create_directories(cfg.server.data_dir, ec);
    if (ec) {
        log->error("cannot create server.data_dir {}: {}", cfg.server.data_dir, ec.message());
        std::cerr << "tollgate: cannot create server.data_dir " << cfg.server.data_dir << ": " << ec.message()
                  << "\n";
        return exit_code::failure;
    }
    net::io_pool pool(cfg.server.threads);
    // SIGHUP is caught from here on (not fatal during startup); it is handled once the pool runs.
    std::function<void()> on_reload;
    pool.on_hangup([&on_reload] { on_reload(); });
    log_startup(cfg, pool.size());
    pool_executor executor(pool);
    common::real_clock clock;
    // The authorization server is made before the broker (the token authenticator reads its keys
    // in process); it binds its port after the MQTT listeners.
    std::unique_ptr<oauth_service> oauth;
    std::unique_ptr<auth_stack> auth;
    audit_wiring audit;  // [auth.audit]: logs every decision of the authenticator and authorizer below
    try {
        if (cfg.oauth.enabled) {
            oauth::server_config oc = cfg.oauth.server;
            oc.data_dir = cfg.server.data_dir;
            oauth = std::make_unique<oauth_service>(pool, oc, clock);
        }
        if (cfg.auth.enabled) {
            auth = build_auth(cfg.auth, clock, oauth ? &oauth->server() : nullptr);
        }
        audit.open(cfg.auth.audit, clock);
    } catch (const std::exception& e) {
        log->error("{}", e.what());
        std::cerr << "tollgate: " << e.what() << "\n";
        return exit_code::failure;
    }
    broker::anonymous_authenticator anon(cfg.mqtt.allow_anonymous && !cfg.auth.enabled);
    broker::allow_all_authorizer allow_all;
    broker::authenticator& authn = auth ? auth->authenticator() : anon;  // verify_threads: auth_wiring.hpp
    broker::authorizer& authz =
        auth ? auth->authorizer() : allow_all;  // with [auth.policy]: policy_wiring.hpp
    broker::memory_persistence store;
    broker::broker mqtt_broker(cfg.mqtt.broker, executor, clock, audit.wrap(authn), audit.wrap(authz), store);
    if (auth) {
        auth->attach_rechecks(mqtt_broker);  // RFC 7662 re-checks end sessions through the broker
    }
    if (auth && oauth) {
        auth->link_revocations(mqtt_broker, oauth->server().revocations(), oauth->server().config().issuer);
        // Revocations made before this process started (an earlier run, `tollgate admin`) are still
        // in force: restored from the journal before any listener opens (RFC 7009 §2).
        const auto restored = oauth->server().replay_revocations();
        common::logger("auth")->info("restored {} revocation(s) still in force", restored);
    }

    std::vector<net::listener_config> listeners;
    for (const auto& l : cfg.mqtt.listeners) {
        listeners.push_back(to_listener_config(l));
    }
    net::server server(pool, std::move(listeners), make_handler_factory(mqtt_broker));
    try {
        server.start();
        if (oauth) {
            oauth->start();
            announce_first_start(oauth->server(), std::cout);
        }
    } catch (const std::exception& e) {
        log->error("{}", e.what());
        std::cerr << "tollgate: " << e.what() << "\n";
        return exit_code::failure;
    }
    auto endpoints = server.endpoints();
    if (oauth) {
        for (auto e : oauth->endpoints()) {
            e.name = "oauth";
            endpoints.push_back(std::move(e));
        }
    }
    for (const auto& e : endpoints) {
        log->info("listener '{}' ({}) on {}:{}", e.name, net::to_string(e.kind), e.address, e.port);
    }
    if (options.ready_file) {
        try {
            write_ready_file(*options.ready_file, ready_json(static_cast<long>(::getpid()), endpoints));
        } catch (const std::exception& e) {
            log->error("{}", e.what());
            std::cerr << "tollgate: " << e.what() << "\n";
            return exit_code::failure;
        }
    }

    shutdown_control shutdown(pool, server, mqtt_broker, cfg.server.shutdown_timeout);
    pool.every(tick_period, [&mqtt_broker, &shutdown](unsigned worker) {
        mqtt_broker.tick(worker);
        if (worker == 0) {
            shutdown.poll();
        }
    });
    pool.on_signal([&shutdown](int signal) { shutdown.on_signal(signal); });
    net::work_pool reloader(1);  // SIGHUP work; declared after what it uses, stopped before it goes
    on_reload = [&] { reloader.post([&] { reload_all(auth.get(), audit, server); }); };
    std::cout << "tollgate ready" << std::endl;
    pool.run();
    reloader.stop();
    if (auth) {
        auth->revocations.reset();
        auth->stop_authentication();  // no authentication answer may reach the broker once it is gone
        auth->detach_rechecks();
        if (auth->policy) {
            auth->policy->stop();  // no policy load may answer into the broker once it is gone
        }
    }
    if (oauth) {
        oauth->stop();
    }
    return shutdown.code();
}

}  // namespace

exit_code run_serve(const serve_options& options) {
    if (options.print_config) {
        std::cout << default_config_text();
        return exit_code::ok;
    }
    config cfg;
    try {
        cfg = load(options);
    } catch (const config_error& e) {
        std::cerr << "config error: " << e.what() << "\n";
        return exit_code::config_error;
    }
    if (options.check_only) {
        std::cout << "configuration OK\n";
        return exit_code::ok;
    }
    try {
        common::configure_logging(cfg.log);
    } catch (const std::exception& e) {
        std::cerr << "config error: log: " << e.what() << "\n";
        return exit_code::config_error;
    }
    return serve(cfg, options);
}

}  // namespace tollgate::app
