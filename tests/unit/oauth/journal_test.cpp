// The revocation journal (storage) and its follower: revocations made by one authorization_server
// instance (e.g. `tollgate admin` in its own process) reach another instance's hub. Run on SQLite
// and on PostgreSQL (test names end in /sqlite or /postgres).
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <vector>

#include <gtest/gtest.h>

#include <tollgate/oauth/journal.hpp>
#include <tollgate/store/value.hpp>

#include "support.hpp"

namespace tollgate::oauth::test {
namespace {

class journal_backend : public ::testing::TestWithParam<std::string> {
  protected:
    void SetUp() override {
        url = GetParam() == "postgres" ? fresh_postgres_url() : "";
        ASSERT_TRUE(GetParam() == "sqlite" || !url.empty());
        f = std::make_unique<server_fixture>(url);
    }
    storage& db() { return f->server->store(); }
    std::string url;
    std::unique_ptr<server_fixture> f;
};

/// Collects the events a hub publishes; wait_for blocks until a predicate holds (no sleeps).
struct recorder {
    std::mutex mutex;
    std::condition_variable changed;
    std::vector<revocation_event> events;
    revocation_hub::subscription sub;

    explicit recorder(revocation_hub& hub)
        : sub(hub.subscribe([this](const revocation_event& e) {
            std::lock_guard lock(mutex);
            events.push_back(e);
            changed.notify_all();
        })) {}
    bool wait_for_kind(revocation_kind k, std::chrono::seconds limit) {
        std::unique_lock lock(mutex);
        return changed.wait_for(lock, limit, [&] {
            for (const auto& e : events) {
                if (e.kind == k) {
                    return true;
                }
            }
            return false;
        });
    }
    std::size_t count() {
        std::lock_guard lock(mutex);
        return events.size();
    }
};

TEST_P(journal_backend, append_reads_back_in_order_and_janitor_prunes_old_rows) {
    EXPECT_EQ(db().latest_revocation_seq(), 0);
    EXPECT_TRUE(db().revocations_after(0, 10).empty());
    const revocation_event a{revocation_kind::access_token, "j1", "F", "c1", "alice", 1000, 4600};
    const revocation_event b{revocation_kind::client, "", "", "c1", "", 1001, 0};
    const revocation_event c{revocation_kind::subject, "", "", "", "bob", 1002, 0};
    const auto s1 = db().append_revocation(a, "p1");
    const auto s2 = db().append_revocation(b, "p2");
    const auto s3 = db().append_revocation(c, "p1");
    EXPECT_LT(s1, s2);
    EXPECT_LT(s2, s3);
    EXPECT_EQ(db().latest_revocation_seq(), s3);

    const auto all = db().revocations_after(0, 10);
    ASSERT_EQ(all.size(), 3U);
    EXPECT_EQ(all[0].seq, s1);
    EXPECT_EQ(all[0].origin, "p1");
    EXPECT_EQ(all[0].event.kind, revocation_kind::access_token);
    EXPECT_EQ(all[0].event.jti, "j1");
    EXPECT_EQ(all[0].event.family_id, "F");
    EXPECT_EQ(all[0].event.client_id, "c1");
    EXPECT_EQ(all[0].event.subject, "alice");
    EXPECT_EQ(all[0].event.time, 1000);
    EXPECT_EQ(all[0].event.expires_at, 4600);
    EXPECT_EQ(all[1].event.kind, revocation_kind::client);
    EXPECT_EQ(all[1].origin, "p2");
    EXPECT_EQ(all[2].event.kind, revocation_kind::subject);
    EXPECT_EQ(all[2].event.subject, "bob");

    const auto page = db().revocations_after(s1, 1);
    ASSERT_EQ(page.size(), 1U);
    EXPECT_EQ(page[0].seq, s2);
    EXPECT_TRUE(db().revocations_after(s3, 10).empty());

    // A kind written by a newer version is skipped, not misread as another kind.
    db().connections().acquire()->execute(
        "INSERT INTO oauth_revocation_journal (kind, jti, family_id, client_id, subject, time, "
        "expires_at, origin) VALUES ('future_kind', '', '', '', '', 1003, 0, 'p3')");
    EXPECT_EQ(db().revocations_after(s3, 10).size(), 0U);
    EXPECT_GT(db().latest_revocation_seq(), s3);

    // Rows older than the retention go with the janitor; younger ones stay.
    const auto now = 1001 + storage::revocation_journal_retention + 1;  // a and b are older
    EXPECT_EQ(db().purge_expired(now).revocations, 2);
    const auto left = db().revocations_after(0, 10);
    ASSERT_EQ(left.size(), 1U);
    EXPECT_EQ(left[0].seq, s3);
}

TEST_P(journal_backend, every_published_revocation_is_journaled_with_the_server_origin) {
    const auto before = db().latest_revocation_seq();
    f->add_client("gone", {"client_credentials"}, {"x"});
    auto [token, jti] = f->server->issue_access_token(grant_context{"gone", "gone", "x", "aud", "", "", 600});
    (void)token;
    ASSERT_TRUE(f->server->remove_client("gone"));
    const auto rows = db().revocations_after(before, 10);
    ASSERT_EQ(rows.size(), 2U);
    EXPECT_EQ(rows[0].event.kind, revocation_kind::access_token);
    EXPECT_EQ(rows[0].event.jti, jti);
    EXPECT_EQ(rows[1].event.kind, revocation_kind::client);
    EXPECT_EQ(rows[1].event.client_id, "gone");
    for (const auto& r : rows) {
        EXPECT_EQ(r.origin, f->server->journal_origin());
    }
    // Its own rows are never published again by the same instance.
    recorder own(f->server->revocations());
    EXPECT_EQ(f->server->follow_revocation_journal(), 0U);
    EXPECT_EQ(own.count(), 0U);
}

TEST_P(journal_backend, a_revocation_in_one_server_reaches_the_other_servers_hub) {
    // Two instances on one database, as `tollgate serve` and `tollgate admin` are.
    authorization_server admin(f->config, f->clock);
    ASSERT_NE(admin.journal_origin(), f->server->journal_origin());
    const auto secret = f->add_client("svc", {"client_credentials"}, {"x"});
    (void)secret;
    admin.add_user("alice", "long enough pw");

    recorder serving(f->server->revocations());
    ASSERT_TRUE(admin.remove_client("svc"));
    EXPECT_EQ(serving.count(), 0U) << "the hub is per process";
    EXPECT_EQ(f->server->follow_revocation_journal(), 1U);
    ASSERT_TRUE(serving.wait_for_kind(revocation_kind::client, std::chrono::seconds(0)));
    EXPECT_EQ(serving.events.back().client_id, "svc");
    EXPECT_EQ(f->server->follow_revocation_journal(), 0U) << "each row is published once";
    // Nothing it published from the journal went back into the journal.
    EXPECT_EQ(admin.follow_revocation_journal(), 0U);

    // The follower thread does the same on its own, within its interval.
    journal_follower follower(*f->server, std::chrono::milliseconds(5));
    ASSERT_TRUE(admin.set_user_password("alice", "another long pw"));
    ASSERT_TRUE(serving.wait_for_kind(revocation_kind::subject, std::chrono::seconds(10)));
    follower.stop();
    EXPECT_EQ(serving.events.back().subject, "alice");
}

TEST_P(journal_backend, follower_stops_promptly_and_a_new_server_starts_at_the_latest_row) {
    db().append_revocation(revocation_event{revocation_kind::client, "", "", "old", "", 1, 0}, "elsewhere");
    authorization_server late(f->config, f->clock);
    recorder r(late.revocations());
    EXPECT_EQ(late.follow_revocation_journal(), 0U) << "history before start is not replayed";

    const auto start = std::chrono::steady_clock::now();
    { journal_follower follower(late, std::chrono::hours(1)); }
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
    EXPECT_EQ(r.count(), 0U);
}

TEST_P(journal_backend, a_restarted_server_replays_the_revocations_still_in_force_RFC7009_2) {
    // hostile-inputs #78: a revocation made before a restart (by this server, or by `tollgate
    // admin`) must still hold after it, until the revoked token would have expired anyway.
    const auto now = f->clock.unix_seconds();
    f->add_client("gone", {"client_credentials"}, {"x"});
    auto [token, jti] = f->server->issue_access_token(grant_context{"gone", "gone", "x", "aud", "", "", 600});
    (void)token;
    ASSERT_TRUE(f->server->remove_client("gone"));  // an access_token row and a client row
    db().append_revocation(
        revocation_event{revocation_kind::access_token, "dead", "", "c", "", now - 700, now - 100},
        "elsewhere");  // its token expired already: not replayed

    authorization_server restarted(f->config, f->clock);
    recorder r(restarted.revocations());
    EXPECT_EQ(restarted.follow_revocation_journal(), 0U) << "the follower starts at the latest row";
    EXPECT_EQ(restarted.replay_revocations(), 2U);
    ASSERT_EQ(r.count(), 2U);
    EXPECT_EQ(r.events[0].kind, revocation_kind::access_token);
    EXPECT_EQ(r.events[0].jti, jti);
    EXPECT_EQ(r.events[1].kind, revocation_kind::client);
    EXPECT_EQ(r.events[1].client_id, "gone");
}

TEST_P(journal_backend, janitor_keeps_an_access_token_row_until_the_token_expires) {
    // Tokens may live up to max_access_token_ttl (30 days) while the journal's retention is 2 days:
    // an access-token row stays until its token's exp so that a restart still refuses it.
    const std::int64_t t0 = 1000;
    const auto long_lived = db().append_revocation(
        revocation_event{revocation_kind::access_token, "long", "", "c", "", t0, t0 + 10 * 24 * 3600}, "p");
    db().append_revocation(
        revocation_event{revocation_kind::access_token, "short", "", "c", "", t0, t0 + 600}, "p");
    db().append_revocation(revocation_event{revocation_kind::client, "", "", "c", "", t0, 0}, "p");
    const auto after_retention = t0 + storage::revocation_journal_retention + 1;
    EXPECT_EQ(db().purge_expired(after_retention).revocations, 2);
    const auto left = db().revocations_after(0, 10);
    ASSERT_EQ(left.size(), 1U);
    EXPECT_EQ(left[0].seq, long_lived);
    EXPECT_EQ(db().purge_expired(t0 + 10 * 24 * 3600 + 1).revocations, 1);
}

// A database error while following throws and keeps the position: the follower (which logs and
// retries at its next tick) loses nothing. SQLite only: a renamed table fails every statement
// there, whereas PostgreSQL's prepared statements would follow the table by its oid.
TEST(journal_sqlite, a_read_error_keeps_the_position_and_the_next_read_catches_up) {
    server_fixture f;
    authorization_server admin(f.config, f.clock);
    recorder serving(f.server->revocations());
    f.add_client("svc", {"client_credentials"}, {"x"});
    ASSERT_TRUE(admin.remove_client("svc"));
    auto db = f.server->store().connections().acquire();
    db->execute("ALTER TABLE oauth_revocation_journal RENAME TO oauth_revocation_journal_away");
    EXPECT_THROW(f.server->follow_revocation_journal(), store::error);
    EXPECT_EQ(serving.count(), 0U);
    db->execute("ALTER TABLE oauth_revocation_journal_away RENAME TO oauth_revocation_journal");
    EXPECT_EQ(f.server->follow_revocation_journal(), 1U);
    ASSERT_TRUE(serving.wait_for_kind(revocation_kind::client, std::chrono::seconds(0)));
}

INSTANTIATE_TEST_SUITE_P(backends, journal_backend, ::testing::Values("sqlite", "postgres"),
                         [](const ::testing::TestParamInfo<std::string>& p) { return p.param; });

}  // namespace
}  // namespace tollgate::oauth::test
