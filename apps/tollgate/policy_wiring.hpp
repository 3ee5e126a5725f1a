#pragma once
// The [auth.policy] section: external policy sources (SQL, static file, LDAP) combined with the token
// scopes by auth::policy_authorizer (docs/auth.md "Policy sources", docs/configuration.md).
//
//   [auth.policy]
//   cache_ttl = "60s"            # rules of a principal are reused this long
//   failure_ttl = "5s"           # a failed load (fail closed: deny) is retried after this
//   cache_size = 10000           # principals cached (LRU)
//   threads = 2                  # work threads running source loads (SQL, LDAP)
//   [[auth.policy.sources]]
//   type = "sql"                 # sql | file | ldap
//   name = "acl"                 # optional label: rules read "sql acl: allow pub ..."
//   database = "sqlite:///var/lib/tollgate/policy.db"   # or postgresql://...
//   query = "SELECT effect, action, filter FROM mqtt_acl WHERE username = $username"  # optional
//   pool_size = 2
//   max_rows = 10000
//   [[auth.policy.sources]]
//   type = "file"
//   path = "/etc/tollgate/acl.toml"
//   [[auth.policy.sources]]
//   type = "ldap"
//   url = "ldap://127.0.0.1:389"  # plus bind_dn, bind_password / bind_password_file, base_dn, ...
//
// Parsing is strict (unknown keys, wrong types and bad queries are config_errors naming the key
// path, e.g. "auth.policy.sources[0].query: unknown parameter $user ..."). Files (the rule file, an
// LDAP password file) are read and databases opened lazily by build_policy(), not by the parser.
// Thread-safety: plain functions and values; policy_stack as documented below.
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <toml++/toml.h>

#include <tollgate/auth/file_source.hpp>
#include <tollgate/auth/policy_authorizer.hpp>
#include <tollgate/broker/auth.hpp>
#include <tollgate/common/clock.hpp>
#include <tollgate/net/work_pool.hpp>

namespace tollgate::app {

struct policy_source_settings {
    enum class kind { sql, file, ldap } type = kind::sql;
    std::string label;  ///< `name`
    // sql
    std::string database;
    std::string query;  ///< empty: the default query over mqtt_acl
    std::size_t pool_size = 2;
    std::size_t max_rows = 10'000;
    // file
    std::string path;
    /// ldap: builds the source from the parsed, validated keys (reads bind_password_file). Throws
    /// config_error.
    std::function<std::shared_ptr<auth::policy_source>()> make_ldap;
};

struct policy_settings {
    std::chrono::milliseconds cache_ttl{60'000};
    std::chrono::milliseconds failure_ttl{5'000};
    std::size_t cache_size = 10'000;
    unsigned threads = 2;
    std::vector<policy_source_settings> sources;
};

/// Parses the [auth.policy] table (`path` is its key path, "auth.policy"). Throws config_error.
[[nodiscard]] policy_settings parse_policy_settings(const toml::table& table, const std::string& path);

/// The policy authorizer and the work threads its sources load on. Destroying it (or stop()) stops
/// the threads first: loads not started are dropped, running ones finish. Call stop() before the
/// broker is destroyed, so that no load answers into a dead broker.
class policy_stack {
  public:
    policy_stack(std::unique_ptr<auth::policy_authorizer> authz, std::unique_ptr<net::work_pool> work);
    ~policy_stack();
    policy_stack(const policy_stack&) = delete;
    policy_stack& operator=(const policy_stack&) = delete;

    [[nodiscard]] auth::policy_authorizer& authorizer() noexcept { return *authz_; }
    /// The static rule files (type = "file"), in source order, for SIGHUP reload
    /// (auth_stack::reload(): reload each, then authorizer().invalidate()).
    [[nodiscard]] const std::vector<std::shared_ptr<auth::file_source>>& file_sources() const noexcept {
        return files_;
    }
    /// Called by build_policy() for each file source it makes.
    void add_file_source(std::shared_ptr<auth::file_source> f) { files_.push_back(std::move(f)); }
    /// Idempotent.
    void stop();

  private:
    std::unique_ptr<auth::policy_authorizer> authz_;
    std::vector<std::shared_ptr<auth::file_source>> files_;
    std::unique_ptr<net::work_pool> work_;  // declared last: destroyed (joined) first
};

/// Builds the sources (the rule file is read now; SQL and LDAP connect on first use) and the
/// authorizer over `scopes` (the token-scope authorizer, which must outlive the stack). Throws
/// config_error naming "auth.policy.sources[i]" when a source cannot be made.
[[nodiscard]] std::unique_ptr<policy_stack> build_policy(const policy_settings& settings,
                                                         broker::authorizer& scopes,
                                                         const common::clock& clock);

}  // namespace tollgate::app
