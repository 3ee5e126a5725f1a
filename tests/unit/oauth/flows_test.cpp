// Browser and device flows, refresh rotation and the password grant, through handle(): one test
// per applicable RFC 9700 checklist row (docs/oauth-server.md lists them).
#include <gtest/gtest.h>

#include "support.hpp"

namespace tollgate::oauth::test {
namespace {

const std::string issuer = "https://as.example";
const std::string verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const std::string challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
const std::string password = "correct horse battery";

class flows : public ::testing::Test {
  protected:
    void SetUp() override {
        f.server->add_user("alice", password);
        secret = f.add_client("web", {"authorization_code", "refresh_token"},
                              {"mqtt:sub:a/#", "offline_access"}, {"https://app.example/cb"});
        basic = make_basic_authorization("web", secret);
        f.add_public_client("spa", {"authorization_code", "refresh_token"}, {"mqtt:sub:a/#"},
                            {"http://127.0.0.1/cb"});
    }

    std::string code_query(const std::string& client = "web",
                           const std::string& redirect = "https://app.example/cb", bool pkce = true) {
        std::vector<std::pair<std::string, std::string>> q{{"response_type", "code"},
                                                           {"client_id", client},
                                                           {"redirect_uri", redirect},
                                                           {"scope", "mqtt:sub:a/#"},
                                                           {"state", "xyz 123"}};
        if (pkce) {
            q.emplace_back("code_challenge", challenge);
            q.emplace_back("code_challenge_method", "S256");
        }
        return build_query(q);
    }

    /// Runs /authorize → login → consent in browser b; returns the final redirect to the client.
    response authorize(browser& b, const std::string& query, const std::string& decision = "approve") {
        auto r = b.get(*f.server, "/authorize?" + query);
        if (r.status != 200) {
            return r;
        }
        r = b.post(*f.server, "/login",
                   build_query({{"next", b.field("next")},
                                {"csrf", b.field("csrf")},
                                {"username", "alice"},
                                {"password", password}}));
        EXPECT_EQ(r.status, 303) << r.body;
        r = b.get(*f.server, location_target(r, issuer));
        EXPECT_EQ(r.status, 200);
        if (query.find("mqtt") != std::string::npos) {
            EXPECT_NE(r.body.find("Receive messages from topics matching a/#"), std::string::npos)
                << "scope in words";
        }
        return b.post(
            *f.server, "/consent",
            build_query(
                {{"request", b.field("request")}, {"csrf", b.field("csrf")}, {"decision", decision}}));
    }

    std::string code(bool pkce = true) {
        browser b;
        auto r = authorize(b, code_query("web", "https://app.example/cb", pkce));
        EXPECT_EQ(r.status, 303);
        return location_param(r, "code").value_or("");
    }

    response redeem(const std::string& c, const std::string& extra = "&code_verifier=" + verifier) {
        return f.post("/token",
                      "grant_type=authorization_code&code=" + url_encode(c) +
                          "&redirect_uri=https%3A%2F%2Fapp.example%2Fcb" + extra,
                      basic);
    }

    bool active(const std::string& token) {
        return json_of(f.post("/introspect", "token=" + url_encode(token), basic)).at("active").as_bool();
    }

    server_fixture f;
    std::string secret;
    std::string basic;
};

TEST_F(flows, authorization_code_with_pkce_state_and_iss_rfc9207) {
    browser b;
    auto r = authorize(b, code_query());
    ASSERT_EQ(r.status, 303) << "RFC 9700 §4.12: 303 after a credential POST";
    const auto loc = std::string(r.header("location").value_or(""));
    EXPECT_EQ(loc.rfind("https://app.example/cb?", 0), 0u) << loc;
    EXPECT_EQ(location_param(r, "state"), "xyz 123");
    EXPECT_EQ(location_param(r, "iss"), issuer);
    auto t = redeem(*location_param(r, "code"));
    ASSERT_EQ(t.status, 200) << t.body;
    auto body = json_of(t);
    EXPECT_FALSE(str(body, "refresh_token").empty());
    EXPECT_EQ(str(body, "scope"), "mqtt:sub:a/#");
    EXPECT_TRUE(active(str(body, "access_token")));
    // A second authorization in the same browser skips the login (session cookie).
    auto again = b.get(*f.server, "/authorize?" + code_query());
    EXPECT_EQ(again.status, 303);
    EXPECT_EQ(location_target(again, issuer).rfind("/consent?request=", 0), 0u);
}

TEST_F(flows, public_client_with_loopback_port_variation_rfc8252) {
    browser b;
    auto r = authorize(b, code_query("spa", "http://127.0.0.1:49152/cb"));
    ASSERT_EQ(r.status, 303);
    auto c = location_param(r, "code");
    ASSERT_TRUE(c);
    auto t = f.post("/token", "grant_type=authorization_code&client_id=spa&code=" + url_encode(*c) +
                                  "&redirect_uri=" + url_encode("http://127.0.0.1:49152/cb") +
                                  "&code_verifier=" + verifier);
    EXPECT_EQ(t.status, 200) << t.body;
}

TEST_F(flows, redirect_uri_with_extra_path_query_or_fragment_is_refused_without_redirect) {
    for (const std::string bad : {"https://app.example/cb/extra", "https://app.example/cb?x=1",
                                  "https://app.example/cb#f", "https://evil.example/cb"}) {
        browser b;
        auto r = b.get(*f.server, "/authorize?" + code_query("web", bad));
        EXPECT_EQ(r.status, 400) << bad;
        EXPECT_FALSE(r.header("location")) << "RFC 9700 §4.11: no open redirect: " << bad;
    }
    browser b;
    auto r = b.get(*f.server, "/authorize?" + code_query("nobody"));
    EXPECT_EQ(r.status, 400);
    EXPECT_FALSE(r.header("location"));
}

TEST_F(flows, code_reuse_is_refused_and_revokes_what_it_issued_rfc6749_4_1_2) {
    const auto c = code();
    auto first = json_of(redeem(c));
    const auto access = str(first, "access_token");
    const auto refresh = str(first, "refresh_token");
    ASSERT_TRUE(active(access));
    auto second = redeem(c);
    EXPECT_EQ(str(json_of(second), "error"), "invalid_grant");
    EXPECT_FALSE(active(access));
    EXPECT_FALSE(active(refresh));
    EXPECT_EQ(
        str(json_of(f.post("/token", "grant_type=refresh_token&refresh_token=" + refresh, basic)), "error"),
        "invalid_grant");
}

TEST_F(flows, pkce_downgrade_refused_both_ways_rfc9700_4_8_2) {
    // Issued with a challenge, redeemed without a verifier.
    EXPECT_EQ(str(json_of(redeem(code(), "")), "error"), "invalid_grant");
    // Issued with a challenge, redeemed with a wrong verifier.
    EXPECT_EQ(str(json_of(redeem(code(), "&code_verifier=" + std::string(43, 'a'))), "error"),
              "invalid_grant");
    // A confidential client allowed to skip PKCE: a code without challenge redeemed with a verifier.
    client_options o;
    o.client_id = "legacy";
    o.grant_types = {"authorization_code"};
    o.redirect_uris = {"https://app.example/cb"};
    o.require_pkce = false;
    o.scopes = {"mqtt:sub:a/#"};
    const auto legacy_secret = f.server->create_client(o).secret;
    browser b;
    auto r = authorize(b, code_query("legacy", "https://app.example/cb", false));
    ASSERT_EQ(r.status, 303);
    auto t = f.post("/token",
                    "grant_type=authorization_code&code=" + url_encode(*location_param(r, "code")) +
                        "&redirect_uri=https%3A%2F%2Fapp.example%2Fcb&code_verifier=" + verifier,
                    make_basic_authorization("legacy", legacy_secret));
    EXPECT_EQ(str(json_of(t), "error"), "invalid_grant");
}

TEST_F(flows, pkce_required_by_default_and_s256_only) {
    browser b;
    auto r = b.get(*f.server, "/authorize?" + code_query("web", "https://app.example/cb", false));
    EXPECT_EQ(r.status, 303);
    EXPECT_EQ(location_param(r, "error"), "invalid_request");
    EXPECT_EQ(location_param(r, "state"), "xyz 123");
    auto plain = b.get(*f.server, "/authorize?" + code_query("spa", "http://127.0.0.1/cb", false) +
                                      "&code_challenge=" + verifier + "&code_challenge_method=plain");
    EXPECT_EQ(location_param(plain, "error"), "invalid_request");
}

TEST_F(flows, code_bound_to_client_and_redirect_uri_and_short_lived) {
    auto other = f.add_client("other", {"authorization_code"}, {"mqtt:sub:a/#"}, {"https://app.example/cb"});
    auto t = f.post("/token",
                    "grant_type=authorization_code&code=" + url_encode(code()) +
                        "&redirect_uri=https%3A%2F%2Fapp.example%2Fcb&code_verifier=" + verifier,
                    make_basic_authorization("other", other));
    EXPECT_EQ(str(json_of(t), "error"), "invalid_grant");
    t = f.post("/token",
               "grant_type=authorization_code&code=" + url_encode(code()) +
                   "&redirect_uri=https%3A%2F%2Fapp.example%2Fother&code_verifier=" + verifier,
               basic);
    EXPECT_EQ(str(json_of(t), "error"), "invalid_grant");
    const auto c = code();
    f.clock.advance(std::chrono::seconds{61});
    EXPECT_EQ(str(json_of(redeem(c)), "error"), "invalid_grant");
}

TEST_F(flows, login_csrf_is_refused) {
    browser victim;
    victim.get(*f.server, "/authorize?" + code_query());
    const auto next = victim.field("next");
    // The attacker's page posts the form without the victim's token, or with its own token.
    browser attacker;
    attacker.get(*f.server, "/authorize?" + code_query());
    auto r = victim.post(*f.server, "/login",
                         build_query({{"next", next},
                                      {"csrf", attacker.field("csrf")},
                                      {"username", "alice"},
                                      {"password", password}}));
    EXPECT_EQ(r.status, 403);
    browser cookieless;
    r = cookieless.post(
        *f.server, "/login",
        build_query(
            {{"next", next}, {"csrf", victim.field("csrf")}, {"username", "alice"}, {"password", password}}));
    EXPECT_EQ(r.status, 403);
}

TEST_F(flows, consent_csrf_is_refused) {
    browser b;
    b.get(*f.server, "/authorize?" + code_query());
    auto r = b.post(*f.server, "/login",
                    build_query({{"next", b.field("next")},
                                 {"csrf", b.field("csrf")},
                                 {"username", "alice"},
                                 {"password", password}}));
    b.get(*f.server, location_target(r, issuer));
    const auto request_id = b.field("request");
    r = b.post(*f.server, "/consent",
               build_query({{"request", request_id}, {"csrf", "forged"}, {"decision", "approve"}}));
    EXPECT_EQ(r.status, 403);
    EXPECT_FALSE(r.header("location"));
}

TEST_F(flows, wrong_password_on_login_page_and_deny) {
    browser b;
    b.get(*f.server, "/authorize?" + code_query());
    auto r = b.post(*f.server, "/login",
                    build_query({{"next", b.field("next")},
                                 {"csrf", b.field("csrf")},
                                 {"username", "alice"},
                                 {"password", "nope nope"}}));
    EXPECT_EQ(r.status, 401);
    EXPECT_NE(r.body.find("Wrong user name or password"), std::string::npos);
    browser d;
    r = authorize(d, code_query(), "deny");
    EXPECT_EQ(location_param(r, "error"), "access_denied");
    EXPECT_EQ(location_param(r, "state"), "xyz 123");
}

TEST_F(flows, refresh_rotation_and_reuse_revokes_the_family_rfc9700_4_14_2) {
    auto first = json_of(redeem(code()));
    const auto r1 = str(first, "refresh_token");
    auto second = json_of(f.post("/token", "grant_type=refresh_token&refresh_token=" + r1, basic));
    const auto r2 = str(second, "refresh_token");
    ASSERT_FALSE(r2.empty());
    EXPECT_NE(r1, r2);
    f.clock.advance(std::chrono::seconds{11});  // past the grace window
    std::vector<revocation_event> events;
    auto sub = f.server->revocations().subscribe([&](const revocation_event& e) { events.push_back(e); });
    EXPECT_EQ(str(json_of(f.post("/token", "grant_type=refresh_token&refresh_token=" + r1, basic)), "error"),
              "invalid_grant");
    EXPECT_FALSE(active(r2)) << "the live token of the family is revoked too";
    EXPECT_FALSE(active(str(second, "access_token")));
    EXPECT_FALSE(active(str(first, "access_token")));
    ASSERT_FALSE(events.empty());
    EXPECT_EQ(events.back().kind, revocation_kind::refresh_family);
}

TEST_F(flows, refresh_grace_only_for_the_immediately_preceding_token) {
    auto first = json_of(redeem(code()));
    const auto r1 = str(first, "refresh_token");
    const auto r2 = str(json_of(f.post("/token", "grant_type=refresh_token&refresh_token=" + r1, basic)),
                        "refresh_token");
    // Lost response: the client retries with r1 within the grace window and gets r3.
    const auto retry = f.post("/token", "grant_type=refresh_token&refresh_token=" + r1, basic);
    ASSERT_EQ(retry.status, 200) << retry.body;
    const auto r3 = str(json_of(retry), "refresh_token");
    EXPECT_FALSE(active(r2));
    EXPECT_TRUE(active(r3));
    // r1 is now two generations old: reuse revokes everything (django-oauth-toolkit#1617).
    EXPECT_EQ(str(json_of(f.post("/token", "grant_type=refresh_token&refresh_token=" + r1, basic)), "error"),
              "invalid_grant");
    EXPECT_FALSE(active(r3));
}

TEST_F(flows, refresh_scope_may_narrow_not_widen) {
    const auto r1 = str(json_of(redeem(code())), "refresh_token");
    EXPECT_EQ(str(json_of(f.post("/token",
                                 "grant_type=refresh_token&scope=offline_access&refresh_token=" + r1, basic)),
                  "error"),
              "invalid_scope");
    auto ok = json_of(
        f.post("/token", "grant_type=refresh_token&scope=mqtt%3Asub%3Aa%2F%23&refresh_token=" + r1, basic));
    EXPECT_EQ(str(ok, "scope"), "mqtt:sub:a/#");
}

TEST_F(flows, refresh_token_of_another_client_is_invalid) {
    const auto r1 = str(json_of(redeem(code())), "refresh_token");
    auto t = f.post("/token", "grant_type=refresh_token&client_id=spa&refresh_token=" + r1);
    EXPECT_EQ(str(json_of(t), "error"), "invalid_grant");
    EXPECT_TRUE(active(r1)) << "a foreign client presenting it is no reuse of the owner's chain";
}

TEST_F(flows, implicit_disabled_unless_enabled_per_client) {
    browser b;
    auto r = b.get(
        *f.server,
        "/authorize?response_type=token&client_id=web&redirect_uri=https%3A%2F%2Fapp.example%2Fcb&state=s");
    EXPECT_EQ(r.status, 303);
    EXPECT_EQ(location_param(r, "error"), "unauthorized_client");
    EXPECT_NE(std::string(r.header("location").value_or("")).find('#'), std::string::npos)
        << "fragment response";
    f.add_client("legacy-spa", {"implicit"}, {"x"}, {"https://app.example/cb"});
    browser c;
    r = authorize(
        c, "response_type=token&client_id=legacy-spa&redirect_uri=https%3A%2F%2Fapp.example%2Fcb&state=s");
    ASSERT_EQ(r.status, 303);
    EXPECT_FALSE(location_param(r, "access_token").value_or("").empty());
    EXPECT_EQ(location_param(r, "state"), "s");
}

class device_flow : public flows {
  protected:
    void SetUp() override {
        flows::SetUp();
        dev_secret = f.add_client("tv", {"device_code", "refresh_token"}, {"mqtt:pub:tv/#"});
        dev_basic = make_basic_authorization("tv", dev_secret);
    }
    boost::json::object start() {
        auto r = f.post("/device_authorization", "scope=mqtt%3Apub%3Atv%2F%23", dev_basic);
        EXPECT_EQ(r.status, 200) << r.body;
        return json_of(r);
    }
    response poll(const std::string& device_code) {
        return f.post(
            "/token",
            "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Adevice_code&device_code=" + device_code,
            dev_basic);
    }
    /// Signs in and submits the user code; returns the approval page.
    response enter(browser& b, const std::string& user_code) {
        auto r = b.get(*f.server, "/device?user_code=" + user_code);
        if (!b.field("next").empty()) {
            r = b.post(*f.server, "/login",
                       build_query({{"next", b.field("next")},
                                    {"csrf", b.field("csrf")},
                                    {"username", "alice"},
                                    {"password", password}}));
            r = b.get(*f.server, location_target(r, issuer));
        }
        return b.post(*f.server, "/device",
                      build_query({{"csrf", b.field("csrf")}, {"user_code", user_code}}));
    }
    std::string dev_secret;
    std::string dev_basic;
};

TEST_F(device_flow, pending_slow_down_approve_rfc8628_3_5) {
    auto d = start();
    const auto device_code = str(d, "device_code");
    const auto user_code = str(d, "user_code");
    EXPECT_EQ(str(d, "verification_uri"), issuer + "/device");
    EXPECT_EQ(d.at("interval").as_int64(), 5);
    EXPECT_EQ(str(json_of(poll(device_code)), "error"), "authorization_pending");
    EXPECT_EQ(str(json_of(poll(device_code)), "error"), "slow_down");
    f.clock.advance(std::chrono::seconds{6});
    EXPECT_EQ(str(json_of(poll(device_code)), "error"), "slow_down") << "interval grew by 5 s";
    f.clock.advance(std::chrono::seconds{15});
    EXPECT_EQ(str(json_of(poll(device_code)), "error"), "authorization_pending");

    browser b;
    auto page = enter(b, user_code);
    ASSERT_EQ(page.status, 200) << page.body;
    EXPECT_NE(page.body.find("device"), std::string::npos);
    EXPECT_NE(page.body.find(user_code), std::string::npos) << "RFC 8628 §5.4: show the code";
    auto done = b.post(
        *f.server, "/device/decision",
        build_query(
            {{"csrf", b.field("csrf")}, {"user_code", b.field("user_code")}, {"decision", "approve"}}));
    EXPECT_EQ(done.status, 200);
    f.clock.advance(std::chrono::seconds{20});
    auto t = poll(device_code);
    ASSERT_EQ(t.status, 200) << t.body;
    EXPECT_FALSE(str(json_of(t), "refresh_token").empty());
    f.clock.advance(std::chrono::seconds{20});
    EXPECT_EQ(str(json_of(poll(device_code)), "error"), "invalid_grant") << "single use";
}

TEST_F(device_flow, denied_and_expired) {
    auto d = start();
    browser b;
    enter(b, str(d, "user_code"));
    b.post(
        *f.server, "/device/decision",
        build_query({{"csrf", b.field("csrf")}, {"user_code", b.field("user_code")}, {"decision", "deny"}}));
    EXPECT_EQ(str(json_of(poll(str(d, "device_code"))), "error"), "access_denied");
    auto e = start();
    f.clock.advance(std::chrono::seconds{601});
    EXPECT_EQ(str(json_of(poll(str(e, "device_code"))), "error"), "expired_token");
}

TEST_F(device_flow, user_code_brute_force_is_limited_rfc8628_5_1) {
    auto d = start();
    browser b;
    enter(b, "BCDF-GHJK");
    for (int i = 0; i < 12; ++i) {
        b.post(*f.server, "/device", build_query({{"csrf", b.field("csrf")}, {"user_code", "BCDF-GHJK"}}));
    }
    auto r = b.post(*f.server, "/device",
                    build_query({{"csrf", b.field("csrf")}, {"user_code", str(d, "user_code")}}));
    EXPECT_NE(r.body.find("Too many wrong codes"), std::string::npos)
        << "even the right code waits out the lockout";
    EXPECT_EQ(r.body.find("Allow device"), std::string::npos);
}

TEST_F(device_flow, device_csrf_is_refused) {
    auto d = start();
    browser b;
    enter(b, str(d, "user_code"));
    auto r = b.post(
        *f.server, "/device/decision",
        build_query({{"csrf", "forged"}, {"user_code", b.field("user_code")}, {"decision", "approve"}}));
    EXPECT_EQ(r.status, 403);
    EXPECT_EQ(str(json_of(poll(str(d, "device_code"))), "error"), "authorization_pending");
}

class password_grant : public flows {};

TEST_F(password_grant, disabled_by_default_enabled_per_client_and_locked_out_after_failures) {
    EXPECT_EQ(str(json_of(f.post("/token", "grant_type=password&username=alice&password=x", basic)), "error"),
              "unauthorized_client");
    const auto s = f.add_client("cli", {"password", "refresh_token"}, {"x"});
    const auto auth = make_basic_authorization("cli", s);
    auto ok = f.post("/token", "grant_type=password&username=alice&password=" + url_encode(password), auth);
    ASSERT_EQ(ok.status, 200) << ok.body;
    EXPECT_FALSE(str(json_of(ok), "refresh_token").empty());
    for (int i = 0; i < 5; ++i) {
        EXPECT_EQ(str(json_of(f.post("/token", "grant_type=password&username=alice&password=wrong", auth)),
                      "error"),
                  "invalid_grant");
    }
    // Locked: even the right password is refused now, from any address.
    auto locked = f.post("/token", "grant_type=password&username=alice&password=" + url_encode(password),
                         auth, "198.51.100.7");
    EXPECT_EQ(str(json_of(locked), "error"), "invalid_grant");
    f.clock.advance(std::chrono::seconds{15 * 60 + 1});
    EXPECT_EQ(
        f.post("/token", "grant_type=password&username=alice&password=" + url_encode(password), auth).status,
        200);
}

TEST_F(password_grant, per_address_limit_across_user_names) {
    const auto s = f.add_client("cli", {"password"}, {"x"});
    const auto auth = make_basic_authorization("cli", s);
    for (int i = 0; i < 20; ++i) {
        f.post("/token", "grant_type=password&username=u" + std::to_string(i) + "&password=wrong", auth,
               "203.0.113.9");
    }
    auto r = f.post("/token", "grant_type=password&username=alice&password=" + url_encode(password), auth,
                    "203.0.113.9");
    EXPECT_EQ(str(json_of(r), "error"), "invalid_grant");
    EXPECT_EQ(f.post("/token", "grant_type=password&username=alice&password=" + url_encode(password), auth,
                     "192.0.2.50")
                  .status,
              200);
}

}  // namespace
}  // namespace tollgate::oauth::test
