// sql_source on SQLite and on a real PostgreSQL (the `postgres` ctest fixture; the postgres half
// fails, never skips, without it): the default mqtt_acl table, configured queries with named
// parameters, strict row checks, SQL injection through the principal's values, fail-closed errors;
// and translate_query's handling of literals, comments and bad parameters.
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <stdlib.h>

#include <gtest/gtest.h>

#include <tollgate/auth/sql_source.hpp>
#include <tollgate/common/secret.hpp>
#include <tollgate/store/database.hpp>

#include "token_env.hpp"

namespace tollgate::store::test {
std::string postgres_base_url();  // tests/unit/store/pg_url.cpp
}  // namespace tollgate::store::test

namespace tollgate::auth::test {
namespace {

using store::test::postgres_base_url;

using param = translated_query::param;

// ---- translate_query (no database) ---------------------------------------------------------

TEST(policy_sql_query, named_parameters_become_placeholders) {
    auto t = translate_query(
        "SELECT effect, action, filter FROM acl WHERE u = $username OR c = $client_id "
        "OR s = $sub OR u2 = $username;");
    EXPECT_EQ(t.sql, "SELECT effect, action, filter FROM acl WHERE u = ? OR c = ? OR s = ? OR u2 = ?");
    EXPECT_EQ(t.params, (std::vector{param::username, param::client_id, param::subject, param::username}));
}

TEST(policy_sql_query, literals_comments_and_identifiers_untouched) {
    auto t = translate_query(
        "SELECT '$username ?', \"$sub\", E'it\\'s $client_id', $$ $username ? $$, $t$ ? $t$, a$b -- $sub ?\n"
        "/* $username ? */ FROM x WHERE y = $sub");
    EXPECT_EQ(t.params, (std::vector{param::subject}));
    EXPECT_TRUE(t.sql.ends_with("WHERE y = ?")) << t.sql;
    EXPECT_NE(t.sql.find("'$username ?'"), std::string::npos);
    EXPECT_NE(t.sql.find("$t$ ? $t$"), std::string::npos);
    EXPECT_NE(t.sql.find("a$b"), std::string::npos);
}

TEST(policy_sql_query, claim_parameters_are_named_and_bound) {
    auto t = translate_query(
        "SELECT effect, action, filter FROM acl WHERE tenant = $claim:tenant AND org = $claim:org.id "
        "AND u = $username AND x = '$claim:tenant' AND t2 = $claim:tenant_2.");
    EXPECT_EQ(t.sql,
              "SELECT effect, action, filter FROM acl WHERE tenant = ? AND org = ? AND u = ? AND x = "
              "'$claim:tenant' AND t2 = ?.");
    EXPECT_EQ(t.params, (std::vector{param::claim, param::claim, param::username, param::claim}));
    EXPECT_EQ(t.claims, (std::vector<std::string>{"tenant", "org.id", "tenant_2"}));
}

std::string query_error(std::string_view q) {
    try {
        static_cast<void>(translate_query(q));
    } catch (const std::invalid_argument& e) {
        return e.what();
    }
    return "(no error)";
}

TEST(policy_sql_query, bad_queries_refused) {
    EXPECT_EQ(query_error("SELECT 1 WHERE a = ?"),
              "'?' placeholder in the query: use $username, $client_id, $sub or $claim:NAME");
    EXPECT_EQ(query_error("SELECT 1 WHERE a = $1"),
              "positional parameter $1 in the query: use $username, $client_id, $sub or $claim:NAME");
    EXPECT_EQ(query_error("SELECT 1 WHERE a = $user"),
              "unknown parameter $user in the query (known: $username, $client_id, $sub, $claim:NAME)");
    EXPECT_EQ(query_error("SELECT 1 WHERE a = $claim:"),
              "$claim: without a claim name in the query (write $claim:NAME)");
    EXPECT_EQ(query_error("SELECT 1 WHERE a = $claim:'x'"),
              "$claim: without a claim name in the query (write $claim:NAME)");
    EXPECT_EQ(query_error("SELECT 1 WHERE a = $claim:" + std::string(300, 'n')),
              "$claim:NAME longer than 256 bytes in the query");
    EXPECT_EQ(query_error("SELECT 'x"), "unterminated string in the query");
    EXPECT_EQ(query_error("SELECT \"x"), "unterminated quoted identifier in the query");
    EXPECT_EQ(query_error("SELECT 1 /* x"), "unterminated /* comment in the query");
    EXPECT_EQ(query_error("SELECT 1 /* /* */ $sub */"), "nested /* comments are not supported in the query");
    EXPECT_EQ(query_error("SELECT $a$ x"), "unterminated dollar-quoted string in the query");
    EXPECT_EQ(query_error("SELECT $ x"), "stray '$' in the query");
    EXPECT_EQ(query_error("  ; "), "the query is empty");
    EXPECT_EQ(query_error("SELECT 1; SELECT 2"), "more than one statement in the query");
    EXPECT_EQ(query_error("SELECT 1; 'x'"), "more than one statement in the query");
    EXPECT_EQ(query_error("SELECT 1; -- done\n /* really */ ;"), "(no error)");
    EXPECT_EQ(query_error(default_sql_query), "(no error)");
}

// ---- sql_source on both backends -----------------------------------------------------------

enum class backend { sqlite, postgres };

/// A fresh database per test: a SQLite file in a temporary directory, or a PostgreSQL schema.
class policy_sql : public ::testing::TestWithParam<backend> {
  protected:
    void SetUp() override {
        if (GetParam() == backend::sqlite) {
            std::string templ = (std::filesystem::temp_directory_path() / "tollgate-policy-XXXXXX").string();
            ASSERT_NE(mkdtemp(templ.data()), nullptr);
            dir_ = templ;
            url_ = "sqlite:" + dir_ + "/policy.db";
        } else {
            const std::string base = postgres_base_url();
            ASSERT_FALSE(base.empty());
            admin_ = store::open(base);
            schema_ = "p_" + common::to_hex(common::random_bytes(6));
            admin_->execute_script("CREATE SCHEMA " + schema_);
            url_ = base + (base.find('?') == std::string::npos ? "?" : "&") + "options=-csearch_path%3D" +
                   schema_;
        }
        db_ = store::open(url_);
        db_->execute_script(
            "CREATE TABLE mqtt_acl (username TEXT NULL, client_id TEXT NULL, effect TEXT NOT NULL, "
            "action TEXT NOT NULL, filter TEXT NOT NULL)");
    }
    void TearDown() override {
        db_.reset();
        if (admin_) {
            admin_->execute_script("DROP SCHEMA " + schema_ + " CASCADE");
        }
        if (!dir_.empty()) {
            std::filesystem::remove_all(dir_);
        }
    }
    void add(std::optional<std::string> username, std::optional<std::string> client_id, std::string effect,
             std::string action, std::string filter) {
        auto v = [](const std::optional<std::string>& s) {
            return s ? store::value(*s) : store::value(std::monostate{});
        };
        db_->execute(
            "INSERT INTO mqtt_acl (username, client_id, effect, action, filter) VALUES (?, ?, ?, ?, ?)",
            {v(username), v(client_id), effect, action, filter});
    }
    sql_source source(std::string query = {}, std::size_t max_rows = 10'000) {
        sql_source_config c;
        c.database = url_;
        c.query = std::move(query);
        c.max_rows = max_rows;
        return sql_source(std::move(c));
    }
    static broker::principal who(std::string client_id, std::optional<std::string> username,
                                 std::string subject = "alice") {
        broker::principal p;
        p.client_id = std::move(client_id);
        p.username = std::move(username);
        p.subject = std::move(subject);
        return p;
    }

    std::string dir_, schema_, url_;
    std::unique_ptr<store::database> admin_;
    std::unique_ptr<store::database> db_;
};

std::vector<std::string> texts(const std::vector<policy_rule>& rules) {
    std::vector<std::string> out;
    for (const auto& r : rules) {
        out.push_back(std::string(r.effect == policy_effect::allow ? "allow " : "deny ") +
                      (r.action == grant_action::publish     ? "pub "
                       : r.action == grant_action::subscribe ? "sub "
                                                             : "all ") +
                      r.filter);
    }
    std::sort(out.begin(), out.end());
    return out;
}

TEST_P(policy_sql, default_table_matches_username_client_id_and_null_as_any) {
    add("alice", std::nullopt, "allow", "pub", "users/alice/#");
    add(std::nullopt, "dev-1", "deny", "sub", "devices/dev-1/secret");
    add(std::nullopt, std::nullopt, "allow", "sub", "public/#");
    add("bob", "dev-1", "allow", "all", "bob-on-dev-1");
    auto s = source();
    EXPECT_EQ(s.name(), "sql");
    EXPECT_EQ(texts(s.load(who("dev-1", "alice"))),
              (std::vector<std::string>{"allow pub users/alice/#", "allow sub public/#",
                                        "deny sub devices/dev-1/secret"}));
    EXPECT_EQ(texts(s.load(who("dev-1", "bob"))),
              (std::vector<std::string>{"allow all bob-on-dev-1", "allow sub public/#",
                                        "deny sub devices/dev-1/secret"}));
    EXPECT_EQ(texts(s.load(who("dev-2", std::nullopt))), (std::vector<std::string>{"allow sub public/#"}));
    const auto rules = s.load(who("dev-2", "alice"));
    ASSERT_FALSE(rules.empty());
    EXPECT_EQ(rules[0].source, "sql");
}

TEST_P(policy_sql, configured_query_with_sub_and_named_columns) {
    db_->execute_script(
        "CREATE TABLE grants (owner TEXT, what TEXT, topic TEXT, kind TEXT);"
        "INSERT INTO grants VALUES ('alice', 'pub', 'a/{sub}', 'allow');"
        "INSERT INTO grants VALUES ('mallory', 'all', '#', 'allow')");
    // Columns found by name, in any order; extra columns ignored.
    auto s = source(
        "SELECT topic AS filter, 1 AS n, kind AS effect, what AS action FROM grants WHERE owner = $sub");
    auto rules = s.load(who("d", std::nullopt, "alice"));
    ASSERT_EQ(rules.size(), 1u);
    EXPECT_EQ(rules[0].filter, "a/{sub}");
    EXPECT_EQ(rules[0].effect, policy_effect::allow);
    EXPECT_EQ(rules[0].action, grant_action::publish);
}

// The principal's values are bound, never pasted: classic injections match nothing.
TEST_P(policy_sql, injection_attempts_get_nothing) {
    add("alice", std::nullopt, "allow", "all", "#");
    add(std::nullopt, "dev-1", "allow", "all", "devices/#");
    auto s = source();
    for (const std::string evil : {"x' OR '1'='1", "x' OR 1=1 --", "x'; DROP TABLE mqtt_acl; --",
                                   "\" OR \"\"=\"", "$username", "?", "x') OR ('a'='a"}) {
        EXPECT_TRUE(s.load(who(evil, evil, evil)).empty()) << evil;
    }
    EXPECT_EQ(s.load(who("dev-1", "alice")).size(), 2u);  // the table is intact
    auto custom = source("SELECT effect, action, filter FROM mqtt_acl WHERE username = $username");
    EXPECT_TRUE(custom.load(who("d", "x' OR '1'='1")).empty());
}

TEST_P(policy_sql, bad_rows_skipped_good_rows_kept) {
    add("u", std::nullopt, "allow", "pub", "good/1");
    add("u", std::nullopt, "permit", "pub", "bad/effect");
    add("u", std::nullopt, "allow", "publish", "bad/action");
    add("u", std::nullopt, "allow", "sub", "");
    add("u", std::nullopt, "DENY", "sub", "bad/case");
    add("u", std::nullopt, "deny", "sub", "good/2");
    auto rules = source().load(who("d", "u"));
    EXPECT_EQ(texts(rules), (std::vector<std::string>{"allow pub good/1", "deny sub good/2"}));
    // Non-text values are bad rows too.
    auto numeric = source("SELECT 1 AS effect, 'pub' AS action, 'x' AS filter WHERE $sub = $sub");
    EXPECT_TRUE(numeric.load(who("d", "u")).empty());
}

TEST_P(policy_sql, wrong_columns_or_too_many_rows_fail_closed) {
    add("u", std::nullopt, "allow", "pub", "a");
    add("u", std::nullopt, "allow", "pub", "b");
    auto two_columns = source("SELECT effect, filter FROM mqtt_acl WHERE username = $username");
    EXPECT_THROW(static_cast<void>(two_columns.load(who("d", "u"))), std::runtime_error);
    auto three = source("SELECT effect, action, filter FROM mqtt_acl WHERE username = $username", 1);
    EXPECT_THROW(static_cast<void>(three.load(who("d", "u"))), std::runtime_error);
    auto positional =
        source("SELECT effect, action, filter AS f FROM mqtt_acl WHERE username = $username", 2);
    EXPECT_EQ(positional.load(who("d", "u")).size(), 2u);  // exactly three columns: by position
    auto missing_table = source("SELECT effect, action, filter FROM nowhere WHERE username = $username");
    EXPECT_THROW(static_cast<void>(missing_table.load(who("d", "u"))), std::runtime_error);
}

/// Principals made by the real token_authenticator, so that session_context::claims holds the
/// token's verified claims.
struct claims_principals {
    claims_principals() : env(clock) {
        token_auth_config c;
        c.issuers.push_back(env.config());
        c.audience = std::string(audience);
        authn = std::make_unique<token_authenticator>(std::move(c), clock);
    }
    broker::principal with(const boost::json::object& extra) {
        auto claims = env.claims("mqtt:sub:x");
        for (const auto& [k, v] : extra) {
            claims[k] = v;
        }
        broker::auth_request req;
        req.client_id = "dev-1";
        req.password = bytes_of(env.sign(claims));
        std::shared_ptr<const broker::principal> who;
        authn->authenticate(std::move(req), [&who](broker::auth_result r) { who = std::move(r.who); });
        EXPECT_NE(who, nullptr);
        return who ? *who : broker::principal{};
    }
    common::manual_clock clock;
    token_env env;
    std::unique_ptr<token_authenticator> authn;
};

// $claim:NAME is bound as a parameter (never pasted); a missing or non-string claim binds NULL.
TEST_P(policy_sql, claim_parameters_bound_missing_binds_null) {
    db_->execute_script(
        "CREATE TABLE tenant_acl (tenant TEXT, effect TEXT, action TEXT, filter TEXT);"
        "INSERT INTO tenant_acl VALUES ('acme', 'allow', 'all', 'tenants/{claim:tenant}/#');"
        "INSERT INTO tenant_acl VALUES ('globex', 'allow', 'pub', 'tenants/globex/#');"
        "INSERT INTO tenant_acl VALUES (NULL, 'deny', 'pub', 'untenanted')");
    claims_principals p;
    auto s = source("SELECT effect, action, filter FROM tenant_acl WHERE tenant = $claim:tenant");
    EXPECT_EQ(texts(s.load(p.with({{"tenant", "acme"}}))),
              (std::vector<std::string>{"allow all tenants/{claim:tenant}/#"}));
    EXPECT_EQ(texts(s.load(p.with({{"tenant", "globex"}}))),
              (std::vector<std::string>{"allow pub tenants/globex/#"}));
    // Injection through a claim value finds nothing; the table is intact.
    for (const std::string evil : {"x' OR '1'='1", "acme' --", "'; DROP TABLE tenant_acl; --", "?", "$1"}) {
        EXPECT_TRUE(s.load(p.with({{"tenant", evil}})).empty()) << evil;
    }
    // Absent, number, array, object, null: NULL is bound (= NULL matches no row).
    for (const auto& extra : {boost::json::object{}, boost::json::object{{"tenant", 7}},
                              boost::json::object{{"tenant", boost::json::array{"acme"}}},
                              boost::json::object{{"tenant", boost::json::object{{"id", "acme"}}}},
                              boost::json::object{{"tenant", nullptr}}}) {
        EXPECT_TRUE(s.load(p.with(extra)).empty()) << boost::json::serialize(extra);
    }
    auto is_null = source(
        "SELECT effect, action, filter FROM tenant_acl WHERE tenant IS NULL AND "
        "CAST($claim:tenant AS TEXT) IS NULL");
    EXPECT_EQ(texts(is_null.load(p.with({}))), (std::vector<std::string>{"deny pub untenanted"}));
    EXPECT_TRUE(is_null.load(p.with({{"tenant", "acme"}})).empty());
    // A nested claim by dotted path; a principal without a token context binds NULL.
    auto nested = source("SELECT effect, action, filter FROM tenant_acl WHERE tenant = $claim:org.tenant");
    EXPECT_EQ(nested.load(p.with({{"org", boost::json::object{{"tenant", "acme"}}}})).size(), 1u);
    EXPECT_TRUE(nested.load(who("d", "u")).empty());
    // A value holding NUL is refused on both backends (fail closed), never truncated.
    EXPECT_THROW(static_cast<void>(s.load(p.with({{"tenant", std::string("acme\0x", 6)}}))),
                 std::runtime_error);
    EXPECT_EQ(texts(s.load(p.with({{"tenant", "acme"}}))).size(), 1u);
}

TEST_P(policy_sql, trailing_comment_and_semicolon) {
    add("u", std::nullopt, "allow", "pub", "a");
    auto s = source("SELECT effect, action, filter FROM mqtt_acl WHERE username = $username; -- note");
    EXPECT_EQ(s.load(who("d", "u")).size(), 1u);
}

INSTANTIATE_TEST_SUITE_P(backend, policy_sql, ::testing::Values(backend::sqlite, backend::postgres),
                         [](const ::testing::TestParamInfo<backend>& param_info) {
                             return std::string(param_info.param == backend::sqlite ? "sqlite" : "postgres");
                         });

TEST(policy_sql_errors, unreachable_database_throws_on_load_not_construction) {
    sql_source_config c;
    c.database = "postgresql://tollgate@127.0.0.1:1/none?connect_timeout=2";
    sql_source s(std::move(c));
    broker::principal p;
    p.client_id = "d";
    EXPECT_THROW(static_cast<void>(s.load(p)), std::runtime_error);
}

TEST(policy_sql_errors, bad_configuration) {
    sql_source_config c;
    c.database = "sqlite::memory:";
    c.query = "SELECT * FROM t WHERE a = ?";
    EXPECT_THROW(sql_source{c}, std::invalid_argument);
    c.query.clear();
    c.max_rows = 0;
    EXPECT_THROW(sql_source{c}, std::invalid_argument);
}

}  // namespace
}  // namespace tollgate::auth::test
