// Error kinds, secrecy of parameters in errors, and transactions, on both backends.
#include <atomic>
#include <thread>
#include <vector>

#include "backend_fixture.hpp"

namespace tollgate::store::test {
namespace {

template <typename F>
error catch_error(F&& f) {
    try {
        f();
    } catch (const error& e) {
        return e;
    }
    ADD_FAILURE() << "expected store::error";
    return error(error::kind::other, "none");
}

TEST_P(store_backend, unique_foreign_key_and_not_null_violations_are_kind_constraint) {
    db_->execute_script(
        "CREATE TABLE parent (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);"
        "CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER NOT NULL REFERENCES parent (id))");
    db_->execute("INSERT INTO parent (id, name) VALUES (?, ?)", {std::int64_t{1}, "a"});
    const std::string secret = "s3cr3t-token-value";
    auto dup = catch_error([&] {
        db_->execute("INSERT INTO parent (id, name) VALUES (?, ?)", {std::int64_t{2}, "a"});
    });
    EXPECT_EQ(dup.what_kind(), error::kind::constraint) << dup.what();
    auto pk = catch_error([&] {
        db_->execute("INSERT INTO parent (id, name) VALUES (?, ?)", {std::int64_t{1}, secret});
    });
    EXPECT_EQ(pk.what_kind(), error::kind::constraint) << pk.what();
    EXPECT_EQ(std::string(pk.what()).find(secret), std::string::npos) << pk.what();
    auto fk = catch_error([&] {
        db_->execute("INSERT INTO child (id, parent_id) VALUES (?, ?)", {std::int64_t{1}, std::int64_t{99}});
    });
    EXPECT_EQ(fk.what_kind(), error::kind::constraint) << fk.what();
    auto nn = catch_error([&] {
        db_->execute("INSERT INTO parent (id, name) VALUES (?, ?)", {std::int64_t{3}, value{}});
    });
    EXPECT_EQ(nn.what_kind(), error::kind::constraint) << nn.what();
    EXPECT_FALSE(dup.code().empty());
}

TEST_P(store_backend, errors_never_quote_parameter_values) {
    db_->execute_script("CREATE TABLE k (token TEXT PRIMARY KEY, n INTEGER CHECK (n > 0))");
    const std::string secret = "Zm9vYmFyLXNlY3JldC10b2tlbg";
    db_->execute("INSERT INTO k (token, n) VALUES (?, 1)", {secret});
    auto e1 = catch_error([&] { db_->execute("INSERT INTO k (token, n) VALUES (?, 1)", {secret}); });
    auto e2 = catch_error([&] {
        db_->execute("INSERT INTO k (token, n) VALUES (?, ?)", {secret + "2", std::int64_t{-5}});
    });
    EXPECT_EQ(e2.what_kind(), error::kind::constraint) << e2.what();
    for (const auto& e : {e1, e2}) {
        EXPECT_EQ(std::string(e.what()).find(secret), std::string::npos) << e.what();
    }
    if (pg()) {
        // PostgreSQL's data exceptions quote the bad input in their primary message.
        auto e3 = catch_error([&] { db_->query("SELECT CAST(? AS BIGINT)", {secret}); });
        EXPECT_EQ(e3.code(), "22P02");
        EXPECT_EQ(std::string(e3.what()).find(secret), std::string::npos) << e3.what();
    }
}

TEST_P(store_backend, bad_sql_and_wrong_parameter_counts_are_kind_syntax) {
    EXPECT_EQ(catch_error([&] { db_->query("SELEKT 1"); }).what_kind(), error::kind::syntax);
    EXPECT_EQ(catch_error([&] { db_->query("SELECT * FROM no_such_table"); }).what_kind(),
              error::kind::syntax);
    EXPECT_EQ(catch_error([&] { db_->query("SELECT ?, ?", {std::int64_t{1}}); }).what_kind(),
              error::kind::syntax);
    EXPECT_EQ(catch_error([&] { db_->query("SELECT 1", {std::int64_t{1}}); }).what_kind(),
              error::kind::syntax);
    EXPECT_EQ(catch_error([&] { db_->execute("SELECT 1; SELECT 2"); }).what_kind(), error::kind::syntax);
    EXPECT_EQ(catch_error([&] { db_->execute(""); }).what_kind(), error::kind::syntax);
    // The connection stays usable after each error.
    EXPECT_EQ(db_->query("SELECT 1")[0].integer(0), 1);
}

TEST_P(store_backend, commit_makes_changes_visible_to_other_connections) {
    db_->execute_script("CREATE TABLE t (x INTEGER)");
    auto other = reopen();
    {
        transaction tx(*db_);
        EXPECT_TRUE(db_->in_transaction());
        db_->execute("INSERT INTO t (x) VALUES (?)", {std::int64_t{1}});
        EXPECT_EQ(other->query("SELECT COUNT(*) FROM t")[0].integer(0), 0);  // not yet visible
        tx.commit();
    }
    EXPECT_FALSE(db_->in_transaction());
    EXPECT_EQ(other->query("SELECT COUNT(*) FROM t")[0].integer(0), 1);
}

TEST_P(store_backend, rollback_discards_changes) {
    db_->execute_script("CREATE TABLE t (x INTEGER)");
    db_->begin();
    db_->execute("INSERT INTO t (x) VALUES (1)");
    db_->rollback();
    EXPECT_FALSE(db_->in_transaction());
    EXPECT_EQ(db_->query("SELECT COUNT(*) FROM t")[0].integer(0), 0);
    db_->rollback();  // without a transaction: no-op
}

TEST_P(store_backend, transaction_rolls_back_when_left_without_commit_or_by_an_exception) {
    db_->execute_script("CREATE TABLE t (x INTEGER PRIMARY KEY)");
    {
        transaction tx(*db_);
        db_->execute("INSERT INTO t (x) VALUES (1)");
    }
    EXPECT_FALSE(db_->in_transaction());
    try {
        transaction tx(*db_);
        db_->execute("INSERT INTO t (x) VALUES (2)");
        db_->execute("INSERT INTO t (x) VALUES (2)");  // constraint violation
        tx.commit();
        FAIL() << "the duplicate insert must throw";
    } catch (const error& e) {
        EXPECT_EQ(e.what_kind(), error::kind::constraint);
    }
    EXPECT_FALSE(db_->in_transaction());
    EXPECT_EQ(db_->query("SELECT COUNT(*) FROM t")[0].integer(0), 0);
}

TEST_P(store_backend, nested_begin_and_commit_without_begin_are_errors) {
    EXPECT_EQ(catch_error([&] { db_->commit(); }).what_kind(), error::kind::other);
    db_->begin();
    EXPECT_EQ(catch_error([&] { db_->begin(); }).what_kind(), error::kind::other);
    db_->rollback();
    EXPECT_FALSE(db_->in_transaction());
}

TEST_P(store_backend, a_held_write_lock_gives_kind_busy_after_the_timeout) {
    db_->execute_script(
        "CREATE TABLE t (k INTEGER PRIMARY KEY, v INTEGER); INSERT INTO t (k, v) VALUES (1, 0)");
    std::unique_ptr<database> other;
    if (pg()) {
        other = reopen();
        other->execute_script("SET lock_timeout = '100ms'");
    } else {
        other = open(url() + "?busy_timeout_ms=50");
    }
    transaction tx(*db_);
    db_->execute("UPDATE t SET v = 1 WHERE k = 1");
    auto e = catch_error([&] {
        other->begin();
        other->execute("UPDATE t SET v = 2 WHERE k = 1");
    });
    EXPECT_EQ(e.what_kind(), error::kind::busy) << e.what();
    other->rollback();
    tx.commit();
    EXPECT_EQ(other->query("SELECT v FROM t WHERE k = 1")[0].integer(0), 1);
}

TEST_P(store_backend, a_statement_failing_inside_a_transaction_then_rollback_leaves_nothing) {
    // The portable rule: after an error inside a transaction, roll back. (PostgreSQL aborts the
    // transaction; SQLite keeps it; commit() on PostgreSQL reports the abort, tested below.)
    db_->execute_script("CREATE TABLE t (x INTEGER PRIMARY KEY)");
    db_->begin();
    db_->execute("INSERT INTO t (x) VALUES (1)");
    EXPECT_THROW(db_->execute("INSERT INTO t (x) VALUES (1)"), error);
    if (pg()) {
        auto e = catch_error([&] { db_->commit(); });
        EXPECT_EQ(e.what_kind(), error::kind::other);
        EXPECT_FALSE(db_->in_transaction());
    } else {
        db_->rollback();
    }
    EXPECT_EQ(db_->query("SELECT COUNT(*) FROM t")[0].integer(0), 0);
}

}  // namespace
}  // namespace tollgate::store::test

namespace tollgate::store::test {
namespace {

TEST_P(store_backend, text_with_a_nul_character_is_rejected_not_truncated) {
    db_->execute_script("CREATE TABLE t (s TEXT)");
    const std::string with_nul("ab\0cd", 5);
    EXPECT_EQ(catch_error([&] { db_->execute("INSERT INTO t (s) VALUES (?)", {with_nul}); }).what_kind(),
              error::kind::other);
    EXPECT_EQ(db_->query("SELECT COUNT(*) FROM t")[0].integer(0), 0);
}

TEST_P(store_backend, run_transaction_retries_busy_and_propagates_other_errors) {
    db_->execute_script("CREATE TABLE t (x INTEGER)");
    int runs = 0;
    run_transaction(*db_, [&](database& db) {
        db.execute("INSERT INTO t (x) VALUES (?)", {std::int64_t{runs}});
        if (++runs == 1) {
            throw error(error::kind::busy, "simulated serialization failure");
        }
    });
    EXPECT_EQ(runs, 2);
    auto rows = db_->query("SELECT x FROM t");
    ASSERT_EQ(rows.size(), 1U);  // the first run was rolled back
    EXPECT_EQ(rows[0].integer(0), 1);

    runs = 0;
    EXPECT_THROW(run_transaction(*db_,
                                 [&](database&) {
                                     ++runs;
                                     throw error(error::kind::constraint, "not retried");
                                 }),
                 error);
    EXPECT_EQ(runs, 1);
    runs = 0;
    EXPECT_THROW(run_transaction(
                     *db_,
                     [&](database&) {
                         ++runs;
                         throw error(error::kind::busy, "always busy");
                     },
                     4),
                 error);
    EXPECT_EQ(runs, 4);
    EXPECT_FALSE(db_->in_transaction());
}

TEST_P(store_backend, contended_read_modify_write_transactions_all_land_with_retries) {
    // SQLite without a busy timeout and PostgreSQL SERIALIZABLE both report real conflicts as
    // kind::busy; run_transaction must turn them into retries so that no increment is lost.
    db_->execute_script(
        "CREATE TABLE counter (k INTEGER PRIMARY KEY, n INTEGER NOT NULL);"
        "INSERT INTO counter (k, n) VALUES (1, 0)");
    constexpr int threads_n = 4;
    constexpr int per_thread = 25;
    std::atomic<int> runs{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < threads_n; ++t) {
        threads.emplace_back([&] {
            try {
                auto db = pg() ? reopen() : open(url() + "?busy_timeout_ms=0");
                for (int i = 0; i < per_thread; ++i) {
                    run_transaction(
                        *db,
                        [&](database& d) {
                            ++runs;
                            if (d.kind() == dialect::postgres) {
                                d.execute("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE");
                            }
                            const auto n = d.query("SELECT n FROM counter WHERE k = 1")[0].integer(0);
                            d.execute("UPDATE counter SET n = ? WHERE k = 1", {n + 1});
                        },
                        1000);
                }
            } catch (const std::exception& e) {
                ADD_FAILURE() << e.what();
            }
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    EXPECT_EQ(db_->query("SELECT n FROM counter WHERE k = 1")[0].integer(0), threads_n * per_thread);
    EXPECT_GE(runs.load(), threads_n * per_thread);
}

}  // namespace
}  // namespace tollgate::store::test
