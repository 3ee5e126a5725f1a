// Backend-independent pieces: placeholder rewriting, URL redaction and parsing, plus SQLite file
// settings and PostgreSQL connection failures (no server needed).
#include <filesystem>
#include <stdlib.h>
#include <sys/stat.h>

#include <gtest/gtest.h>
#include <spdlog/sinks/ringbuffer_sink.h>

#include <tollgate/common/log.hpp>
#include <tollgate/store/store.hpp>

namespace tollgate::store::test {
namespace {

TEST(store_placeholders, question_marks_become_numbered_parameters) {
    auto r = rewrite_placeholders("SELECT * FROM t WHERE a = ? AND b IN (?, ?)");
    EXPECT_EQ(r.text, "SELECT * FROM t WHERE a = $1 AND b IN ($2, $3)");
    EXPECT_EQ(r.parameters, 3U);
}

TEST(store_placeholders, quoted_and_commented_question_marks_stay) {
    struct example {
        const char* in;
        const char* out;
        std::size_t n;
    };
    const example examples[] = {
        {"SELECT '?', ?", "SELECT '?', $1", 1},
        {"SELECT 'it''s ?', ?", "SELECT 'it''s ?', $1", 1},
        {"SELECT E'\\' ?', ?", "SELECT E'\\' ?', $1", 1},  // backslash escape in E''
        {"SELECT '\\', ?", "SELECT '\\', $1", 1},          // standard string: backslash is data
        {"SELECT \"col?\" FROM t WHERE x = ?", "SELECT \"col?\" FROM t WHERE x = $1", 1},
        {"SELECT \"a\"\"?\" , ?", "SELECT \"a\"\"?\" , $1", 1},
        {"SELECT ? -- why?\n, ?", "SELECT $1 -- why?\n, $2", 2},
        {"SELECT /* ? /* nested ? */ ? */ ?", "SELECT /* ? /* nested ? */ ? */ $1", 1},
        {"SELECT $$ ? $$, ?", "SELECT $$ ? $$, $1", 1},
        {"SELECT $fn$ it's ? $fn$, ?", "SELECT $fn$ it's ? $fn$, $1", 1},
        {"SELECT a$b, ?", "SELECT a$b, $1", 1},
        {"SELECT '?", "SELECT '?", 0},  // unterminated: left for the server to reject
        {"SELECT x::text, ?", "SELECT x::text, $1", 1},
        {"", "", 0},
    };
    for (const auto& e : examples) {
        auto r = rewrite_placeholders(e.in);
        EXPECT_EQ(r.text, e.out) << e.in;
        EXPECT_EQ(r.parameters, e.n) << e.in;
    }
}

TEST(store_placeholders, many_parameters_are_numbered_in_order) {
    std::string sql = "VALUES (";
    for (int i = 0; i < 12; ++i) {
        sql += i == 0 ? "?" : ",?";
    }
    sql += ")";
    auto r = rewrite_placeholders(sql);
    EXPECT_EQ(r.parameters, 12U);
    EXPECT_NE(r.text.find("$10,$11,$12)"), std::string::npos) << r.text;
}

TEST(store_redact_url, passwords_are_removed) {
    EXPECT_EQ(redact_url("postgresql://alice:hunter2@db.example:5432/app"),
              "postgresql://alice:***@db.example:5432/app");
    EXPECT_EQ(redact_url("postgres://alice:p%40ss@h/db?sslmode=require"),
              "postgres://alice:***@h/db?sslmode=require");
    EXPECT_EQ(redact_url("postgresql://alice:pa/ss@h/db"), "postgresql://alice:***@h/db");
    EXPECT_EQ(redact_url("postgresql://h/db?user=a&password=hunter2&sslmode=require"),
              "postgresql://h/db?user=a&password=***&sslmode=require");
    EXPECT_EQ(redact_url("host=h PASSWORD='a b c' dbname=x"), "host=h PASSWORD=*** dbname=x");
    EXPECT_EQ(redact_url("postgresql://alice@h:5432/db"), "postgresql://alice@h:5432/db");
    EXPECT_EQ(redact_url("sqlite:/var/lib/tollgate/oauth.db"), "sqlite:/var/lib/tollgate/oauth.db");
}

TEST(store_open, unknown_schemes_and_bad_sqlite_options_are_rejected) {
    EXPECT_THROW(open("mysql://u:p@h/db"), std::invalid_argument);
    EXPECT_THROW(open("sqlite:"), std::invalid_argument);
    EXPECT_THROW(open("sqlite::memory:?bogus=1"), std::invalid_argument);
    EXPECT_THROW(open("sqlite::memory:?busy_timeout_ms=-1"), std::invalid_argument);
    try {
        open("oracle://scott:tiger@h/db");
        FAIL();
    } catch (const std::invalid_argument& e) {
        EXPECT_EQ(std::string(e.what()).find("tiger"), std::string::npos) << e.what();
    }
}

TEST(store_open, an_unreachable_postgres_is_kind_connection_without_the_password) {
    try {
        open("postgresql://tollgate:hunter2@127.0.0.1:1/nowhere?connect_timeout=2");
        FAIL() << "port 1 must refuse";
    } catch (const error& e) {
        EXPECT_EQ(e.what_kind(), error::kind::connection);
        EXPECT_EQ(std::string(e.what()).find("hunter2"), std::string::npos) << e.what();
    }
}

class store_sqlite : public ::testing::Test {
  protected:
    void SetUp() override {
        std::string templ = (std::filesystem::temp_directory_path() / "tollgate-sqlite-XXXXXX").string();
        ASSERT_NE(mkdtemp(templ.data()), nullptr);
        dir_ = templ;
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }
    std::string dir_;
};

TEST_F(store_sqlite, a_new_file_is_private_and_runs_wal_normal_with_foreign_keys) {
    const std::string path = dir_ + "/oauth.db";
    auto db = open("sqlite:" + path);
    db->execute_script("CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1)");
    struct stat st {};
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600U);
    ASSERT_EQ(::stat((path + "-wal").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0077, 0U);
    EXPECT_EQ(db->query("PRAGMA journal_mode")[0].text(0), "wal");
    EXPECT_EQ(db->query("PRAGMA synchronous")[0].integer(0), 1);  // NORMAL
    EXPECT_EQ(db->query("PRAGMA foreign_keys")[0].integer(0), 1);
    EXPECT_EQ(db->kind(), dialect::sqlite);
}

TEST_F(store_sqlite, an_existing_world_readable_file_is_kept_as_is_with_a_warning) {
    const std::string path = dir_ + "/shared.db";
    open("sqlite:" + path).reset();
    ASSERT_EQ(::chmod(path.c_str(), 0644), 0);
    auto sink = std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(16);
    auto log = common::logger("store");
    log->sinks().push_back(sink);
    auto db = open("sqlite:" + path);
    log->sinks().pop_back();
    struct stat st {};
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0644U);  // not changed behind the operator's back
    bool warned = false;
    for (const auto& line : sink->last_formatted()) {
        warned =
            warned || (line.find(path) != std::string::npos && line.find("chmod 600") != std::string::npos);
    }
    EXPECT_TRUE(warned);
}

TEST_F(store_sqlite, relative_and_triple_slash_urls_name_the_same_kind_of_file) {
    auto db = open("sqlite://" + dir_ + "/a.db");
    db->execute_script("CREATE TABLE t (x INTEGER)");
    EXPECT_TRUE(std::filesystem::exists(dir_ + "/a.db"));
    const auto cwd = std::filesystem::current_path();
    std::filesystem::current_path(dir_);
    auto rel = open("sqlite:b.db");
    std::filesystem::current_path(cwd);
    EXPECT_TRUE(std::filesystem::exists(dir_ + "/b.db"));
}

TEST_F(store_sqlite, a_missing_directory_is_kind_connection) {
    try {
        open("sqlite:" + dir_ + "/no/such/dir/x.db");
        FAIL();
    } catch (const error& e) {
        EXPECT_EQ(e.what_kind(), error::kind::connection);
    }
}

TEST_F(store_sqlite, a_tiny_or_disabled_statement_cache_still_gives_right_answers) {
    for (const char* option : {"?statement_cache=2", "?statement_cache=0"}) {
        auto db = open("sqlite:" + dir_ + "/c.db" + option);
        for (int round = 0; round < 3; ++round) {
            for (std::int64_t k = 0; k < 5; ++k) {
                auto sql = "SELECT ? * " + std::to_string(k);
                EXPECT_EQ(db->query(sql, {std::int64_t{round}})[0].integer(0), round * k) << option;
            }
        }
    }
}

TEST_F(store_sqlite, the_statement_cache_is_bounded_and_reused) {
    auto run_distinct = [](database& db, int n) {
        for (int k = 0; k < n; ++k) {
            EXPECT_EQ(db.query("SELECT " + std::to_string(k))[0].integer(0), k);
        }
    };
    auto dflt = open("sqlite:" + dir_ + "/d.db");
    const std::size_t after_open = dflt->cached_statements();  // the PRAGMA run at open
    dflt->query("SELECT 1");
    dflt->query("SELECT 1");
    EXPECT_EQ(dflt->cached_statements(), after_open + 1);  // a repeated statement is reused
    run_distinct(*dflt, 200);
    EXPECT_EQ(dflt->cached_statements(), 64U);  // default capacity
    auto tiny = open("sqlite:" + dir_ + "/d.db?statement_cache=2");
    run_distinct(*tiny, 10);
    EXPECT_EQ(tiny->cached_statements(), 2U);
    auto none = open("sqlite:" + dir_ + "/d.db?statement_cache=0");
    run_distinct(*none, 10);
    EXPECT_EQ(none->cached_statements(), 0U);
    // Very long statements are not cached.
    auto fresh = open("sqlite:" + dir_ + "/e.db");
    const std::size_t before = fresh->cached_statements();
    std::string long_sql = "SELECT 1 /*" + std::string(20000, 'x') + "*/";
    EXPECT_EQ(fresh->query(long_sql)[0].integer(0), 1);
    EXPECT_EQ(fresh->cached_statements(), before);
}

TEST_F(store_sqlite, memory_databases_work_but_cannot_be_pooled) {
    auto db = open("sqlite::memory:");
    db->execute_script("CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1)");
    EXPECT_EQ(db->query("SELECT x FROM t")[0].integer(0), 1);
    EXPECT_THROW(pool("sqlite::memory:", 2), std::invalid_argument);
    EXPECT_THROW(pool("sqlite:" + dir_ + "/p.db", 0), std::invalid_argument);
    pool single("sqlite::memory:", 1);
    EXPECT_EQ(single.acquire()->query("SELECT 2")[0].integer(0), 2);
}

}  // namespace
}  // namespace tollgate::store::test
