// [auth.policy] parsing and the wiring of the policy sources (see policy_wiring.hpp).
#include "policy_wiring.hpp"

#include <fstream>
#include <sstream>
#include <stdexcept>

#include <tollgate/auth/file_source.hpp>
#include <tollgate/auth/sql_source.hpp>
#include <tollgate/common/log.hpp>

#include "config_reader.hpp"

#if __has_include(<tollgate/auth/ldap_source.hpp>)
#include <tollgate/auth/ldap_source.hpp>
#define TOLLGATE_HAVE_LDAP_SOURCE 1
#endif

namespace tollgate::app {
namespace {

using detail::fail;
using detail::table_reader;

constexpr std::pair<std::string_view, policy_source_settings::kind> source_kinds[] = {
    {"sql", policy_source_settings::kind::sql},
    {"file", policy_source_settings::kind::file},
    {"ldap", policy_source_settings::kind::ldap},
};

void parse_sql(table_reader& r, policy_source_settings& out) {
    r.string("database", out.database);
    if (out.database.empty()) {
        fail(r.path_of("database"), "is required (sqlite:///path.db or postgresql://...)");
    }
    r.string("query", out.query);
    if (!out.query.empty()) {
        try {
            static_cast<void>(auth::translate_query(out.query));
        } catch (const std::invalid_argument& e) {
            fail(r.path_of("query"), e.what());
        }
    }
    r.integer("pool_size", out.pool_size, 1, 64);
    r.integer("max_rows", out.max_rows, 1, 1'000'000);
}

#ifdef TOLLGATE_HAVE_LDAP_SOURCE
constexpr std::pair<std::string_view, auth::ldap_identity> ldap_identities[] = {
    {"username", auth::ldap_identity::username},
    {"sub", auth::ldap_identity::subject},
    {"client_id", auth::ldap_identity::client_id},
};
constexpr std::pair<std::string_view, auth::ldap_tls> ldap_tls_modes[] = {
    {"none", auth::ldap_tls::none},
    {"starttls", auth::ldap_tls::starttls},
    {"ldaps", auth::ldap_tls::ldaps},
};
constexpr std::pair<std::string_view, auth::ldap_bind_method> ldap_bind_methods[] = {
    {"simple", auth::ldap_bind_method::simple},
    {"sasl_external", auth::ldap_bind_method::sasl_external},
};

/// The first line of a password file (a trailing newline is not part of the password).
std::string read_password_file(const std::string& file, const std::string& where) {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
        fail(where, "cannot read " + file);
    }
    std::string line;
    std::getline(in, line);
    if (!line.empty() && line.back() == '\r') {
        line.pop_back();
    }
    return line;
}

void parse_ldap(table_reader& r, policy_source_settings& out) {
    auth::ldap_config c;
    c.label = out.label;
    r.string("url", c.url);
    r.string("bind_dn", c.bind_dn);
    r.string("bind_password", c.bind_password);
    std::string password_file;
    r.string("bind_password_file", password_file);
    if (!c.bind_password.empty() && !password_file.empty()) {
        fail(r.path_of("bind_password_file"), "give bind_password or bind_password_file, not both");
    }
    r.string("base_dn", c.base_dn);
    r.string("user_base_dn", c.user_base_dn);
    r.string("group_base_dn", c.group_base_dn);
    r.string("user_filter", c.user_filter);
    r.string("group_filter", c.group_filter, false);
    r.string("rule_attribute", c.rule_attribute);
    r.choice<auth::ldap_identity>("identity", c.identity, ldap_identities);
    r.choice<auth::ldap_tls>("tls", c.tls, ldap_tls_modes);
    r.string("ca_file", c.ca_file);
    r.string("cert_file", c.cert_file);
    r.string("key_file", c.key_file);
    r.choice<auth::ldap_bind_method>("bind_method", c.bind_method, ldap_bind_methods);
    r.duration("connect_timeout", c.connect_timeout, std::chrono::milliseconds{1}, std::chrono::minutes{5});
    r.duration("operation_timeout", c.operation_timeout, std::chrono::milliseconds{1},
               std::chrono::minutes{5});
    r.integer("max_connections", c.max_connections, 1, 256);
    r.integer("max_groups", c.max_groups, 1, 100'000);
    r.integer("max_group_depth", c.max_group_depth, 1, 64);
    r.integer("max_rules", c.max_rules, 1, 1'000'000);
    if (c.url.empty()) {
        fail(r.path_of("url"), "is required (ldap://host:port or ldaps://host:port)");
    }
    // Checked now without the password (a file is read only when the source is built): a
    // placeholder stands in for it so that the clear-text-password rule is checked too.
    auth::ldap_config probe = c;
    if (!password_file.empty()) {
        probe.bind_password = "x";
    }
    if (auto problem = auth::validate_ldap_config(probe)) {
        fail(r.path_of("type"), *problem);
    }
    const std::string where = r.path_of("bind_password_file");
    out.make_ldap = [c, password_file, where]() -> std::shared_ptr<auth::policy_source> {
        auto config = c;
        if (!password_file.empty()) {
            config.bind_password = read_password_file(password_file, where);
        }
        return std::shared_ptr<auth::policy_source>(auth::make_ldap_source(std::move(config)));
    };
}
#endif

policy_source_settings parse_source(const toml::table& table, const std::string& path) {
    table_reader r(table, path);
    policy_source_settings out;
    if (!r.has("type")) {
        fail(r.path_of("type"), "is required (sql, file or ldap)");
    }
    r.choice<policy_source_settings::kind>("type", out.type, source_kinds);
    r.string("name", out.label);
    switch (out.type) {
        case policy_source_settings::kind::sql:
            parse_sql(r, out);
            break;
        case policy_source_settings::kind::file:
            r.string("path", out.path);
            if (out.path.empty()) {
                fail(r.path_of("path"), "is required (a TOML rule file)");
            }
            break;
        case policy_source_settings::kind::ldap:
#ifdef TOLLGATE_HAVE_LDAP_SOURCE
            parse_ldap(r, out);
            break;
#else
            fail(r.path_of("type"), "ldap source not available in this build");
#endif
    }
    r.finish();
    return out;
}

std::shared_ptr<auth::policy_source> make_source(const policy_source_settings& s, const std::string& where) {
    try {
        switch (s.type) {
            case policy_source_settings::kind::sql: {
                auth::sql_source_config c;
                c.database = s.database;
                c.query = s.query;
                c.label = s.label;
                c.pool_size = s.pool_size;
                c.max_rows = s.max_rows;
                return std::make_shared<auth::sql_source>(std::move(c));
            }
            case policy_source_settings::kind::file:
                return std::make_shared<auth::file_source>(auth::file_source::from_file(s.path, s.label));
            case policy_source_settings::kind::ldap:
                if (!s.make_ldap) {
                    fail(where, "ldap source not available in this build");
                }
                return s.make_ldap();
        }
    } catch (const config_error&) {
        throw;
    } catch (const std::exception& e) {
        fail(where, e.what());
    }
    fail(where, "unknown source type");
}

}  // namespace

policy_settings parse_policy_settings(const toml::table& table, const std::string& path) {
    table_reader r(table, path);
    policy_settings out;
    r.duration("cache_ttl", out.cache_ttl, std::chrono::milliseconds{0}, std::chrono::hours{24});
    r.duration("failure_ttl", out.failure_ttl, std::chrono::milliseconds{0}, std::chrono::hours{1});
    r.integer("cache_size", out.cache_size, 1, 10'000'000);
    r.integer("threads", out.threads, 1, 64);
    if (const auto* sources = r.table_array("sources")) {
        for (std::size_t i = 0; i < sources->size(); ++i) {
            const std::string where = r.path_of("sources") + "[" + std::to_string(i) + "]";
            const auto* t = (*sources)[i].as_table();
            if (t == nullptr) {
                fail(where, "must be a table");
            }
            out.sources.push_back(parse_source(*t, where));
        }
    }
    if (out.sources.empty()) {
        fail(r.path_of("sources"),
             "needs at least one [[" + r.path_of("sources") + "]] (type sql, file or ldap)");
    }
    r.finish();
    return out;
}

policy_stack::policy_stack(std::unique_ptr<auth::policy_authorizer> authz,
                           std::unique_ptr<net::work_pool> work)
    : authz_(std::move(authz)), work_(std::move(work)) {}

policy_stack::~policy_stack() {
    stop();
}

void policy_stack::stop() {
    if (work_) {
        work_->stop();
    }
}

std::unique_ptr<policy_stack> build_policy(const policy_settings& settings, broker::authorizer& scopes,
                                           const common::clock& clock) {
    std::vector<std::shared_ptr<auth::policy_source>> sources;
    std::vector<std::shared_ptr<auth::file_source>> files;
    for (std::size_t i = 0; i < settings.sources.size(); ++i) {
        sources.push_back(make_source(settings.sources[i], "auth.policy.sources[" + std::to_string(i) + "]"));
        if (settings.sources[i].type == policy_source_settings::kind::file) {
            files.push_back(std::static_pointer_cast<auth::file_source>(sources.back()));
        }
    }
    auto work = std::make_unique<net::work_pool>(settings.threads);
    auto* pool = work.get();
    auth::policy_authorizer_config config;
    config.cache_ttl = settings.cache_ttl;
    config.failure_ttl = settings.failure_ttl;
    config.max_entries = settings.cache_size;
    auto authz = std::make_unique<auth::policy_authorizer>(
        scopes, std::move(sources), [pool](std::function<void()> fn) { pool->post(std::move(fn)); }, clock,
        config);
    common::logger("auth")->info("authorization policy: {} source(s), rules cached {} ms",
                                 settings.sources.size(), settings.cache_ttl.count());
    auto stack = std::make_unique<policy_stack>(std::move(authz), std::move(work));
    for (auto& f : files) {
        stack->add_file_source(std::move(f));
    }
    return stack;
}

}  // namespace tollgate::app
