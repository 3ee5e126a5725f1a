// Remembered consent, /logout, and what ending a user does to sessions and grants.
#include <gtest/gtest.h>

#include "support.hpp"

namespace tollgate::oauth::test {
namespace {

const std::string issuer = "https://as.example";
const std::string challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
const std::string verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const std::string password = "correct horse battery";

class session : public ::testing::Test {
  protected:
    void SetUp() override {
        f.server->add_user("alice", password);
        add_web();
        f.add_public_client("spa", {"authorization_code"}, {"mqtt:sub:a/#"}, {"http://127.0.0.1/cb"});
    }

    void add_web() {
        client_options o;
        o.client_id = "web";
        o.grant_types = {"authorization_code", "refresh_token"};
        o.scopes = {"mqtt:sub:a/#", "mqtt:pub:a/#", "offline_access"};
        o.redirect_uris = {"https://app.example/cb"};
        o.post_logout_redirect_uris = {"https://app.example/bye"};
        secret = f.server->create_client(o).secret;
    }

    static std::string query(const std::string& client, const std::string& redirect,
                             const std::string& scope) {
        return build_query({{"response_type", "code"},
                            {"client_id", client},
                            {"redirect_uri", redirect},
                            {"scope", scope},
                            {"state", "s1"},
                            {"code_challenge", challenge},
                            {"code_challenge_method", "S256"}});
    }
    static std::string web(const std::string& scope = "mqtt:sub:a/#") {
        return query("web", "https://app.example/cb", scope);
    }

    response run(browser& b, const std::string& q, bool remember = false) {
        return authorize_in_browser(*f.server, b, issuer, q, "alice", password, "approve", remember);
    }

    /// True when the consent page shows for q in browser b (the browser is signed in).
    bool asks_consent(browser& b, const std::string& q) {
        auto r = b.get(*f.server, "/authorize?" + q);
        if (r.status == 303 && location_target(r, issuer).rfind("/consent", 0) == 0) {
            r = b.get(*f.server, location_target(r, issuer));
        }
        return r.status == 200 && !b.field("request").empty();
    }

    server_fixture f;
    std::string secret;
};

TEST_F(session, remembered_consent_skips_the_page_for_the_same_or_a_smaller_scope_set) {
    browser b;
    auto r = run(b, web("mqtt:sub:a/# mqtt:pub:a/#"), true);
    ASSERT_EQ(r.status, 303);
    ASSERT_TRUE(location_param(r, "code"));
    // Same set, then a subset: straight back to the client with a code that redeems.
    EXPECT_FALSE(asks_consent(b, web("mqtt:sub:a/# mqtt:pub:a/#")));
    r = run(b, web("mqtt:sub:a/#"));
    ASSERT_EQ(r.status, 303);
    EXPECT_EQ(location_param(r, "state"), "s1");
    EXPECT_EQ(location_param(r, "iss"), issuer);
    auto t = f.post("/token",
                    "grant_type=authorization_code&code=" + url_encode(*location_param(r, "code")) +
                        "&redirect_uri=https%3A%2F%2Fapp.example%2Fcb&code_verifier=" + verifier,
                    make_basic_authorization("web", secret));
    EXPECT_EQ(t.status, 200) << t.body;
    // A scope outside the remembered set asks again.
    EXPECT_TRUE(asks_consent(b, web("mqtt:sub:a/# offline_access")));
}

TEST_F(session, consent_is_remembered_only_when_asked_and_not_for_public_clients_rfc6749_10_2) {
    browser b;
    ASSERT_EQ(run(b, web(), false).status, 303);
    EXPECT_TRUE(asks_consent(b, web())) << "approved without 'remember'";
    // Public clients: no checkbox, and a forged remember=1 is ignored.
    auto page_query = query("spa", "http://127.0.0.1/cb", "mqtt:sub:a/#");
    ASSERT_TRUE(asks_consent(b, page_query));
    EXPECT_EQ(b.last.body.find("name=\"remember\""), std::string::npos);
    ASSERT_EQ(run(b, page_query, true).status, 303);
    EXPECT_TRUE(asks_consent(b, page_query));
    EXPECT_FALSE(f.server->store().find_consent("alice", "spa"));
}

TEST_F(session, remembered_consent_expires_and_is_forgotten_with_the_client_or_the_user) {
    browser b;
    ASSERT_EQ(run(b, web(), true).status, 303);
    EXPECT_FALSE(asks_consent(b, web()));
    f.clock.advance(f.config.consent_ttl + std::chrono::seconds{1});
    browser fresh;
    ASSERT_EQ(run(fresh, web(), false).status, 303);
    EXPECT_TRUE(asks_consent(fresh, web())) << "expired";
    EXPECT_EQ(f.server->run_janitor().consents, 1);

    ASSERT_EQ(run(fresh, web(), true).status, 303);
    ASSERT_TRUE(f.server->store().find_consent("alice", "web"));
    ASSERT_TRUE(f.server->remove_client("web"));
    EXPECT_FALSE(f.server->store().find_consent("alice", "web")) << "client removed";

    add_web();  // registered again: nothing remembered from before
    EXPECT_TRUE(asks_consent(fresh, web()));
    ASSERT_EQ(run(fresh, web(), true).status, 303);
    ASSERT_TRUE(f.server->store().find_consent("alice", "web"));
    ASSERT_TRUE(f.server->remove_user("alice"));
    EXPECT_FALSE(f.server->store().find_consent("alice", "web")) << "user removed";
}

TEST_F(session, removing_or_changing_a_user_ends_sessions_and_grants_rfc9700_4_14_2) {
    browser b;
    auto r = run(b, web("mqtt:sub:a/# offline_access"));
    auto t = json_of(f.post("/token",
                            "grant_type=authorization_code&code=" + url_encode(*location_param(r, "code")) +
                                "&redirect_uri=https%3A%2F%2Fapp.example%2Fcb&code_verifier=" + verifier,
                            make_basic_authorization("web", secret)));
    const auto refresh = str(t, "refresh_token");
    ASSERT_FALSE(refresh.empty());
    ASSERT_TRUE(f.server->set_user_password("alice", "a new long password"));
    auto again = f.post("/token", "grant_type=refresh_token&refresh_token=" + refresh,
                        make_basic_authorization("web", secret));
    EXPECT_EQ(str(json_of(again), "error"), "invalid_grant") << "refresh family revoked";
    auto intro = json_of(
        f.post("/introspect", "token=" + str(t, "access_token"), make_basic_authorization("web", secret)));
    EXPECT_FALSE(intro.at("active").as_bool()) << "access token revoked";
    // The browser session ended: the login page shows again.
    auto page = b.get(*f.server, "/authorize?" + web());
    EXPECT_EQ(page.status, 200);
    EXPECT_FALSE(b.field("next").empty());
}

TEST_F(session, logout_get_asks_post_with_csrf_ends_the_session_and_returns_to_a_registered_uri) {
    browser b;
    ASSERT_EQ(run(b, web()).status, 303);
    const std::string target =
        "/logout?" + build_query({{"client_id", "web"},
                                  {"post_logout_redirect_uri", "https://app.example/bye"},
                                  {"state", "bye state"}});
    auto page = b.get(*f.server, target);
    ASSERT_EQ(page.status, 200);
    EXPECT_NE(page.body.find("Sign out?"), std::string::npos);
    EXPECT_NE(page.header("content-security-policy")->find("frame-ancestors 'none'"), std::string::npos);
    EXPECT_TRUE(asks_consent(b, web())) << "a GET signs nobody out";
    // Cross-site POST: the victim's cookies but not the token of the victim's page.
    auto forged = b.post(*f.server, "/logout", build_query({{"client_id", "web"}, {"csrf", "forged"}}));
    EXPECT_EQ(forged.status, 403);
    EXPECT_TRUE(asks_consent(b, web())) << "still signed in";
    b.get(*f.server, target);
    auto out = b.post(*f.server, "/logout",
                      build_query({{"client_id", "web"},
                                   {"post_logout_redirect_uri", "https://app.example/bye"},
                                   {"state", "bye state"},
                                   {"csrf", b.field("csrf")}}));
    ASSERT_EQ(out.status, 303);
    EXPECT_EQ(std::string(out.header("location").value_or("")), "https://app.example/bye?state=bye%20state");
    auto login = b.get(*f.server, "/authorize?" + web());
    EXPECT_EQ(login.status, 200);
    EXPECT_FALSE(b.field("next").empty()) << "signed out: the login page again";
}

TEST_F(session, logout_refuses_unregistered_post_logout_uris_without_redirecting) {
    browser b;
    ASSERT_EQ(run(b, web()).status, 303);
    for (const auto& uri :
         {"https://app.example/bye/extra", "https://app.example/cb", "https://evil.example/"}) {
        auto r = b.get(*f.server,
                       "/logout?" + build_query({{"client_id", "web"}, {"post_logout_redirect_uri", uri}}));
        EXPECT_EQ(r.status, 400) << uri;
        EXPECT_FALSE(r.header("location")) << uri;
    }
    auto no_client = b.get(*f.server, "/logout?post_logout_redirect_uri=https%3A%2F%2Fapp.example%2Fbye");
    EXPECT_EQ(no_client.status, 400);
    EXPECT_TRUE(asks_consent(b, web())) << "still signed in";
    // Signed out already: a registered URI is followed at once.
    browser nobody;
    auto r = nobody.get(*f.server,
                        "/logout?" + build_query({{"client_id", "web"},
                                                  {"post_logout_redirect_uri", "https://app.example/bye"}}));
    EXPECT_EQ(r.status, 303);
    EXPECT_EQ(std::string(r.header("location").value_or("")), "https://app.example/bye");
}

TEST_F(session, metadata_names_the_logout_endpoint) {
    auto m = json_of(f.get("/.well-known/openid-configuration"));
    EXPECT_EQ(str(m, "end_session_endpoint"), issuer + "/logout");
}

}  // namespace
}  // namespace tollgate::oauth::test
