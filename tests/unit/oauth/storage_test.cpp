// The storage suite, run on SQLite and on PostgreSQL (test names end in /sqlite or /postgres).
#include <gtest/gtest.h>

#include <tollgate/store/value.hpp>

#include "support.hpp"

namespace tollgate::oauth::test {
namespace {

class storage_backend : public ::testing::TestWithParam<std::string> {
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

TEST_P(storage_backend, clients_round_trip_and_duplicates_are_constraint_errors) {
    client_record c;
    c.client_id = "c1";
    c.name = "Client One";
    c.secret_digest = "ab";
    c.auth_method = "client_secret_basic";
    c.redirect_uris = {"https://a.example/cb", "http://127.0.0.1/cb"};
    c.grant_types = {"authorization_code", "refresh_token"};
    c.scopes = {"x", "y"};
    c.require_pkce = false;
    c.access_token_ttl = 77;
    c.certificate_bound = true;
    c.created_at = 5;
    c.post_logout_redirect_uris = {"https://a.example/bye"};
    db().insert_client(c);
    auto back = db().find_client("c1");
    ASSERT_TRUE(back);
    EXPECT_EQ(back->redirect_uris, c.redirect_uris);
    EXPECT_EQ(back->grant_types, c.grant_types);
    EXPECT_EQ(back->scopes, c.scopes);
    EXPECT_FALSE(back->require_pkce);
    EXPECT_TRUE(back->certificate_bound);
    EXPECT_EQ(back->access_token_ttl, 77);
    EXPECT_EQ(back->post_logout_redirect_uris, c.post_logout_redirect_uris);
    try {
        db().insert_client(c);
        ADD_FAILURE() << "duplicate accepted";
    } catch (const store::error& e) {
        EXPECT_EQ(e.what_kind(), store::error::kind::constraint);
    }
    EXPECT_EQ(db().enabled_grant_types(), (std::vector<std::string>{"authorization_code", "refresh_token"}));
    EXPECT_TRUE(db().update_client_secret("c1", "cd"));
    EXPECT_EQ(db().find_client("c1")->secret_digest, "cd");
    EXPECT_TRUE(db().delete_client("c1"));
    EXPECT_FALSE(db().find_client("c1"));
}

TEST_P(storage_backend, code_is_consumed_once) {
    db().insert_code(code_record{"d1", "c", "alice", "", "x", "", "fam", 100, false});
    auto first = db().consume_code("d1");
    EXPECT_TRUE(first.first_use);
    ASSERT_TRUE(first.code);
    EXPECT_EQ(first.code->subject, "alice");
    auto second = db().consume_code("d1");
    EXPECT_FALSE(second.first_use);
    EXPECT_TRUE(second.code);
    EXPECT_FALSE(db().consume_code("nope").code);
}

TEST_P(storage_backend, refresh_rotation_is_conditional_and_family_revocation_covers_all) {
    refresh_record r1;
    r1.digest = "r1";
    r1.family_id = "fam";
    r1.client_id = "c";
    r1.expires_at = 1000;
    db().insert_refresh(r1);
    auto r2 = r1;
    r2.digest = "r2";
    EXPECT_TRUE(db().rotate_refresh("r1", r2, 10));
    auto r3 = r1;
    r3.digest = "r3";
    EXPECT_FALSE(db().rotate_refresh("r1", r3, 11)) << "r1 is no longer active";
    EXPECT_FALSE(db().find_refresh("r3"));
    auto old = db().find_refresh("r1");
    EXPECT_EQ(old->state, refresh_state::rotated);
    EXPECT_EQ(old->replaced_by, "r2");
    EXPECT_EQ(old->rotated_at, 10);
    EXPECT_EQ(db().revoke_refresh_family("fam"), 2);
    EXPECT_EQ(db().find_refresh("r2")->state, refresh_state::revoked);
}

TEST_P(storage_backend, access_tokens_revocation_by_jti_family_and_client) {
    db().insert_access_token({"j1", "c", "s", "fam", "x", "aud", 1, 100, false});
    db().insert_access_token({"j2", "c", "s", "fam", "x", "aud", 1, 100, false});
    db().insert_access_token({"j3", "c", "s", "", "x", "aud", 1, 100, false});
    EXPECT_TRUE(db().revoke_access_token("j3"));
    EXPECT_FALSE(db().revoke_access_token("j3"));
    auto fam = db().revoke_family_access_tokens("fam", 50);
    std::sort(fam.begin(), fam.end());
    EXPECT_EQ(fam, (std::vector<std::string>{"j1", "j2"}));
    EXPECT_TRUE(db().find_access_token("j1")->revoked);
    db().insert_access_token({"j4", "c", "s", "", "x", "aud", 1, 100, false});
    EXPECT_EQ(db().revoke_client_access_tokens("c", 50), std::vector<std::string>{"j4"});
}

TEST_P(storage_backend, device_codes_decide_and_claim_once_user_code_unique) {
    device_record d;
    d.digest = "dd";
    d.user_code = "BCDFGHJK";
    d.client_id = "c";
    d.expires_at = 100;
    db().insert_device(d);
    auto dup = d;
    dup.digest = "other";
    EXPECT_THROW(db().insert_device(dup), store::error);
    EXPECT_FALSE(db().claim_device("dd")) << "pending cannot be claimed";
    EXPECT_TRUE(db().decide_device("BCDFGHJK", device_status::approved, "alice"));
    EXPECT_FALSE(db().decide_device("BCDFGHJK", device_status::denied, "mallory"));
    EXPECT_TRUE(db().claim_device("dd"));
    EXPECT_FALSE(db().claim_device("dd"));
    auto back = db().find_device_by_user_code("BCDFGHJK");
    EXPECT_EQ(back->status, device_status::used);
    EXPECT_EQ(back->subject, "alice");
    db().update_device_poll("dd", 7, 10);
    EXPECT_EQ(db().find_device("dd")->interval, 10);
}

TEST_P(storage_backend, replay_cache_and_janitor) {
    EXPECT_TRUE(db().remember_jti("c\nj", 100));
    EXPECT_FALSE(db().remember_jti("c\nj", 100));
    db().insert_code(code_record{"old", "c", "s", "", "", "", "f", 10, false});
    db().insert_session(session_record{"s1", "alice", 10});
    refresh_record live;
    live.digest = "a";
    live.family_id = "F";
    live.expires_at = 10;
    db().insert_refresh(live);
    live.digest = "b";
    live.expires_at = 1000;
    db().insert_refresh(live);
    auto report = db().purge_expired(200);
    EXPECT_EQ(report.codes, 1);
    EXPECT_EQ(report.sessions, 1);
    EXPECT_EQ(report.replay, 1);
    EXPECT_EQ(report.refresh_tokens, 0) << "a family stays while any member is live";
    EXPECT_TRUE(db().remember_jti("c\nj", 300));
    EXPECT_EQ(db().purge_expired(2000).refresh_tokens, 2);
}

TEST_P(storage_backend, consents_replace_per_user_and_client_and_go_with_user_or_client) {
    db().save_consent(consent_record{"alice", "c1", "a b", 1, 100});
    db().save_consent(consent_record{"alice", "c1", "a", 2, 200});  // replaces
    db().save_consent(consent_record{"alice", "c2", "x", 1, 100});
    db().save_consent(consent_record{"bob", "c1", "y", 1, 100});
    auto back = db().find_consent("alice", "c1");
    ASSERT_TRUE(back);
    EXPECT_EQ(back->scope, "a");
    EXPECT_EQ(back->expires_at, 200);
    EXPECT_EQ(db().delete_consents_of_client("c1"), 2);
    EXPECT_FALSE(db().find_consent("bob", "c1"));
    EXPECT_EQ(db().delete_consents_of_subject("alice"), 1);
    db().save_consent(consent_record{"carol", "c3", "", 1, 10});
    EXPECT_EQ(db().purge_expired(50).consents, 1);
}

TEST_P(storage_backend, sessions_and_grants_of_a_subject) {
    db().insert_session(session_record{"s1", "alice", 100});
    db().insert_session(session_record{"s2", "alice", 100});
    db().insert_session(session_record{"s3", "bob", 100});
    EXPECT_TRUE(db().delete_session("s3"));
    EXPECT_FALSE(db().delete_session("s3"));
    EXPECT_EQ(db().delete_sessions_of_subject("alice"), 2);
    refresh_record r;
    r.digest = "r1";
    r.family_id = "F";
    r.subject = "alice";
    r.expires_at = 100;
    db().insert_refresh(r);
    EXPECT_EQ(db().revoke_subject_refresh_tokens("alice"), 1);
    EXPECT_EQ(db().find_refresh("r1")->state, refresh_state::revoked);
    db().insert_access_token({"j1", "c", "alice", "F", "x", "aud", 1, 100, false});
    db().insert_access_token({"j2", "c", "bob", "G", "x", "aud", 1, 100, false});
    EXPECT_EQ(db().revoke_subject_access_tokens("alice", 50), std::vector<std::string>{"j1"});
    EXPECT_FALSE(db().find_access_token("j2")->revoked);
}

TEST_P(storage_backend, whole_server_on_this_backend) {
    // Migration is idempotent: a second server on the same database starts fine.
    auto secret = f->add_client("svc", {"client_credentials"}, {"x"});
    authorization_server second(f->config, f->clock);
    auto r = second.handle(
        make_post("/token", "grant_type=client_credentials", make_basic_authorization("svc", secret)));
    EXPECT_EQ(r.status, 200) << r.body;
    f->server->add_user("bob", "long enough pw");
    EXPECT_TRUE(verify_password("long enough pw", db().find_user("bob")->password_hash));
    EXPECT_EQ(db().count_users(), 1);
}

INSTANTIATE_TEST_SUITE_P(backends, storage_backend, ::testing::Values("sqlite", "postgres"),
                         [](const ::testing::TestParamInfo<std::string>& p) { return p.param; });

}  // namespace
}  // namespace tollgate::oauth::test
