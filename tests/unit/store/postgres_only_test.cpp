// PostgreSQL behaviour without a SQLite counterpart: a connection that the server ends. Runs in
// the PostgreSQL half of the suite (with the `postgres` fixture; fails without it).
#include "backend_fixture.hpp"

namespace tollgate::store::test {
namespace {

// Ends the backend serving `victim` and waits (up to 5 s, server side) until it has exited.
void terminate_backend(database& admin, database& victim) {
    const auto pid = victim.query("SELECT pg_backend_pid()")[0].integer(0);
    auto rows = admin.query("SELECT pg_terminate_backend(CAST(? AS INTEGER), 5000)", {pid});
    ASSERT_EQ(rows[0].integer(0), 1);
}

TEST(store_postgres, a_connection_ended_by_the_server_reports_kind_connection) {
    const std::string url = postgres_base_url();
    ASSERT_FALSE(url.empty());
    auto admin = open(url);
    auto victim = open(url);
    EXPECT_TRUE(victim->healthy());
    terminate_backend(*admin, *victim);
    try {
        victim->query("SELECT 1");
        FAIL() << "a terminated connection must fail";
    } catch (const error& e) {
        EXPECT_EQ(e.what_kind(), error::kind::connection) << e.what();
    }
    EXPECT_FALSE(victim->healthy());
}

TEST(store_postgres, the_pool_replaces_a_connection_the_server_ended) {
    const std::string url = postgres_base_url();
    ASSERT_FALSE(url.empty());
    auto admin = open(url);
    pool p(url, 2);
    {
        auto lease = p.acquire();
        terminate_backend(*admin, *lease);
        EXPECT_THROW(lease->query("SELECT 1"), error);
    }
    EXPECT_EQ(p.open_connections(), 0U);  // the broken one was closed, not kept
    auto lease = p.acquire();
    EXPECT_TRUE(lease->healthy());
    EXPECT_EQ(lease->query("SELECT 41 + 1")[0].integer(0), 42);
}

TEST(store_postgres, a_pool_that_cannot_connect_frees_the_slot) {
    pool p("postgresql://tollgate@127.0.0.1:1/nowhere?connect_timeout=2", 1);
    for (int i = 0; i < 2; ++i) {  // a leaked slot would make the second attempt block forever
        try {
            (void)p.acquire();
            FAIL() << "port 1 must refuse";
        } catch (const error& e) {
            EXPECT_EQ(e.what_kind(), error::kind::connection);
        }
    }
    EXPECT_EQ(p.open_connections(), 0U);
}

}  // namespace
}  // namespace tollgate::store::test
