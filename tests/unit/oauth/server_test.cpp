// Endpoints through authorization_server::handle(): client credentials, metadata, JWKS,
// introspection, revocation, errors. Storage: SQLite in a temporary data directory.
#include <boost/json/serialize.hpp>
#include <gtest/gtest.h>

#include <tollgate/jose/jwt.hpp>
#include <tollgate/jose/key_set.hpp>

#include "support.hpp"

namespace tollgate::oauth::test {
namespace {

class server : public ::testing::Test {
  protected:
    server_fixture f;
    std::string secret = f.add_client("svc", {"client_credentials"}, {"mqtt:pub:a/#", "mqtt:sub:b/#"});
    std::string basic = make_basic_authorization("svc", secret);

    std::string access_token(const std::string& scope = "") {
        auto r = f.post("/token", "grant_type=client_credentials" + (scope.empty() ? "" : "&scope=" + scope),
                        basic);
        EXPECT_EQ(r.status, 200) << r.body;
        return str(json_of(r), "access_token");
    }
    jose::verifier verifier() {
        auto jwks = jose::key_set::from_json(f.get("/jwks").body);
        EXPECT_TRUE(jwks);
        jose::validation_policy p;
        p.issuers = {"https://as.example"};
        p.audiences = {"urn:tollgate:broker"};
        p.expected_typ = "at+jwt";
        p.required_claims = {"sub", "jti", "client_id", "iat"};
        return jose::verifier(std::move(jwks.value()), p, f.clock);
    }
};

TEST_F(server, client_credentials_issues_rfc9068_jwt_without_refresh_token) {
    auto r = f.post("/token", "grant_type=client_credentials&scope=mqtt%3Apub%3Aa%2F%23", basic);
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.header("cache-control"), "no-store");
    auto body = json_of(r);
    EXPECT_EQ(str(body, "token_type"), "Bearer");
    EXPECT_EQ(body.at("expires_in").as_int64(), 3600);
    EXPECT_EQ(str(body, "scope"), "mqtt:pub:a/#");
    EXPECT_FALSE(body.contains("refresh_token")) << "RFC 6749 §4.4.3";
    auto verified = verifier().verify(str(body, "access_token"));
    ASSERT_TRUE(verified) << verified.error().message();
    EXPECT_EQ(verified->alg(), jose::algorithm::es256);
    EXPECT_EQ(verified->header().at("typ").as_string(), "at+jwt");
    EXPECT_EQ(verified->sub(), "svc");
    EXPECT_EQ(verified->client_id(), "svc");
    EXPECT_EQ(verified->scope(), (std::vector<std::string>{"mqtt:pub:a/#"}));
    EXPECT_EQ(*verified->exp() - *verified->iat(), 3600);
}

TEST_F(server, client_secret_post_and_default_scope) {
    auto post_secret = f.add_client("poster", {"client_credentials"}, {"x"}, {}, "client_secret_post");
    auto r = f.post("/token", "grant_type=client_credentials&client_id=poster&client_secret=" + post_secret);
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(str(json_of(r), "scope"), "x");
    // The method is pinned per client: Basic for a client_secret_post client is refused.
    EXPECT_EQ(
        f.post("/token", "grant_type=client_credentials", make_basic_authorization("poster", post_secret))
            .status,
        401);
}

TEST_F(server, invalid_client_is_401_with_www_authenticate) {
    auto r = f.post("/token", "grant_type=client_credentials", make_basic_authorization("svc", secret + "x"));
    EXPECT_EQ(r.status, 401);
    EXPECT_TRUE(r.header("www-authenticate"));
    EXPECT_EQ(str(json_of(r), "error"), "invalid_client");
    EXPECT_EQ(
        f.post("/token", "grant_type=client_credentials", make_basic_authorization("nobody", secret)).status,
        401);
    EXPECT_EQ(f.post("/token", "grant_type=client_credentials").status, 401);
}

TEST_F(server, errors_rfc6749_5_2) {
    EXPECT_EQ(
        str(json_of(f.post("/token", "grant_type=client_credentials&grant_type=client_credentials", basic)),
            "error"),
        "invalid_request")
        << "repeated parameter, RFC 6749 §3.2";
    EXPECT_EQ(str(json_of(f.post("/token", "scope=x", basic)), "error"), "invalid_request");
    EXPECT_EQ(str(json_of(f.post("/token", "grant_type=urn:x", basic)), "error"), "unsupported_grant_type");
    EXPECT_EQ(str(json_of(f.post("/token", "grant_type=password&username=a&password=b", basic)), "error"),
              "unauthorized_client");
    EXPECT_EQ(str(json_of(f.post("/token", "grant_type=client_credentials&scope=other", basic)), "error"),
              "invalid_scope");
    EXPECT_EQ(str(json_of(f.post("/token", "grant_type=client_credentials&client_secret=" + secret, basic)),
                  "error"),
              "invalid_request")
        << "two authentication methods, RFC 6749 §2.3";
    auto wrong_type = make_post("/token", "grant_type=client_credentials", basic);
    wrong_type.headers[0].second = "application/json";
    EXPECT_EQ(f.server->handle(wrong_type).status, 400);
    EXPECT_EQ(f.get("/token").status, 405);
}

TEST_F(server, metadata_lists_only_enabled_grants_rfc8414) {
    auto m = json_of(f.get("/.well-known/oauth-authorization-server"));
    EXPECT_EQ(str(m, "issuer"), "https://as.example");
    EXPECT_EQ(str(m, "token_endpoint"), "https://as.example/token");
    EXPECT_EQ(boost::json::serialize(m.at("grant_types_supported")), R"(["client_credentials"])");
    EXPECT_EQ(boost::json::serialize(m.at("response_types_supported")), "[]");
    EXPECT_EQ(boost::json::serialize(m.at("code_challenge_methods_supported")), R"(["S256"])");
    f.add_client("legacy", {"password", "implicit", "authorization_code"}, {"x"}, {"https://app.example/cb"});
    m = json_of(f.get("/.well-known/openid-configuration"));
    const auto grants = boost::json::serialize(m.at("grant_types_supported"));
    EXPECT_NE(grants.find("password"), std::string::npos);
    EXPECT_NE(grants.find("implicit"), std::string::npos);
    EXPECT_EQ(boost::json::serialize(m.at("response_types_supported")), R"(["code","token"])");
}

TEST_F(server, introspection_requires_authentication_and_reports_revocation_rfc7662) {
    const auto token = access_token();
    auto r = f.post("/introspect", "token=" + token, basic);
    ASSERT_EQ(r.status, 200) << r.body;
    auto body = json_of(r);
    EXPECT_TRUE(body.at("active").as_bool());
    EXPECT_EQ(str(body, "client_id"), "svc");
    EXPECT_EQ(f.post("/introspect", "token=" + token).status, 401) << "RFC 7662 §2.1";
    EXPECT_EQ(f.post("/introspect", "token=garbage", basic).body, R"({"active":false})");

    std::vector<revocation_event> events;
    auto sub = f.server->revocations().subscribe([&](const revocation_event& e) { events.push_back(e); });
    EXPECT_EQ(f.post("/revoke", "token=" + token, basic).status, 200);
    EXPECT_EQ(f.post("/introspect", "token=" + token, basic).body, R"({"active":false})");
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].kind, revocation_kind::access_token);
    EXPECT_EQ(events[0].client_id, "svc");
    EXPECT_FALSE(events[0].jti.empty());
    EXPECT_EQ(f.post("/revoke", "token=unknown", basic).status, 200) << "RFC 7009 §2.2";
}

TEST_F(server, expired_token_is_inactive) {
    const auto token = access_token();
    f.clock.advance(std::chrono::seconds{3601});
    EXPECT_EQ(f.post("/introspect", "token=" + token, basic).body, R"({"active":false})");
}

TEST_F(server, another_client_cannot_revoke_my_token) {
    const auto token = access_token();
    auto other = f.add_client("other", {"client_credentials"}, {"x"});
    EXPECT_EQ(f.post("/revoke", "token=" + token, make_basic_authorization("other", other)).status, 200);
    EXPECT_TRUE(json_of(f.post("/introspect", "token=" + token, basic)).at("active").as_bool());
}

TEST_F(server, key_rotation_keeps_old_key_in_jwks_until_its_tokens_expired) {
    const auto old_token = access_token();
    const auto old_kid = f.server->keys().active().key.kid();
    const auto new_kid = f.server->keys().rotate();
    EXPECT_NE(old_kid, new_kid);
    const auto jwks = f.get("/jwks").body;
    EXPECT_NE(jwks.find(old_kid), std::string::npos);
    EXPECT_NE(jwks.find(new_kid), std::string::npos);
    EXPECT_EQ(jwks.find("\"d\""), std::string::npos) << "public keys only";
    EXPECT_TRUE(verifier().verify(old_token));
    auto fresh = jose::parse_compact(access_token());
    ASSERT_TRUE(fresh);
    EXPECT_EQ(fresh->kid, new_kid);
    f.clock.advance(f.config.max_access_token_ttl + std::chrono::seconds{120});
    EXPECT_GE(f.server->run_janitor().keys, 1);
    f.server->keys().invalidate();
    EXPECT_EQ(f.get("/jwks").body.find(old_kid), std::string::npos);
}

TEST_F(server, signing_keys_survive_restart_encrypted_at_rest) {
    const auto token = access_token();
    const auto kid = f.server->keys().active().key.kid();
    for (const auto& k : f.server->store().list_signing_keys()) {
        EXPECT_EQ(k.sealed_private_key.find("PRIVATE"), std::string::npos);
    }
    f.server.reset();
    f.server = std::make_unique<authorization_server>(f.config, f.clock);
    EXPECT_EQ(f.server->keys().active().key.kid(), kid);
    EXPECT_TRUE(verifier().verify(token));
}

TEST_F(server, eddsa_and_rs256_configurable) {
    for (auto alg : {jose::algorithm::eddsa, jose::algorithm::rs256}) {
        server_config c;
        c.signing_alg = alg;
        server_fixture g("", c);
        auto s = g.add_client("c", {"client_credentials"}, {});
        auto r = g.post("/token", "grant_type=client_credentials", make_basic_authorization("c", s));
        auto jws = jose::parse_compact(str(json_of(r), "access_token"));
        ASSERT_TRUE(jws);
        EXPECT_EQ(jws->alg, alg);
    }
}

TEST_F(server, admin_operations_rotate_secret_remove_client_publish_events) {
    const auto token = access_token();
    auto fresh = f.server->rotate_client_secret("svc");
    ASSERT_TRUE(fresh);
    EXPECT_EQ(f.post("/token", "grant_type=client_credentials", basic).status, 401);
    EXPECT_EQ(
        f.post("/token", "grant_type=client_credentials", make_basic_authorization("svc", *fresh)).status,
        200);
    std::vector<revocation_kind> kinds;
    auto sub = f.server->revocations().subscribe([&](const revocation_event& e) { kinds.push_back(e.kind); });
    EXPECT_TRUE(f.server->remove_client("svc"));
    ASSERT_FALSE(kinds.empty());
    EXPECT_EQ(kinds.back(), revocation_kind::client);
    auto rs = f.add_client("rs", {"client_credentials"}, {});
    EXPECT_EQ(f.post("/introspect", "token=" + token, make_basic_authorization("rs", rs)).body,
              R"({"active":false})")
        << "removing a client revokes its tokens";
}

TEST_F(server, bootstrap_admin_client_only_on_empty_database) {
    server_fixture g;
    auto admin = g.server->bootstrap_admin_client();
    ASSERT_TRUE(admin);
    EXPECT_EQ(admin->record.client_id, "admin");
    EXPECT_EQ(admin->secret.size(), 6u + 43u);
    EXPECT_FALSE(g.server->bootstrap_admin_client());
    EXPECT_EQ(
        g.post("/token", "grant_type=client_credentials", make_basic_authorization("admin", admin->secret))
            .status,
        200);
}

TEST_F(server, secrets_are_stored_only_as_hmac) {
    auto rec = f.server->store().find_client("svc");
    ASSERT_TRUE(rec);
    EXPECT_EQ(rec->secret_digest.find(secret), std::string::npos);
    EXPECT_EQ(rec->secret_digest.size(), 64u);
}

}  // namespace
}  // namespace tollgate::oauth::test
