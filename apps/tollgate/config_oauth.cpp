#include "config_oauth.hpp"

#include <array>
#include <chrono>
#include <filesystem>
#include <string>

namespace tollgate::app::detail {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr std::array<std::pair<std::string_view, jose::algorithm>, 3> signing_algs{{
    {"ES256", jose::algorithm::es256},
    {"EdDSA", jose::algorithm::eddsa},
    {"RS256", jose::algorithm::rs256},
}};

void read_lifetimes(table_reader& r, oauth::server_config& s) {
    r.seconds("access_token_ttl", s.default_access_token_ttl, seconds(30), hours(24 * 7));
    r.seconds("max_access_token_ttl", s.max_access_token_ttl, seconds(30), hours(24 * 30));
    r.seconds("code_ttl", s.code_ttl, seconds(5), seconds(600));
    r.seconds("device_code_ttl", s.device_code_ttl, seconds(60), hours(1));
    r.seconds("device_poll_interval", s.device_poll_interval, seconds(1), seconds(60));
    r.seconds("refresh_grace", s.refresh_grace, seconds(0), seconds(60));
    r.seconds("session_ttl", s.session_ttl, seconds(60), hours(24 * 7));
    r.seconds("pending_ttl", s.pending_ttl, seconds(60), hours(1));
    r.seconds("client_assertion_max_age", s.client_assertion_max_age, seconds(30), hours(1));
    r.seconds("consent_ttl", s.consent_ttl, seconds(0), hours(24 * 365));
    r.seconds("signing_key_refresh", s.signing_key_refresh, seconds(1), hours(1));
    r.duration("revocation_poll", s.revocation_poll, milliseconds(10), seconds(60));
}

void read_limits(table_reader& r, oauth::server_config& s) {
    r.integer("login_max_failures", s.login_max_failures, 1, 1000);
    r.integer("login_address_max_failures", s.login_address_max_failures, 1, 100000);
    r.seconds("login_lockout", s.login_lockout, seconds(1), hours(24));
    r.integer("user_code_max_failures", s.user_code_max_failures, 1, 1000);
    r.seconds("user_code_lockout", s.user_code_lockout, seconds(1), hours(24));
    r.integer("max_body_bytes", s.max_body_bytes, 1024, 16 * 1024 * 1024);
    r.integer("database_pool_size", s.database_pool_size, 1, 256);
    r.integer("work_threads", s.work_threads, 1, 256);
}

}  // namespace

void read_oauth(table_reader& r, oauth_settings& out) {
    auto& s = out.server;
    r.boolean("enabled", out.enabled);
    r.string("issuer", s.issuer);
    r.string("address", s.listen_address);
    r.integer("port", s.port, 0, 65535);
    r.string("database_url", s.database_url);
    r.string("signing_key_file", s.key_file);
    r.string("default_audience", s.default_audience);
    r.choice<jose::algorithm>("signing_alg", s.signing_alg, signing_algs);
    r.string("cert_file", s.tls_certificate_file);
    r.string("key_file", s.tls_private_key_file);
    r.string("client_ca_file", s.tls_client_ca_file);
    r.boolean("request_client_certificates", s.request_client_certificates);
    read_lifetimes(r, s);
    read_limits(r, s);
    r.finish();
}

void validate_oauth(const oauth_settings& o) {
    if (!o.enabled) {
        return;
    }
    const auto& s = o.server;
    if (s.tls_certificate_file.empty() != s.tls_private_key_file.empty()) {
        fail("oauth.cert_file", "cert_file and key_file go together (HTTPS needs both)");
    }
    for (const auto& [key, file] :
         {std::pair<std::string_view, const std::string&>{"oauth.cert_file", s.tls_certificate_file},
          {"oauth.key_file", s.tls_private_key_file},
          {"oauth.client_ca_file", s.tls_client_ca_file}}) {
        std::error_code ec;
        if (!file.empty() && !std::filesystem::is_regular_file(file, ec)) {
            fail(key, "cannot read " + file);
        }
    }
    if (s.request_client_certificates && (s.tls_certificate_file.empty() || s.tls_client_ca_file.empty())) {
        fail("oauth.request_client_certificates", "needs cert_file, key_file and client_ca_file (HTTPS)");
    }
    if (s.default_access_token_ttl > s.max_access_token_ttl) {
        fail("oauth.access_token_ttl", "must not exceed oauth.max_access_token_ttl");
    }
    const bool https = s.issuer.rfind("https://", 0) == 0;
    const bool loopback_http = s.issuer.rfind("http://127.0.0.1", 0) == 0 ||
                               s.issuer.rfind("http://localhost", 0) == 0 ||
                               s.issuer.rfind("http://[::1]", 0) == 0;
    if (!https && !loopback_http) {
        fail("oauth.issuer", "must be an https URL (http only on loopback), got \"" + s.issuer + "\"");
    }
    if (s.issuer.find_first_of("?#") != std::string::npos) {
        fail("oauth.issuer", "must not have a query or fragment (RFC 8414 §2)");
    }
}

}  // namespace tollgate::app::detail
