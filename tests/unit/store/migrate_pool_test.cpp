// Migrations and the connection pool, on both backends.
#include <algorithm>
#include <atomic>
#include <thread>
#include <vector>

#include "backend_fixture.hpp"

namespace tollgate::store::test {
namespace {

std::vector<migration> oauth_steps() {
    return {
        {1, "clients", "CREATE TABLE clients (id TEXT PRIMARY KEY, secret_hash BLOB NOT NULL)",
         "CREATE TABLE clients (id TEXT PRIMARY KEY, secret_hash BYTEA NOT NULL)"},
        {2, "client names", "ALTER TABLE clients ADD COLUMN name TEXT", ""},
        {3, "grants",
         "CREATE TABLE grants (id INTEGER PRIMARY KEY, client_id TEXT NOT NULL REFERENCES clients (id));"
         "CREATE INDEX grants_client ON grants (client_id)",
         ""},
    };
}

bool table_exists(database& db, const std::string& name) {
    if (db.kind() == dialect::postgres) {
        return db.query("SELECT to_regclass(?) IS NOT NULL", {name})[0].integer(0) == 1;
    }
    return !db.query("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", {name}).empty();
}

TEST_P(store_backend, migrate_applies_every_step_to_a_fresh_database) {
    EXPECT_EQ(schema_version(*db_, "oauth"), 0);
    auto steps = oauth_steps();
    migrate(*db_, "oauth", steps);
    EXPECT_EQ(schema_version(*db_, "oauth"), 3);
    EXPECT_TRUE(table_exists(*db_, "clients"));
    EXPECT_TRUE(table_exists(*db_, "grants"));
    db_->execute("INSERT INTO clients (id, secret_hash, name) VALUES (?, ?, ?)", {"c1", blob{1, 2}, "demo"});
}

TEST_P(store_backend, migrate_applies_only_the_new_steps_and_keeps_data) {
    auto steps = oauth_steps();
    migrate(*db_, "oauth", std::span(steps).first(1));
    EXPECT_EQ(schema_version(*db_, "oauth"), 1);
    EXPECT_FALSE(table_exists(*db_, "grants"));
    db_->execute("INSERT INTO clients (id, secret_hash) VALUES (?, ?)", {"c1", blob{1}});
    migrate(*db_, "oauth", steps);
    EXPECT_EQ(schema_version(*db_, "oauth"), 3);
    auto rows = db_->query("SELECT id, name FROM clients");
    ASSERT_EQ(rows.size(), 1U);
    EXPECT_TRUE(rows[0].is_null(1));
}

TEST_P(store_backend, migrate_is_idempotent) {
    auto steps = oauth_steps();
    migrate(*db_, "oauth", steps);
    db_->execute("INSERT INTO clients (id, secret_hash) VALUES (?, ?)", {"c1", blob{1}});
    migrate(*db_, "oauth", steps);  // would fail on CREATE TABLE if any step ran again
    migrate(*db_, "oauth", steps);
    EXPECT_EQ(schema_version(*db_, "oauth"), 3);
    EXPECT_EQ(db_->query("SELECT COUNT(*) FROM clients")[0].integer(0), 1);
}

TEST_P(store_backend, migrate_refuses_a_database_newer_than_the_code) {
    auto steps = oauth_steps();
    migrate(*db_, "oauth", steps);
    try {
        migrate(*db_, "oauth", std::span(steps).first(2));
        FAIL() << "an older program must refuse a newer schema";
    } catch (const error& e) {
        EXPECT_EQ(e.what_kind(), error::kind::other);
        EXPECT_NE(std::string(e.what()).find("newer"), std::string::npos) << e.what();
    }
    EXPECT_EQ(schema_version(*db_, "oauth"), 3);
    EXPECT_FALSE(db_->in_transaction());
}

TEST_P(store_backend, a_failing_step_is_rolled_back_and_earlier_steps_stay) {
    std::vector<migration> steps = oauth_steps();
    steps.push_back({4, "broken", "CREATE TABLE half (x INTEGER); CREATE TABLE clients (x INTEGER)", ""});
    EXPECT_THROW(migrate(*db_, "oauth", steps), error);
    EXPECT_EQ(schema_version(*db_, "oauth"), 3);
    EXPECT_FALSE(table_exists(*db_, "half"));
    EXPECT_FALSE(db_->in_transaction());
}

TEST_P(store_backend, components_have_independent_versions) {
    auto steps = oauth_steps();
    migrate(*db_, "oauth", steps);
    std::vector<migration> broker{{1, "sessions", "CREATE TABLE sessions (client_id TEXT PRIMARY KEY)", ""}};
    migrate(*db_, "broker", broker);
    EXPECT_EQ(schema_version(*db_, "oauth"), 3);
    EXPECT_EQ(schema_version(*db_, "broker"), 1);
}

TEST_P(store_backend, migrate_rejects_unordered_versions) {
    std::vector<migration> bad{{2, "b", "CREATE TABLE b (x INTEGER)", ""},
                               {1, "a", "CREATE TABLE a (x INTEGER)", ""}};
    EXPECT_THROW(migrate(*db_, "x", bad), std::invalid_argument);
    std::vector<migration> zero{{0, "z", "CREATE TABLE z (x INTEGER)", ""}};
    EXPECT_THROW(migrate(*db_, "x", zero), std::invalid_argument);
    EXPECT_EQ(schema_version(*db_, "x"), 0);
}

TEST_P(store_backend, concurrent_migrators_apply_each_step_once) {
    auto steps = oauth_steps();
    std::vector<std::thread> threads;
    std::atomic<int> failures{0};
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&] {
            try {
                auto db = reopen();
                migrate(*db, "oauth", steps);
            } catch (const std::exception& e) {
                ADD_FAILURE() << e.what();
                ++failures;
            }
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    EXPECT_EQ(failures.load(), 0);
    EXPECT_EQ(schema_version(*db_, "oauth"), 3);
}

TEST_P(store_backend, pool_serves_eight_threads_with_exclusive_connections) {
    db_->execute_script(
        "CREATE TABLE counter (k INTEGER PRIMARY KEY, n INTEGER NOT NULL); INSERT INTO counter (k, n) VALUES "
        "(1, 0);"
        "CREATE TABLE log (thread INTEGER NOT NULL, i INTEGER NOT NULL, PRIMARY KEY (thread, i))");
    constexpr std::size_t pool_size = 4;
    constexpr int threads_n = 8;
    constexpr int per_thread = 40;
    pool p(url(), pool_size);
    std::atomic<int> in_use{0};
    std::atomic<int> max_in_use{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < threads_n; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < per_thread; ++i) {
                auto lease = p.acquire();
                const int now = ++in_use;
                int seen = max_in_use.load();
                while (now > seen && !max_in_use.compare_exchange_weak(seen, now)) {
                }
                transaction tx(*lease);
                lease->execute("UPDATE counter SET n = n + 1 WHERE k = 1");
                lease->execute("INSERT INTO log (thread, i) VALUES (?, ?)",
                               {std::int64_t{t}, std::int64_t{i}});
                tx.commit();
                --in_use;
            }
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    EXPECT_EQ(db_->query("SELECT n FROM counter WHERE k = 1")[0].integer(0), threads_n * per_thread);
    EXPECT_EQ(db_->query("SELECT COUNT(*) FROM log")[0].integer(0), threads_n * per_thread);
    EXPECT_LE(max_in_use.load(), static_cast<int>(pool_size));
    EXPECT_LE(p.open_connections(), pool_size);
}

TEST_P(store_backend, pool_rolls_back_a_returned_transaction_and_times_out_when_exhausted) {
    db_->execute_script("CREATE TABLE t (x INTEGER)");
    pool p(url(), 1);
    {
        auto lease = p.acquire();
        lease->begin();
        lease->execute("INSERT INTO t (x) VALUES (1)");
        try {
            (void)p.acquire_for(std::chrono::milliseconds(20));
            FAIL() << "a pool of one with its connection leased must time out";
        } catch (const error& e) {
            EXPECT_EQ(e.what_kind(), error::kind::busy);
        }
    }  // returned inside its transaction
    auto lease = p.acquire();
    EXPECT_FALSE(lease->in_transaction());
    EXPECT_EQ(lease->query("SELECT COUNT(*) FROM t")[0].integer(0), 0);
    EXPECT_EQ(p.open_connections(), 1U);
    auto moved = std::move(lease);
    EXPECT_EQ(moved->query("SELECT 1")[0].integer(0), 1);
}

}  // namespace
}  // namespace tollgate::store::test
