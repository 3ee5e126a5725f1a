#pragma once
// sql_source: policy rules from a SQL database (SQLite or PostgreSQL through libs/store).
//
// The configured query names the principal's values as $username, $client_id and $sub, and claims
// of its verified token as $claim:NAME (NAME: letters, digits and '_', dot-separated for a nested
// claim: $claim:tenant, $claim:org.id; looked up as claim_string() does). They are always bound as
// parameters, never pasted into the SQL text: translate_query() replaces each name outside string
// literals, quoted identifiers, dollar-quoted strings and comments with the store's `?` placeholder
// (which libs/store rewrites to $1..$n for PostgreSQL) and records which value to bind. A missing
// username binds NULL; a claim that is absent or not a JSON string (number, array, object, null)
// binds NULL, so `= $claim:NAME` matches no row for it (write `IS NULL` tests with care). A bound
// value holding NUL makes load() throw (fail closed: PostgreSQL cannot take it and SQLite would
// compare it differently). A raw `?`, a positional `$1` or an unknown `$name` in the query is a
// configuration error (std::invalid_argument naming it).
//
// Rows: each row must give effect, action and filter — by column name when the result has columns
// named "effect", "action" and "filter", else the first three of exactly three columns. effect is
// "allow" or "deny", action "pub", "sub" or "all", filter a non-empty text topic filter (placeholders
// allowed, see policy_source.hpp). A row breaking this is skipped with a warning naming the row
// number and the problem. More than max_rows rows is an error (load() throws: fail closed, so a
// truncated rule set can never drop a deny rule).
//
// Default query (docs/auth.md), over the table
//   mqtt_acl(username TEXT NULL, client_id TEXT NULL, effect TEXT, action TEXT, filter TEXT)
// where a NULL username / client_id matches any principal:
//   SELECT effect, action, filter FROM mqtt_acl
//    WHERE (username IS NULL OR username = $username) AND (client_id IS NULL OR client_id = $client_id)
//
// Thread-safety: load() may be called from several threads at once (a store::pool of connections).
#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <tollgate/auth/policy_source.hpp>

namespace tollgate::store {
class pool;
}

namespace tollgate::auth {

struct sql_source_config {
    std::string database;  ///< a libs/store URL: sqlite:/path.db or postgresql://...
    std::string query;     ///< empty: default_sql_query
    std::string label;     ///< appended to the name ("sql acl"); empty: "sql"
    std::size_t pool_size = 2;
    std::size_t max_rows = 10'000;
    std::chrono::milliseconds acquire_timeout{5'000};  ///< waiting for a free connection
};

/// The default query over mqtt_acl (named parameters, as configured queries are written).
extern const std::string_view default_sql_query;

/// A query with its named parameters replaced by `?`, and which value each `?` binds.
struct translated_query {
    enum class param { username, client_id, subject, claim };
    std::string sql;
    std::vector<param> params;
    /// The claim name of each param::claim in `params`, in the same order.
    std::vector<std::string> claims;
};
/// Longest NAME accepted in $claim:NAME.
inline constexpr std::size_t max_sql_claim_name = 256;
/// Throws std::invalid_argument (message names the offending text) for a raw `?`, `$<digit>`, an
/// unknown `$name`, `$claim:` without a NAME (or one longer than max_sql_claim_name), an
/// unterminated quote or comment, more than one statement, or a query without any statement text.
translated_query translate_query(std::string_view query);

class sql_source final : public policy_source {
  public:
    /// Translates the query (std::invalid_argument when it is bad). Does not connect yet.
    explicit sql_source(sql_source_config config);
    ~sql_source() override;
    sql_source(const sql_source&) = delete;
    sql_source& operator=(const sql_source&) = delete;

    std::string_view name() const override { return name_; }
    /// Runs the query with the principal's values. Throws std::runtime_error (store::error) when the
    /// database cannot answer or returns more than max_rows rows.
    std::vector<policy_rule> load(const broker::principal& who) override;

  private:
    sql_source_config config_;
    translated_query query_;
    std::string name_;
    std::unique_ptr<store::pool> pool_;
};

}  // namespace tollgate::auth
