#pragma once
// Test support for the authorization server: a server on a fresh data directory (SQLite by
// default, or a PostgreSQL schema), a manual clock, request builders and a tiny browser (cookie
// jar, hidden form fields, redirects) for the login/consent/device pages.
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/json/object.hpp>

#include <tollgate/common/clock.hpp>
#include <tollgate/oauth/server.hpp>

namespace tollgate::oauth::test {

/// A fresh temporary directory, removed with its contents on destruction.
class temp_dir {
  public:
    temp_dir();
    ~temp_dir();
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;
    [[nodiscard]] const std::string& path() const { return path_; }

  private:
    std::string path_;
};

/// URL of a fresh PostgreSQL schema on the test server (ctest fixture "postgres"); records a test
/// failure and returns "" when $TOLLGATE_TEST_PG_URL_FILE is missing.
std::string fresh_postgres_url();

struct server_fixture {
    explicit server_fixture(std::string database_url = "", server_config base = {});
    temp_dir dir;
    common::manual_clock clock;
    server_config config;
    std::unique_ptr<authorization_server> server;

    /// A confidential client with these grants and scopes; returns its secret.
    std::string add_client(const std::string& id, std::vector<std::string> grants,
                           std::vector<std::string> scopes, std::vector<std::string> redirect_uris = {},
                           std::string method = "client_secret_basic");
    void add_public_client(const std::string& id, std::vector<std::string> grants,
                           std::vector<std::string> scopes, std::vector<std::string> redirect_uris);

    response post(const std::string& path, const std::string& body, const std::string& authorization = "",
                  const std::string& peer = "192.0.2.1");
    response get(const std::string& target);
};

request make_post(const std::string& path, const std::string& body, const std::string& authorization = "");
request make_get(const std::string& target);
/// The JSON object body of r (fails the test if it is not one).
boost::json::object json_of(const response& r);
std::string str(const boost::json::object& o, const char* key);

/// A browser: keeps cookies, reads hidden fields, follows nothing on its own.
struct browser {
    std::map<std::string, std::string> cookies;
    response last;

    response get(authorization_server& s, const std::string& target);
    response post(authorization_server& s, const std::string& path, const std::string& body);
    void absorb(const response& r);
    /// value="..." of the input named name in the last page; empty if absent.
    [[nodiscard]] std::string field(const std::string& name) const;
    [[nodiscard]] std::string cookie_header() const;
};

/// Drives a browser through /authorize?query: follows redirects to the issuer, signs in as
/// user/password when the login page shows, answers the consent page (if it shows) with decision
/// and, with remember, the "remember" box. Returns the first response that is neither: normally
/// the 303 to the client's redirect URI.
response authorize_in_browser(authorization_server& s, browser& b, const std::string& issuer,
                              const std::string& query, const std::string& user, const std::string& password,
                              const std::string& decision = "approve", bool remember = false);

/// The query (or fragment) parameter of a Location URL; nullopt if absent.
std::optional<std::string> location_param(const response& r, const std::string& name);
/// Path + query of an absolute Location pointing at the issuer.
std::string location_target(const response& r, const std::string& issuer);

}  // namespace tollgate::oauth::test
