// External issuers: http_fetch (TLS verification, limits, no redirects), metadata discovery
// (RFC 8414, OpenID Connect Discovery) and remote_key_source (JWKS refresh, rotation, outages),
// against a real HTTPS server on loopback (net::http_server with the certificates of
// scripts/gen-test-certs). Every wait is on an event (a response, a finished fetch cycle).
#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <future>
#include <map>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>

#include <tollgate/auth/discovery.hpp>
#include <tollgate/auth/http_fetch.hpp>
#include <tollgate/auth/remote_key_source.hpp>
#include <tollgate/auth/token_authenticator.hpp>
#include <tollgate/common/clock.hpp>
#include <tollgate/jose/jws.hpp>
#include <tollgate/jose/key.hpp>
#include <tollgate/net/http_server.hpp>
#include <tollgate/net/io_pool.hpp>

namespace tollgate::auth {
namespace {

using namespace std::chrono_literals;
constexpr auto event_timeout = 10s;

const std::string& certs_dir() {
    static const std::string dir = [] {
        std::string d = std::string(TOLLGATE_TEST_BINARY_DIR) + "/test-certs";
        const std::string command = std::string(TOLLGATE_SOURCE_DIR) + "/scripts/gen-test-certs " + d;
        if (std::system(command.c_str()) != 0) {
            throw std::runtime_error("gen-test-certs failed: " + command);
        }
        return d;
    }();
    return dir;
}
std::string cert(const std::string& file) {
    return certs_dir() + "/" + file;
}

/// A scripted HTTP(S) server: path -> response, with a count of requests per path. A path whose
/// response has status 0 is never answered (the responder is parked until the server stops).
class fake_server {
  public:
    explicit fake_server(net::transport_kind kind = net::transport_kind::tls,
                         std::string address = "127.0.0.1")
        : pool_(1) {
        net::listener_config l;
        l.name = "fake";
        l.kind = kind;
        l.address = std::move(address);
        if (kind == net::transport_kind::tls) {
            net::tls_settings tls;
            tls.cert_file = cert("server.crt");
            tls.key_file = cert("server.key");
            l.tls = tls;
        }
        net::http_limits limits;
        limits.keep_alive = false;
        server_ = std::make_unique<net::http_server>(
            pool_, std::vector<net::listener_config>{l},
            [this](net::http_request r, net::http_responder respond) {
                handle(std::move(r), std::move(respond));
            },
            limits);
        server_->start();
        thread_ = std::thread([this] { pool_.run(); });
        const auto ep = server_->endpoints().at(0);
        base_ = std::string(kind == net::transport_kind::tls ? "https" : "http") + "://" + ep.address + ":" +
                std::to_string(ep.port);
    }
    ~fake_server() { stop(); }

    void stop() {
        if (!server_) {
            return;
        }
        server_->stop();
        pool_.stop();
        thread_.join();
        {
            std::lock_guard lock(mutex_);
            parked_.clear();
        }
        server_.reset();
    }

    const std::string& base() const { return base_; }
    void set(const std::string& path, unsigned status, std::string body,
             std::vector<std::pair<std::string, std::string>> headers = {
                 {"Content-Type", "application/json"}}) {
        std::lock_guard lock(mutex_);
        routes_[path] = net::http_response{status, std::move(headers), std::move(body)};
    }
    std::size_t hits(const std::string& path) const {
        std::lock_guard lock(mutex_);
        auto it = hits_.find(path);
        return it == hits_.end() ? 0 : it->second;
    }
    /// Waits until `path` was requested n times (an event: the server signals each request).
    bool wait_hits(const std::string& path, std::size_t n) const {
        std::unique_lock lock(mutex_);
        return requested_.wait_for(lock, event_timeout, [&] {
            auto it = hits_.find(path);
            return it != hits_.end() && it->second >= n;
        });
    }
    std::string last_header(const std::string& name) const {
        std::lock_guard lock(mutex_);
        return last_headers_.count(name) != 0 ? last_headers_.at(name) : std::string{};
    }

  private:
    void handle(net::http_request r, net::http_responder respond) {
        std::unique_lock lock(mutex_);
        ++hits_[r.target];
        requested_.notify_all();
        for (const auto& [name, value] : r.headers) {
            last_headers_[name] = value;
        }
        auto it = routes_.find(r.target);
        if (it == routes_.end()) {
            lock.unlock();
            respond({404, {{"Content-Type", "text/plain"}}, "not found"});
            return;
        }
        if (it->second.status == 0) {
            parked_.push_back(std::move(respond));
            return;
        }
        auto response = it->second;
        lock.unlock();
        respond(std::move(response));
    }

    net::io_pool pool_;
    std::unique_ptr<net::http_server> server_;
    std::thread thread_;
    std::string base_;
    mutable std::mutex mutex_;
    mutable std::condition_variable requested_;
    std::map<std::string, net::http_response> routes_;
    std::map<std::string, std::size_t> hits_;
    std::map<std::string, std::string> last_headers_;
    std::vector<net::http_responder> parked_;
};

http_fetch_options trusting(std::string ca = cert("ca.crt")) {
    http_fetch_options o;
    o.ca_file = std::move(ca);
    o.timeout = 5s;
    return o;
}

/// One synchronous call through the asynchronous client (waits on the `done` event).
http_response call(const http_fetch& fetch, http_request request) {
    std::promise<http_response> p;
    auto f = p.get_future();
    fetch(std::move(request), [&p](http_response r) { p.set_value(std::move(r)); });
    if (f.wait_for(event_timeout) != std::future_status::ready) {
        ADD_FAILURE() << "no response";
        return {};
    }
    return f.get();
}
http_response get(const http_fetch& fetch, const std::string& url) {
    http_request r;
    r.url = url;
    return call(fetch, std::move(r));
}

std::string jwks_of(std::initializer_list<const jose::key*> keys) {
    std::string out = "{\"keys\":[";
    bool first = true;
    for (const auto* k : keys) {
        out += (first ? "" : ",") + k->to_public_jwk().value();
        first = false;
    }
    return out + "]}";
}

bool has_kid(const std::shared_ptr<const jose::key_set>& set, std::string_view kid) {
    return set->has_kid(kid);
}

// ---------------------------------------------------------------------------------------------
// http_fetch

TEST(http_fetch, https_get_returns_status_content_type_and_body) {
    fake_server s;
    s.set("/doc?x=1", 200, "{\"a\":1}", {{"Content-Type", "application/json; charset=utf-8"}});
    auto fetch = make_http_fetch(trusting());
    auto r = get(fetch, s.base() + "/doc?x=1");
    EXPECT_EQ(r.error, "");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.content_type, "application/json; charset=utf-8");
    EXPECT_EQ(r.body, "{\"a\":1}");
    EXPECT_EQ(s.last_header("connection"), "close");
}

TEST(http_fetch, post_sends_headers_and_body) {
    fake_server s;
    s.set("/introspect", 200, "{}");
    auto fetch = make_http_fetch(trusting());
    http_request req;
    req.method = "POST";
    req.url = s.base() + "/introspect";
    req.headers = {{"Content-Type", "application/x-www-form-urlencoded"}, {"Authorization", "Basic eDp5"}};
    req.body = "token=abc";
    auto r = call(fetch, std::move(req));
    EXPECT_EQ(r.status, 200) << r.error;
    EXPECT_EQ(s.last_header("authorization"), "Basic eDp5");
    EXPECT_EQ(s.last_header("content-length"), "9");
}

TEST(http_fetch, certificate_from_another_ca_is_refused) {
    fake_server s;
    s.set("/doc", 200, "{}");
    auto fetch = make_http_fetch(trusting(cert("other-ca.crt")));
    auto r = get(fetch, s.base() + "/doc");
    EXPECT_EQ(r.status, 0);
    EXPECT_NE(r.error.find("certificate verification failed"), std::string::npos) << r.error;
    EXPECT_EQ(s.hits("/doc"), 0U);
}

TEST(http_fetch, system_trust_store_does_not_trust_the_test_ca) {
    fake_server s;
    s.set("/doc", 200, "{}");
    auto fetch = make_http_fetch(trusting(""));
    auto r = get(fetch, s.base() + "/doc");
    EXPECT_EQ(r.status, 0);
    EXPECT_NE(r.error.find("certificate verification failed"), std::string::npos) << r.error;
}

TEST(http_fetch, host_name_not_in_the_certificate_is_refused) {
    // server.crt names localhost, 127.0.0.1 and ::1; 127.0.0.2 reaches the same machine but is not
    // in the certificate (RFC 6125 identity check).
    fake_server s(net::transport_kind::tls, "127.0.0.2");
    s.set("/doc", 200, "{}");
    auto fetch = make_http_fetch(trusting());
    auto r = get(fetch, s.base() + "/doc");
    EXPECT_EQ(r.status, 0);
    EXPECT_NE(r.error.find("certificate verification failed"), std::string::npos) << r.error;
    EXPECT_EQ(s.hits("/doc"), 0U);
}

TEST(http_fetch, dns_name_in_the_certificate_is_accepted) {
    fake_server s;
    s.set("/doc", 200, "ok");
    auto fetch = make_http_fetch(trusting());
    const auto port = s.base().substr(s.base().rfind(':'));
    auto r = get(fetch, "https://localhost" + port + "/doc");
    EXPECT_EQ(r.status, 200) << r.error;
}

TEST(http_fetch, plain_http_is_refused_unless_allowed) {
    fake_server s(net::transport_kind::tcp);
    s.set("/doc", 200, "plain");
    auto strict = make_http_fetch(trusting());
    auto r = get(strict, s.base() + "/doc");
    EXPECT_EQ(r.status, 0);
    EXPECT_NE(r.error.find("allow_http"), std::string::npos) << r.error;
    EXPECT_EQ(s.hits("/doc"), 0U);

    auto options = trusting();
    options.allow_http = true;
    auto lax = make_http_fetch(options);
    r = get(lax, s.base() + "/doc");
    EXPECT_EQ(r.status, 200) << r.error;
    EXPECT_EQ(r.body, "plain");
}

TEST(http_fetch, body_over_the_limit_is_an_error) {
    fake_server s;
    s.set("/big", 200, std::string(5000, 'x'));
    s.set("/fits", 200, std::string(1000, 'x'));
    auto options = trusting();
    options.max_body_bytes = 4096;
    auto fetch = make_http_fetch(options);
    auto r = get(fetch, s.base() + "/big");
    EXPECT_EQ(r.status, 0);
    EXPECT_NE(r.error.find("larger than 4096"), std::string::npos) << r.error;
    r = get(fetch, s.base() + "/fits");
    EXPECT_EQ(r.status, 200) << r.error;
}

TEST(http_fetch, redirects_are_returned_not_followed) {
    fake_server s;
    s.set("/moved", 302, "", {{"Location", "/doc"}});
    s.set("/doc", 200, "{}");
    auto fetch = make_http_fetch(trusting());
    auto r = get(fetch, s.base() + "/moved");
    EXPECT_EQ(r.status, 302);
    EXPECT_EQ(s.hits("/doc"), 0U);
}

TEST(http_fetch, silent_server_times_out) {
    fake_server s;
    s.set("/hang", 0, "");
    auto options = trusting();
    options.timeout = 300ms;
    auto fetch = make_http_fetch(options);
    auto r = get(fetch, s.base() + "/hang");
    EXPECT_EQ(r.status, 0);
    EXPECT_NE(r.error.find("timed out"), std::string::npos) << r.error;
}

TEST(http_fetch, refused_connection_and_bad_urls_are_errors) {
    std::string base;
    {
        fake_server s;
        base = s.base();
    }  // the port is closed now
    auto fetch = make_http_fetch(trusting());
    auto r = get(fetch, base + "/doc");
    EXPECT_EQ(r.status, 0);
    EXPECT_FALSE(r.error.empty());
    for (const char* url :
         {"", "ftp://127.0.0.1/x", "https:///nohost", "https://user@127.0.0.1/x", "not a url"}) {
        r = get(fetch, url);
        EXPECT_EQ(r.status, 0) << url;
        EXPECT_FALSE(r.error.empty()) << url;
    }
    http_request bad;
    bad.url = base + "/x";
    bad.headers = {{"X-Injected", "a\r\nHost: evil"}};
    r = call(fetch, bad);
    EXPECT_EQ(r.error, "invalid request header");
}

TEST(http_fetch, concurrent_requests_each_complete_once) {
    fake_server s;
    s.set("/doc", 200, "{}");
    auto fetch = make_http_fetch(trusting());
    constexpr int n = 16;
    std::mutex m;
    std::condition_variable cv;
    int done = 0;
    int ok = 0;
    for (int i = 0; i < n; ++i) {
        http_request r;
        r.url = s.base() + "/doc";
        fetch(r, [&](http_response resp) {
            std::lock_guard lock(m);
            ++done;
            ok += resp.status == 200 ? 1 : 0;
            cv.notify_all();
        });
    }
    std::unique_lock lock(m);
    ASSERT_TRUE(cv.wait_for(lock, event_timeout, [&] { return done == n; }));
    EXPECT_EQ(ok, n);
}

TEST(http_fetch, destroying_the_client_completes_pending_requests) {
    fake_server s;
    s.set("/hang", 0, "");
    std::promise<http_response> p;
    auto f = p.get_future();
    {
        auto fetch = make_http_fetch(trusting());
        http_request r;
        r.url = s.base() + "/hang";
        fetch(r, [&p](http_response resp) { p.set_value(std::move(resp)); });
        ASSERT_TRUE(s.wait_hits("/hang", 1));  // the request reached the server; now drop the client
    }
    ASSERT_EQ(f.wait_for(0s), std::future_status::ready);
    EXPECT_EQ(f.get().error, "http client shut down");
}

TEST(http_fetch, unreadable_ca_file_throws) {
    EXPECT_THROW(make_http_fetch(trusting("/nonexistent/ca.pem")), std::runtime_error);
}

// ---------------------------------------------------------------------------------------------
// discovery: URLs and metadata validation

TEST(discovery, well_known_urls_rfc8414_section_3_1) {
    // RFC 8414 §3.1: "/.well-known/oauth-authorization-server" goes between host and path.
    EXPECT_EQ(discovery_urls("https://example.com/issuer1"),
              (std::vector<std::string>{"https://example.com/.well-known/oauth-authorization-server/issuer1",
                                        "https://example.com/issuer1/.well-known/openid-configuration"}));
    EXPECT_EQ(discovery_urls("https://example.com"),
              (std::vector<std::string>{"https://example.com/.well-known/oauth-authorization-server",
                                        "https://example.com/.well-known/openid-configuration"}));
    // A terminating "/" is removed first (§3.1).
    EXPECT_EQ(discovery_urls("https://example.com:8443/t/a/")[0],
              "https://example.com:8443/.well-known/oauth-authorization-server/t/a");
}

TEST(discovery, issuer_identifier_rules_rfc8414_section_2) {
    EXPECT_EQ(check_issuer_identifier("https://idp.example/tenant", false), "");
    EXPECT_NE(check_issuer_identifier("http://idp.example", false), "");
    EXPECT_EQ(check_issuer_identifier("http://127.0.0.1:1", true), "");
    EXPECT_NE(check_issuer_identifier("https://idp.example?x=1", false), "");
    EXPECT_NE(check_issuer_identifier("https://idp.example#f", false), "");
    EXPECT_NE(check_issuer_identifier("idp.example", false), "");
    EXPECT_NE(check_issuer_identifier("https://u:p@idp.example", false), "");
}

TEST(discovery, metadata_issuer_must_match_exactly_rfc8414_section_3_3) {
    const std::string doc = R"({"issuer":"https://idp.example/","jwks_uri":"https://idp.example/jwks"})";
    EXPECT_TRUE(parse_issuer_metadata(doc, "https://idp.example/", false).metadata);
    for (const char* configured : {"https://idp.example", "https://IDP.example/", "https://idp.example/x"}) {
        auto r = parse_issuer_metadata(doc, configured, false);
        EXPECT_FALSE(r.metadata) << configured;
        EXPECT_NE(r.error.find("RFC 8414 §3.3"), std::string::npos) << r.error;
    }
}

TEST(discovery, metadata_members_are_checked) {
    const std::string iss = "https://idp.example";
    auto ok = parse_issuer_metadata(
        R"({"issuer":"https://idp.example","jwks_uri":"https://idp.example/jwks","introspection_endpoint":"https://idp.example/i","revocation_endpoint":"https://idp.example/r","introspection_endpoint_auth_methods_supported":["client_secret_basic",3],"other":{"x":[1,2]}})",
        iss, false);
    ASSERT_TRUE(ok.metadata) << ok.error;
    EXPECT_EQ(ok.metadata->jwks_uri, "https://idp.example/jwks");
    EXPECT_EQ(ok.metadata->introspection_endpoint, "https://idp.example/i");
    EXPECT_EQ(ok.metadata->revocation_endpoint, "https://idp.example/r");
    EXPECT_EQ(ok.metadata->introspection_auth_methods, std::vector<std::string>{"client_secret_basic"});

    const char* bad[] = {
        R"({"issuer":"https://idp.example","jwks_uri":"http://idp.example/jwks"})",  // not https
        R"({"issuer":"https://idp.example","jwks_uri":42})",
        R"({"issuer":"https://idp.example","issuer":"https://idp.example"})",  // duplicate member
        R"({"jwks_uri":"https://idp.example/jwks"})",                          // no issuer
        R"(["https://idp.example"])",
        R"({"issuer":"https://idp.example"} trailing)",
        "",
        "\xff\xfe",
    };
    for (const char* doc : bad) {
        auto r = parse_issuer_metadata(doc, iss, false);
        EXPECT_FALSE(r.metadata) << doc;
        EXPECT_FALSE(r.error.empty()) << doc;
    }
    metadata_limits small;
    small.max_bytes = 16;
    EXPECT_FALSE(parse_issuer_metadata(R"({"issuer":"https://idp.example"})", iss, false, small).metadata);
    // With allow_http, http endpoints pass.
    EXPECT_TRUE(parse_issuer_metadata(
                    R"({"issuer":"https://idp.example","jwks_uri":"http://127.0.0.1/jwks"})", iss, true)
                    .metadata);
}

// ---------------------------------------------------------------------------------------------
// remote_key_source

struct issuer_fixture {
    explicit issuer_fixture(std::string path = "") {
        issuer = s.base() + path;
        s.set("/jwks", 200, jwks_of({&k1}));
    }
    void publish_metadata(const std::string& well_known, const std::string& claimed_issuer = {}) {
        s.set(well_known, 200,
              R"({"issuer":")" + (claimed_issuer.empty() ? issuer : claimed_issuer) + R"(","jwks_uri":")" +
                  s.base() + R"(/jwks","introspection_endpoint":")" + s.base() +
                  R"(/introspect","token_endpoint":")" + s.base() + R"(/token"})");
    }
    remote_key_options options(bool discovery) const {
        remote_key_options o;
        o.issuer = issuer;
        o.discovery = discovery;
        if (!discovery) {
            o.jwks_uri = s.base() + "/jwks";
        }
        o.min_refresh_interval = 0ms;
        o.retry_min = 20ms;
        o.retry_max = 100ms;
        o.refresh_interval = 1h;
        return o;
    }
    static bool wait_cycles(const remote_key_source& src, std::uint64_t n) {
        return src.wait_for([n](const remote_key_status& st) { return st.cycles >= n; }, event_timeout);
    }

    fake_server s;
    std::string issuer;
    jose::key k1 = jose::key::generate(jose::algorithm::es256, "k1");
    jose::key k2 = jose::key::generate(jose::algorithm::es256, "k2");
};

TEST(remote_key_source, discovery_rfc8414_with_path_insertion) {
    issuer_fixture f("/tenant");
    f.publish_metadata("/.well-known/oauth-authorization-server/tenant");
    remote_key_source src(f.options(true), make_http_fetch(trusting()));
    ASSERT_TRUE(src.wait_for([](const auto& st) { return st.successes >= 1; }, event_timeout))
        << src.status().last_error;
    EXPECT_TRUE(has_kid(src.current(), "k1"));
    auto md = src.metadata();
    ASSERT_TRUE(md);
    EXPECT_EQ(md->issuer, f.issuer);
    EXPECT_EQ(md->jwks_uri, f.s.base() + "/jwks");
    EXPECT_EQ(md->introspection_endpoint, f.s.base() + "/introspect");
    EXPECT_EQ(md->source_url, f.s.base() + "/.well-known/oauth-authorization-server/tenant");
    EXPECT_EQ(f.s.hits("/tenant/.well-known/openid-configuration"), 0U);
    EXPECT_EQ(src.status().jwks_uri, f.s.base() + "/jwks");
}

TEST(remote_key_source, discovery_falls_back_to_openid_configuration) {
    issuer_fixture f;
    f.publish_metadata("/.well-known/openid-configuration");
    remote_key_source src(f.options(true), make_http_fetch(trusting()));
    ASSERT_TRUE(src.wait_for([](const auto& st) { return st.successes >= 1; }, event_timeout))
        << src.status().last_error;
    EXPECT_EQ(f.s.hits("/.well-known/oauth-authorization-server"), 1U);  // 404 first
    EXPECT_TRUE(has_kid(src.current(), "k1"));
    EXPECT_EQ(src.metadata()->source_url, f.s.base() + "/.well-known/openid-configuration");
}

TEST(remote_key_source, metadata_naming_another_issuer_is_refused_rfc8414_section_3_3) {
    issuer_fixture f;
    f.publish_metadata("/.well-known/oauth-authorization-server", "https://evil.example");
    f.publish_metadata("/.well-known/openid-configuration");  // a good one must not be used after a mismatch
    remote_key_source src(f.options(true), make_http_fetch(trusting()));
    ASSERT_TRUE(issuer_fixture::wait_cycles(src, 1));
    const auto st = src.status();
    EXPECT_EQ(st.successes, 0U);
    EXPECT_NE(st.last_error.find("RFC 8414 §3.3"), std::string::npos) << st.last_error;
    EXPECT_TRUE(src.current()->empty());
    EXPECT_FALSE(src.metadata());
    EXPECT_EQ(f.s.hits("/jwks"), 0U);
    EXPECT_EQ(f.s.hits("/.well-known/openid-configuration"), 0U);
}

TEST(remote_key_source, configured_jwks_uri_without_discovery) {
    issuer_fixture f;
    remote_key_source src(f.options(false), make_http_fetch(trusting()));
    ASSERT_TRUE(src.wait_for([](const auto& st) { return st.successes >= 1; }, event_timeout))
        << src.status().last_error;
    EXPECT_TRUE(has_kid(src.current(), "k1"));
    EXPECT_FALSE(src.metadata());
    EXPECT_EQ(f.s.hits("/.well-known/oauth-authorization-server"), 0U);
    EXPECT_EQ(f.s.last_header("accept"), "application/jwk-set+json, application/json");
}

TEST(remote_key_source, rotation_is_picked_up_by_refresh_on_unknown_kid) {
    issuer_fixture f;
    f.publish_metadata("/.well-known/oauth-authorization-server");
    remote_key_source src(f.options(true), make_http_fetch(trusting()));
    ASSERT_TRUE(src.wait_for([](const auto& st) { return st.successes >= 1; }, event_timeout));
    const auto before = src.current();
    ASSERT_TRUE(has_kid(before, "k1"));
    f.s.set("/jwks", 200, jwks_of({&f.k2}));
    EXPECT_FALSE(src.refresh());  // never blocks: the new set arrives asynchronously
    ASSERT_TRUE(src.wait_for([](const auto& st) { return st.updates >= 2; }, event_timeout))
        << src.status().last_error;
    EXPECT_TRUE(has_kid(src.current(), "k2"));
    EXPECT_FALSE(has_kid(src.current(), "k1"));
    EXPECT_TRUE(has_kid(before, "k1"));  // a set handed out earlier is immutable
    // An on-demand cycle reads only the JWKS, not the metadata again.
    EXPECT_EQ(f.s.hits("/.well-known/oauth-authorization-server"), 1U);
    EXPECT_EQ(f.s.hits("/jwks"), 2U);
    EXPECT_EQ(src.status().demanded, 1U);
}

TEST(remote_key_source, refresh_is_rate_limited) {
    issuer_fixture f;
    auto o = f.options(false);
    o.min_refresh_interval = 1h;
    remote_key_source src(o, make_http_fetch(trusting()));
    ASSERT_TRUE(issuer_fixture::wait_cycles(src, 1));
    src.refresh();  // allowed: the first demand
    ASSERT_TRUE(issuer_fixture::wait_cycles(src, 2));
    for (int i = 0; i < 50; ++i) {
        src.refresh();  // all within the interval: ignored
    }
    EXPECT_EQ(src.status().demanded, 1U);
    EXPECT_EQ(f.s.hits("/jwks"), 2U);
}

TEST(remote_key_source, refresh_interval_refetches_periodically_with_metadata) {
    issuer_fixture f;
    f.publish_metadata("/.well-known/oauth-authorization-server");
    auto o = f.options(true);
    o.refresh_interval = 50ms;
    remote_key_source src(o, make_http_fetch(trusting()));
    ASSERT_TRUE(issuer_fixture::wait_cycles(src, 3));
    EXPECT_GE(f.s.hits("/jwks"), 3U);
    EXPECT_GE(f.s.hits("/.well-known/oauth-authorization-server"), 3U);  // periodic cycles re-read it
    EXPECT_EQ(src.status().updates, 1U);  // same document each time: not a change
    EXPECT_EQ(src.status().failures, 0U);
}

TEST(remote_key_source, last_good_set_survives_errors_garbage_and_empty_sets) {
    issuer_fixture f;
    remote_key_source src(f.options(false), make_http_fetch(trusting()));
    ASSERT_TRUE(src.wait_for([](const auto& st) { return st.successes >= 1; }, event_timeout));
    const auto good = src.current();
    struct bad_case {
        unsigned status;
        std::string body;
        std::string error;
    };
    const std::vector<bad_case> cases = {
        {500, "{\"keys\":[]}", "HTTP status 500"},
        {200, "<html>maintenance</html>", "unusable JWKS"},
        {200, "{\"keys\":[]}", "without a usable key"},
        {200, R"({"keys":[{"kty":"oct","k":"c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0","kid":"h"}]})",
         "without a usable key"},  // a symmetric key is never accepted from a JWKS URL
        {200, R"({"keys":"nope"})", "unusable JWKS"},
        {302, "", "HTTP status 302"},
    };
    std::uint64_t cycles = src.status().cycles;
    for (const auto& c : cases) {
        f.s.set("/jwks", c.status, c.body);
        src.refresh();
        ASSERT_TRUE(issuer_fixture::wait_cycles(src, ++cycles)) << c.body;
        const auto st = src.status();
        EXPECT_NE(st.last_error.find(c.error), std::string::npos) << st.last_error;
        EXPECT_EQ(src.current(), good) << c.body;
        EXPECT_EQ(st.keys, 1U);
    }
    // Back to normal with a new key: accepted again.
    f.s.set("/jwks", 200, jwks_of({&f.k1, &f.k2}));
    src.refresh();
    ASSERT_TRUE(src.wait_for([](const auto& st) { return st.keys == 2; }, event_timeout));
    EXPECT_EQ(src.status().last_error, "");
}

TEST(remote_key_source, last_good_set_survives_the_server_going_down_and_retries_with_backoff) {
    auto f = std::make_unique<issuer_fixture>();
    remote_key_source src(f->options(false), make_http_fetch(trusting()));
    ASSERT_TRUE(src.wait_for([](const auto& st) { return st.successes >= 1; }, event_timeout));
    const auto good = src.current();
    f.reset();  // outage: the server and its event loop are gone, connections are refused
    src.refresh();
    // Failures are retried on their own (retry_min 20 ms doubling to retry_max 100 ms).
    ASSERT_TRUE(src.wait_for([](const auto& st) { return st.failures >= 3; }, event_timeout));
    EXPECT_EQ(src.current(), good);
    EXPECT_FALSE(src.status().last_error.empty());
}

TEST(remote_key_source, first_fetch_failing_leaves_no_keys_then_recovers) {
    issuer_fixture f;
    f.s.set("/jwks", 503, "");
    remote_key_source src(f.options(false), make_http_fetch(trusting()));
    ASSERT_TRUE(src.wait_for([](const auto& st) { return st.failures >= 2; }, event_timeout));
    EXPECT_TRUE(src.current()->empty());
    f.s.set("/jwks", 200, jwks_of({&f.k1}));
    ASSERT_TRUE(src.wait_for([](const auto& st) { return st.successes >= 1; }, event_timeout));
    EXPECT_TRUE(has_kid(src.current(), "k1"));
}

TEST(remote_key_source, jwks_over_the_size_limit_is_refused) {
    issuer_fixture f;
    std::string padded = jwks_of({&f.k1});
    padded.insert(padded.size() - 1, ",\"pad\":\"" + std::string(3000, 'p') + "\"");
    f.s.set("/jwks", 200, padded);
    auto o = f.options(false);
    o.max_jwks_bytes = 2048;
    auto http = trusting();
    http.max_body_bytes = 1024 * 1024;  // the source's own limit applies even when the client's is larger
    remote_key_source src(o, make_http_fetch(http));
    ASSERT_TRUE(issuer_fixture::wait_cycles(src, 1));
    EXPECT_NE(src.status().last_error.find("larger than 2048"), std::string::npos) << src.status().last_error;
    EXPECT_TRUE(src.current()->empty());

    auto small = trusting();
    small.max_body_bytes = 2048;  // and the client's limit stops reading early
    remote_key_source src2(f.options(false), make_http_fetch(small));
    ASSERT_TRUE(issuer_fixture::wait_cycles(src2, 1));
    EXPECT_NE(src2.status().last_error.find("larger than 2048"), std::string::npos)
        << src2.status().last_error;
}

TEST(remote_key_source, tls_with_the_wrong_ca_is_refused) {
    issuer_fixture f;
    f.publish_metadata("/.well-known/oauth-authorization-server");
    remote_key_source src(f.options(true), make_http_fetch(trusting(cert("other-ca.crt"))));
    ASSERT_TRUE(issuer_fixture::wait_cycles(src, 1));
    EXPECT_NE(src.status().last_error.find("certificate verification failed"), std::string::npos)
        << src.status().last_error;
    EXPECT_TRUE(src.current()->empty());
    EXPECT_EQ(f.s.hits("/.well-known/oauth-authorization-server"), 0U);
}

TEST(remote_key_source, http_is_refused_unless_allowed) {
    fake_server plain(net::transport_kind::tcp);
    auto k1 = jose::key::generate(jose::algorithm::es256, "k1");
    plain.set("/jwks", 200, jwks_of({&k1}));
    remote_key_options o;
    o.issuer = "https://idp.example";
    o.jwks_uri = plain.base() + "/jwks";
    EXPECT_THROW(std::make_unique<remote_key_source>(o, make_http_fetch(trusting())), std::invalid_argument);

    // Metadata (over https) pointing at an http:// JWKS is refused too.
    issuer_fixture f;
    f.s.set("/.well-known/oauth-authorization-server", 200,
            R"({"issuer":")" + f.issuer + R"(","jwks_uri":")" + plain.base() + R"(/jwks"})");
    remote_key_source strict(f.options(true), make_http_fetch(trusting()));
    ASSERT_TRUE(issuer_fixture::wait_cycles(strict, 1));
    EXPECT_NE(strict.status().last_error.find("https"), std::string::npos) << strict.status().last_error;
    EXPECT_EQ(plain.hits("/jwks"), 0U);

    // With allow_http on both the source and the client, loopback http works.
    o.issuer = "http://127.0.0.1";
    o.allow_http = true;
    o.min_refresh_interval = 0ms;
    auto http = trusting();
    http.allow_http = true;
    remote_key_source lax(o, make_http_fetch(http));
    ASSERT_TRUE(lax.wait_for([](const auto& st) { return st.successes >= 1; }, event_timeout))
        << lax.status().last_error;
    EXPECT_TRUE(has_kid(lax.current(), "k1"));
}

TEST(remote_key_source, unusable_options_throw) {
    remote_key_options o;
    o.issuer = "https://idp.example";
    EXPECT_THROW(std::make_unique<remote_key_source>(o, make_http_fetch(trusting())),
                 std::invalid_argument);  // no source
    o.discovery = true;
    EXPECT_THROW(std::make_unique<remote_key_source>(o, http_fetch{}), std::invalid_argument);
    o.issuer = "https://idp.example?q=1";  // with discovery: not an RFC 8414 issuer identifier
    EXPECT_THROW(std::make_unique<remote_key_source>(o, make_http_fetch(trusting())), std::invalid_argument);
    o.issuer = "https://idp.example";
    o.refresh_interval = 0ms;
    EXPECT_THROW(std::make_unique<remote_key_source>(o, make_http_fetch(trusting())), std::invalid_argument);
}

TEST(remote_key_source, destroyed_mid_fetch_is_safe) {
    issuer_fixture f;
    f.s.set("/jwks", 0, "");  // never answered
    auto o = f.options(false);
    auto http = trusting();
    http.timeout = 200ms;
    // The fetch is wrapped so the test can wait for its end (an event): the process must not exit
    // while the client's I/O thread still runs the abandoned exchange.
    auto ended = std::make_shared<std::promise<void>>();
    auto once = std::make_shared<std::once_flag>();
    http_fetch inner = make_http_fetch(http);
    http_fetch counted = [inner, ended, once](http_request r, std::function<void(http_response)> done) {
        inner(std::move(r), [done = std::move(done), ended, once](http_response resp) {
            done(std::move(resp));
            std::call_once(*once, [&] { ended->set_value(); });
        });
    };
    inner = nullptr;
    auto finished = ended->get_future();
    {
        remote_key_source src(o, std::move(counted));
        ASSERT_TRUE(f.s.wait_hits("/jwks", 1));
    }  // the fetch is still in flight; its callback holds the state
    // The abandoned fetch still ends (timeout), exactly once, without touching the destroyed source.
    EXPECT_EQ(finished.wait_for(event_timeout), std::future_status::ready);
}

// ---------------------------------------------------------------------------------------------
// refresh_async and the authenticator waiting for it (issue 5: key rotation with no failed
// connection)

/// Counts calls of refresh_async callbacks and lets a test wait for them (an event).
struct callback_counter {
    std::function<void()> make() {
        return [this] {
            std::lock_guard lock(mutex);
            ++calls;
            changed.notify_all();
        };
    }
    bool wait(int n) {
        std::unique_lock lock(mutex);
        return changed.wait_for(lock, event_timeout, [&] { return calls >= n; });
    }
    int count() {
        std::lock_guard lock(mutex);
        return calls;
    }
    std::mutex mutex;
    std::condition_variable changed;
    int calls = 0;
};

TEST(remote_key_source, refresh_async_answers_every_waiter_once_and_bounds_them) {
    issuer_fixture f;
    auto o = f.options(false);
    o.min_refresh_interval = 1h;
    o.max_refresh_waiters = 3;
    o.retry_min = o.retry_max = 1h;  // no retry cycle of its own during the test
    auto http = trusting();
    http.timeout = 300ms;
    remote_key_source src(o, make_http_fetch(http));
    ASSERT_TRUE(src.wait_for([](const auto& st) { return st.successes >= 1; }, event_timeout));
    f.s.set("/jwks", 0, "");  // the next fetch is never answered: it times out (a failure)
    callback_counter counter;
    EXPECT_TRUE(src.refresh_async(counter.make()));   // starts a cycle
    EXPECT_TRUE(src.refresh_async(counter.make()));   // joins it
    EXPECT_TRUE(src.refresh_async(counter.make()));   // joins it
    EXPECT_FALSE(src.refresh_async(counter.make()));  // beyond max_refresh_waiters: answered at once
    ASSERT_TRUE(counter.wait(3));
    EXPECT_EQ(counter.count(), 3);
    const auto st = src.status();
    EXPECT_EQ(st.demanded, 1U);
    EXPECT_EQ(st.joined, 2U);
    EXPECT_EQ(st.failures, 1U);
    EXPECT_EQ(f.s.hits("/jwks"), 2U);
    EXPECT_TRUE(has_kid(src.current(), "k1"));        // the outage kept the last good set
    EXPECT_FALSE(src.refresh_async(counter.make()));  // rate-limited: no cycle in flight, within 1 h
    EXPECT_EQ(src.status().demanded, 1U);
}

/// A token minted for the fixture's issuer, signed by `k` (its kid in the header), typ at+jwt.
std::string mint(const issuer_fixture& f, const jose::key& k) {
    const auto now = common::real_clock{}.unix_seconds();
    boost::json::object c;
    c["iss"] = f.issuer;
    c["aud"] = "urn:tollgate:broker";
    c["sub"] = "alice";
    c["iat"] = now;
    c["exp"] = now + 300;
    c["scope"] = "mqtt:all:#";
    jose::sign_options o;
    o.typ = "at+jwt";
    return jose::sign(k, jose::algorithm::es256, c, o).value();
}

/// Collects authenticate() verdicts from any thread.
struct verdicts {
    std::function<void(broker::auth_result)> make() {
        return [this](broker::auth_result r) {
            std::lock_guard lock(mutex);
            results.push_back(std::move(r));
            changed.notify_all();
        };
    }
    bool wait(std::size_t n) {
        std::unique_lock lock(mutex);
        return changed.wait_for(lock, event_timeout, [&] { return results.size() >= n; });
    }
    std::size_t count() {
        std::lock_guard lock(mutex);
        return results.size();
    }
    std::mutex mutex;
    std::condition_variable changed;
    std::vector<broker::auth_result> results;
};

struct remote_auth {
    explicit remote_auth(issuer_fixture& f, std::chrono::milliseconds http_timeout = 5s) {
        auto o = f.options(false);
        o.min_refresh_interval = 1h;
        o.retry_min = o.retry_max = 1h;  // only demanded cycles during the test
        auto http = trusting();
        http.timeout = http_timeout;
        source = std::make_shared<remote_key_source>(o, make_http_fetch(http));
        token_auth_config cfg;
        issuer_config ic;
        ic.issuer = f.issuer;
        ic.keys = source;
        cfg.issuers.push_back(ic);
        authn = std::make_unique<token_authenticator>(cfg, clock);
    }
    void authenticate(const std::string& token, verdicts& v) {
        broker::auth_request r;
        r.client_id = "d";
        r.password = common::shared_bytes::copy_of(token);
        authn->authenticate(std::move(r), v.make());
    }
    common::real_clock clock;
    std::shared_ptr<remote_key_source> source;
    std::unique_ptr<token_authenticator> authn;
};

// The token that reveals a rotated key is accepted on first use: the verdict waits for the JWKS
// refetch instead of refusing while it is in flight.
TEST(remote_key_source, key_added_after_the_first_fetch_is_accepted_on_first_use) {
    issuer_fixture f;
    remote_auth a(f);
    ASSERT_TRUE(a.source->wait_for([](const auto& st) { return st.successes >= 1; }, event_timeout));
    f.s.set("/jwks", 200, jwks_of({&f.k1, &f.k2}));  // rotation: k2 published after the first fetch
    verdicts v;
    a.authenticate(mint(f, f.k2), v);
    a.authenticate(mint(f, f.k2), v);  // arrives while the refetch may still be in flight
    ASSERT_TRUE(v.wait(2));
    for (const auto& r : v.results) {
        EXPECT_EQ(r.result, broker::auth_result::outcome::success) << r.reason_string;
    }
    EXPECT_EQ(f.s.hits("/jwks"), 2U);  // the first fetch and exactly one refetch
    EXPECT_EQ(a.authn->stats().key_refreshes, 1U);
    verdicts later;
    a.authenticate(mint(f, f.k2), later);  // the new key is known now: inline, no refetch
    ASSERT_EQ(later.count(), 1U);
    EXPECT_EQ(later.results[0].result, broker::auth_result::outcome::success);
    EXPECT_EQ(f.s.hits("/jwks"), 2U);
}

// Random kids (an attacker's spray) make at most one fetch per window; those arriving while it is in
// flight wait for it and are refused (0x86) when it ends; afterwards they are refused at once.
TEST(remote_key_source, random_kid_spray_fetches_at_most_once_per_window) {
    issuer_fixture f;
    remote_auth a(f, 300ms);
    ASSERT_TRUE(a.source->wait_for([](const auto& st) { return st.successes >= 1; }, event_timeout));
    f.s.set("/jwks", 0, "");  // keep the refetch in flight until the client's timeout
    verdicts v;
    constexpr std::size_t spray = 20;
    for (std::size_t i = 0; i < spray; ++i) {
        a.authenticate(mint(f, jose::key::generate(jose::algorithm::es256, "rnd-" + std::to_string(i))), v);
    }
    ASSERT_TRUE(f.s.wait_hits("/jwks", 2));
    ASSERT_TRUE(v.wait(spray));
    for (const auto& r : v.results) {
        EXPECT_EQ(r.result, broker::auth_result::outcome::failure);
        EXPECT_EQ(r.reason, mqtt::reason_code::bad_user_name_or_password);
    }
    verdicts late;
    a.authenticate(mint(f, jose::key::generate(jose::algorithm::es256, "rnd-late")), late);
    ASSERT_EQ(late.count(), 1U);  // outside a refresh window: refused at once
    EXPECT_EQ(late.results[0].result, broker::auth_result::outcome::failure);
    EXPECT_EQ(f.s.hits("/jwks"), 2U);
    EXPECT_EQ(a.source->status().demanded, 1U);
    EXPECT_EQ(a.authn->stats().key_refreshes, 1U);
}

TEST(remote_key_source, waiters_are_all_answered_when_the_server_is_down) {
    auto f = std::make_unique<issuer_fixture>();
    remote_auth a(*f);
    ASSERT_TRUE(a.source->wait_for([](const auto& st) { return st.successes >= 1; }, event_timeout));
    const auto token_k2 = mint(*f, f->k2);
    const auto token_k1 = mint(*f, f->k1);
    f->s.stop();  // outage: connections are refused
    verdicts v;
    for (int i = 0; i < 5; ++i) {
        a.authenticate(token_k2, v);
    }
    ASSERT_TRUE(v.wait(5));
    EXPECT_EQ(v.count(), 5U);
    for (const auto& r : v.results) {
        EXPECT_EQ(r.result, broker::auth_result::outcome::failure);
    }
    EXPECT_EQ(a.source->status().demanded, 1U);
    verdicts known;
    a.authenticate(token_k1, known);  // a known kid still verifies with the last good set
    ASSERT_TRUE(known.wait(1));
    EXPECT_EQ(known.results[0].result, broker::auth_result::outcome::success);
}

}  // namespace
}  // namespace tollgate::auth
