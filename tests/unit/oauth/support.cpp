#include "support.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

#include <tollgate/common/secret.hpp>
#include <tollgate/store/database.hpp>

namespace tollgate::oauth::test {

temp_dir::temp_dir() {
    auto base =
        std::filesystem::temp_directory_path() / ("tg-oauth-" + common::to_hex(common::random_bytes(8)));
    std::filesystem::create_directories(base);
    path_ = base.string();
}

temp_dir::~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
}

std::string fresh_postgres_url() {
    const char* file = std::getenv("TOLLGATE_TEST_PG_URL_FILE");
    std::string base;
    if (file != nullptr) {
        std::ifstream in(file);
        std::getline(in, base);
    }
    if (base.empty()) {
        ADD_FAILURE() << "PostgreSQL test server URL missing: run through ctest (fixture 'postgres')";
        return {};
    }
    const auto schema = "oauth_" + common::to_hex(common::random_bytes(6));
    store::open(base)->execute_script("CREATE SCHEMA " + schema);
    return base + (base.find('?') == std::string::npos ? "?" : "&") + "options=-csearch_path%3D" + schema;
}

server_fixture::server_fixture(std::string database_url, server_config base) : config(std::move(base)) {
    config.data_dir = dir.path();
    config.database_url = std::move(database_url);
    config.issuer = "https://as.example";
    server = std::make_unique<authorization_server>(config, clock);
}

std::string server_fixture::add_client(const std::string& id, std::vector<std::string> grants,
                                       std::vector<std::string> scopes,
                                       std::vector<std::string> redirect_uris, std::string method) {
    client_options o;
    o.client_id = id;
    o.grant_types = std::move(grants);
    o.scopes = std::move(scopes);
    o.redirect_uris = std::move(redirect_uris);
    o.auth_method = std::move(method);
    return server->create_client(o).secret;
}

void server_fixture::add_public_client(const std::string& id, std::vector<std::string> grants,
                                       std::vector<std::string> scopes,
                                       std::vector<std::string> redirect_uris) {
    add_client(id, std::move(grants), std::move(scopes), std::move(redirect_uris), "none");
}

request make_post(const std::string& path, const std::string& body, const std::string& authorization) {
    request r;
    r.method = "POST";
    r.target = path;
    r.body = body;
    r.headers.emplace_back("content-type", "application/x-www-form-urlencoded");
    if (!authorization.empty()) {
        r.headers.emplace_back("authorization", authorization);
    }
    r.peer_address = "192.0.2.1";
    return r;
}

request make_get(const std::string& target) {
    request r;
    r.method = "GET";
    r.target = target;
    r.peer_address = "192.0.2.1";
    return r;
}

response server_fixture::post(const std::string& path, const std::string& body,
                              const std::string& authorization, const std::string& peer) {
    auto r = make_post(path, body, authorization);
    r.peer_address = peer;
    return server->handle(r);
}

response server_fixture::get(const std::string& target) {
    return server->handle(make_get(target));
}

boost::json::object json_of(const response& r) {
    boost::system::error_code ec;
    auto v = boost::json::parse(r.body, ec);
    if (ec || !v.is_object()) {
        ADD_FAILURE() << "not a JSON object: " << r.body;
        return {};
    }
    return v.as_object();
}

std::string str(const boost::json::object& o, const char* key) {
    const auto* v = o.if_contains(key);
    return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
}

std::string browser::cookie_header() const {
    std::string out;
    for (const auto& [k, v] : cookies) {
        if (!out.empty()) {
            out += "; ";
        }
        out += k + "=" + v;
    }
    return out;
}

void browser::absorb(const response& r) {
    last = r;
    for (const auto& [k, v] : r.headers) {
        if (k != "set-cookie") {
            continue;
        }
        const auto eq = v.find('=');
        const auto semi = v.find(';');
        cookies[v.substr(0, eq)] = v.substr(eq + 1, semi - eq - 1);
    }
}

response browser::get(authorization_server& s, const std::string& target) {
    auto req = make_get(target);
    if (!cookies.empty()) {
        req.headers.emplace_back("cookie", cookie_header());
    }
    auto r = s.handle(req);
    absorb(r);
    return r;
}

response browser::post(authorization_server& s, const std::string& path, const std::string& body) {
    auto req = make_post(path, body);
    if (!cookies.empty()) {
        req.headers.emplace_back("cookie", cookie_header());
    }
    auto r = s.handle(req);
    absorb(r);
    return r;
}

std::string browser::field(const std::string& name) const {
    const auto key = "name=\"" + name + "\" value=\"";
    const auto pos = last.body.find(key);
    if (pos == std::string::npos) {
        return {};
    }
    const auto start = pos + key.size();
    std::string raw = last.body.substr(start, last.body.find('"', start) - start);
    std::string out;
    for (std::size_t i = 0; i < raw.size(); ++i) {  // undo html_escape for the characters it touches
        if (raw.compare(i, 5, "&amp;") == 0) {
            out += '&';
            i += 4;
        } else {
            out += raw[i];
        }
    }
    return out;
}

response authorize_in_browser(authorization_server& s, browser& b, const std::string& issuer,
                              const std::string& query, const std::string& user, const std::string& password,
                              const std::string& decision, bool remember) {
    auto r = b.get(s, "/authorize?" + query);
    for (int step = 0; step < 6; ++step) {
        const auto loc = std::string(r.header("location").value_or(""));
        if (r.status == 303 && loc.rfind(issuer + "/", 0) == 0) {
            r = b.get(s, loc.substr(issuer.size()));
        } else if (r.status == 200 && !b.field("next").empty()) {
            r = b.post(s, "/login",
                       build_query({{"next", b.field("next")},
                                    {"csrf", b.field("csrf")},
                                    {"username", user},
                                    {"password", password}}));
        } else if (r.status == 200 && !b.field("request").empty()) {
            std::vector<std::pair<std::string, std::string>> q{
                {"request", b.field("request")}, {"csrf", b.field("csrf")}, {"decision", decision}};
            if (remember) {
                q.emplace_back("remember", "1");
            }
            r = b.post(s, "/consent", build_query(q));
        } else {
            break;
        }
    }
    return r;
}

std::optional<std::string> location_param(const response& r, const std::string& name) {
    auto loc = r.header("location");
    if (!loc) {
        return std::nullopt;
    }
    auto start = loc->find_first_of("?#");
    if (start == std::string_view::npos) {
        return std::nullopt;
    }
    auto parsed = parse_form(loc->substr(start + 1));
    auto v = parsed.value.get(name);
    return v ? std::optional<std::string>(std::string(*v)) : std::nullopt;
}

std::string location_target(const response& r, const std::string& issuer) {
    auto loc = std::string(r.header("location").value_or(""));
    return loc.rfind(issuer, 0) == 0 ? loc.substr(issuer.size()) : loc;
}

}  // namespace tollgate::oauth::test
