// Claims validation (RFC 7519 §4.1, RFC 8725 §3.8-3.11, RFC 9068 §2.1/§4, RFC 8705 §3.1) on a
// manual clock.
#include <chrono>
#include <string>

#include <boost/json/serialize.hpp>
#include <gtest/gtest.h>

#include <tollgate/common/clock.hpp>
#include <tollgate/jose/jwt.hpp>

#include "helpers.hpp"

namespace tollgate::jose {
namespace {

using namespace std::chrono_literals;
constexpr std::int64_t now = 1'700'000'000;  // manual_clock's default start

class Claims : public ::testing::Test {
  protected:
    Claims() {
        policy_.allowed_algs = {algorithm::es256};
        policy_.issuers = {"https://as.example"};
        policy_.audiences = {"broker", "other"};
        policy_.leeway = 30s;
    }
    boost::json::object base() const {
        return {{"iss", "https://as.example"},
                {"aud", "broker"},
                {"sub", "dev1"},
                {"exp", now + 600},
                {"iat", now}};
    }
    result<verified_token> verify(const boost::json::object& claims,
                                  std::string_view header = R"({"alg":"ES256","typ":"at+jwt"})") const {
        const std::string token = test::forge(header, boost::json::serialize(claims),
                                              test::test_keys::get().es256, algorithm::es256);
        verifier v(key_set({test::public_of(test::test_keys::get().es256)}), policy_, clock_);
        return v.verify(token);
    }
    std::error_code error_of(const boost::json::object& claims) const {
        auto r = verify(claims);
        return r ? std::error_code{} : r.error();
    }

    validation_policy policy_;
    common::manual_clock clock_;
};

TEST_F(Claims, AcceptedTokenExposesClaims) {
    auto c = base();
    c["client_id"] = "app";
    c["jti"] = "id-1";
    c["scope"] = "mqtt:pub:a/b  mqtt:sub:#";
    c["cnf"] = boost::json::object{{"x5t#S256", "bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2"}};
    auto t = verify(c);
    ASSERT_TRUE(t) << t.error().message();
    EXPECT_EQ(t->iss(), "https://as.example");
    EXPECT_EQ(t->sub(), "dev1");
    EXPECT_EQ(t->client_id(), "app");
    EXPECT_EQ(t->jti(), "id-1");
    EXPECT_EQ(t->aud(), std::vector<std::string>{"broker"});
    EXPECT_EQ(t->exp(), now + 600);
    EXPECT_EQ(t->iat(), now);
    EXPECT_EQ(t->nbf(), std::nullopt);
    EXPECT_EQ(t->scope(), (std::vector<std::string>{"mqtt:pub:a/b", "mqtt:sub:#"}));
    EXPECT_EQ(t->cnf_x5t_s256(), "bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2");
    EXPECT_EQ(t->alg(), algorithm::es256);
    EXPECT_EQ(t->key_id(), "ec-1");
}

TEST_F(Claims, ScopeAsArray) {
    auto c = base();
    c["scope"] = boost::json::array{"a", "b"};
    EXPECT_EQ(verify(c)->scope(), (std::vector<std::string>{"a", "b"}));
    c["scope"] = boost::json::array{"a", 1};
    EXPECT_EQ(error_of(c), errc::bad_claim_type);
}

TEST_F(Claims, ExpiryWithLeeway) {  // RFC 7519 §4.1.4
    auto c = base();
    c["exp"] = now - 30;  // exactly at the end of the leeway
    EXPECT_EQ(error_of(c), errc::expired);
    c["exp"] = now - 29;
    EXPECT_FALSE(error_of(c));
    c.erase("exp");
    EXPECT_EQ(error_of(c), errc::missing_claim);
    policy_.require_exp = false;
    EXPECT_FALSE(error_of(c));
}

TEST_F(Claims, ExpiryFollowsTheClock) {
    auto c = base();
    EXPECT_FALSE(error_of(c));
    clock_.advance(std::chrono::seconds(600 + 30));
    EXPECT_EQ(error_of(c), errc::expired);
}

TEST_F(Claims, NotBeforeAndIssuedInTheFuture) {  // RFC 7519 §4.1.5, §4.1.6
    auto c = base();
    c["nbf"] = now + 31;
    EXPECT_EQ(error_of(c), errc::not_yet_valid);
    c["nbf"] = now + 30;
    EXPECT_FALSE(error_of(c));
    c["iat"] = now + 31;
    EXPECT_EQ(error_of(c), errc::issued_in_future);
}

TEST_F(Claims, MaximumAge) {
    policy_.max_age = 3600s;
    auto c = base();
    c["iat"] = now - 3600 - 31;
    EXPECT_EQ(error_of(c), errc::too_old);
    c["iat"] = now - 3600;
    EXPECT_FALSE(error_of(c));
    c.erase("iat");
    EXPECT_EQ(error_of(c), errc::missing_claim);
}

TEST_F(Claims, MaximumLifetimeRefusesFarFutureExpiry) {  // hostile-inputs #67 (exp in year 9999)
    auto c = base();
    c["exp"] = std::int64_t{253402300799};
    EXPECT_FALSE(error_of(c)) << "no limit configured: only exp's range is checked";
    policy_.max_lifetime = 24h;
    EXPECT_EQ(error_of(c), errc::lifetime_too_long);
    c["exp"] = now + 24 * 3600 + 30;  // exactly the maximum plus leeway, counted from iat
    EXPECT_FALSE(error_of(c));
    c["exp"] = now + 24 * 3600 + 31;
    EXPECT_EQ(error_of(c), errc::lifetime_too_long);
    c["iat"] = now - 3600;  // counted from iat, not from now
    c["exp"] = now + 23 * 3600 + 31;
    EXPECT_EQ(error_of(c), errc::lifetime_too_long);
    c.erase("iat");  // no iat: counted from now
    c["exp"] = now + 24 * 3600;
    EXPECT_FALSE(error_of(c));
    c["exp"] = now + 25 * 3600;
    EXPECT_EQ(error_of(c), errc::lifetime_too_long);
}

TEST_F(Claims, ConfirmationClaimMustBeCheckable) {  // RFC 7800 §3.1, RFC 8705 §3.1, RFC 9449 §7.1
    const std::string thumb = "bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2";
    for (boost::json::value bad :
         {boost::json::value(boost::json::object{}), boost::json::value("x5t#S256"),
          boost::json::value(boost::json::array{thumb}), boost::json::value(7), boost::json::value(true),
          boost::json::value(nullptr), boost::json::value(boost::json::object{{"x5t#S256", ""}}),
          boost::json::value(boost::json::object{{"x5t#S256", boost::json::array{thumb}}}),
          boost::json::value(boost::json::object{{"x5t#S256", 1}}),
          boost::json::value(boost::json::object{{"x5t#S256", nullptr}})}) {
        auto c = base();
        c["cnf"] = bad;
        EXPECT_EQ(error_of(c), errc::bad_claim_type) << boost::json::serialize(bad);
    }
    // A token bound by DPoP (jkt), by a JWK, or by any method but x5t#S256 is never a bearer token.
    for (const char* method : {"jkt", "jwk", "jku", "kid", "x5t"}) {
        auto c = base();
        c["cnf"] = boost::json::object{{method, thumb}};
        EXPECT_EQ(error_of(c), errc::unsupported_confirmation) << method;
        c["cnf"] = boost::json::object{{"x5t#S256", thumb}, {method, thumb}};
        EXPECT_EQ(error_of(c), errc::unsupported_confirmation) << method << " next to x5t#S256";
    }
    auto c = base();
    c["cnf"] = boost::json::object{{"x5t#S256", thumb}};
    EXPECT_FALSE(error_of(c));
}

TEST_F(Claims, NumericDatesMustBeIntegers) {  // hostile-inputs #67
    for (boost::json::value bad : {boost::json::value("1700000600"), boost::json::value(1700000600.5),
                                   boost::json::value(-1), boost::json::value(std::uint64_t{1} << 60),
                                   boost::json::value(nullptr), boost::json::value(true)}) {
        auto c = base();
        c["exp"] = bad;
        EXPECT_EQ(error_of(c), errc::bad_claim_type) << boost::json::serialize(bad);
    }
    auto c = base();
    c["exp"] = 1700000600.0;  // an integral double is a NumericDate
    EXPECT_FALSE(error_of(c));
}

TEST_F(Claims, WrongIssuerIsRejected) {  // RFC 8725 §3.8
    for (std::string_view iss : {"https://as.example/", "https://AS.example", "http://as.example", ""}) {
        auto c = base();
        c["iss"] = iss;
        EXPECT_EQ(error_of(c), errc::bad_issuer) << iss;
    }
    auto c = base();
    c.erase("iss");
    EXPECT_EQ(error_of(c), errc::missing_claim);
    c["iss"] = 5;
    EXPECT_EQ(error_of(c), errc::bad_claim_type);
}

TEST_F(Claims, WrongAudienceIsRejected) {  // RFC 8725 §3.9, RFC 7519 §4.1.3
    auto c = base();
    c["aud"] = "someone-else";
    EXPECT_EQ(error_of(c), errc::bad_audience);
    c["aud"] = boost::json::array{"x", "y"};
    EXPECT_EQ(error_of(c), errc::bad_audience);
    c["aud"] = boost::json::array{};
    EXPECT_EQ(error_of(c), errc::bad_audience);
    c["aud"] = boost::json::array{"x", "other"};
    EXPECT_FALSE(error_of(c));
    c["aud"] = boost::json::array{"x", 3};
    EXPECT_EQ(error_of(c), errc::bad_claim_type);
    c.erase("aud");
    EXPECT_EQ(error_of(c), errc::missing_claim);
}

TEST_F(Claims, ExpectedTypeForAccessTokens) {  // RFC 9068 §4, RFC 7515 §4.1.9
    policy_.expected_typ = "at+jwt";
    const std::string claims = boost::json::serialize(base());
    for (std::string_view header :
         {R"({"alg":"ES256","typ":"at+jwt"})", R"({"alg":"ES256","typ":"AT+JWT"})",
          R"({"alg":"ES256","typ":"application/at+jwt"})", R"({"alg":"ES256","typ":"Application/At+Jwt"})"}) {
        EXPECT_TRUE(verify(base(), header)) << header;
    }
    for (std::string_view header :
         {R"({"alg":"ES256","typ":"JWT"})", R"({"alg":"ES256"})", R"({"alg":"ES256","typ":"at+jwt2"})",
          R"({"alg":"ES256","typ":"application/"})"}) {
        EXPECT_EQ(verify(base(), header).error(), errc::bad_type) << header;
    }
    EXPECT_EQ(verify(base(), R"({"alg":"ES256","typ":7})").error(), errc::bad_header_type);
}

TEST_F(Claims, RequiredClaimsAndTypes) {
    policy_.required_claims = {"jti", "client_id"};
    auto c = base();
    c["jti"] = "1";
    EXPECT_EQ(error_of(c), errc::missing_claim);
    c["client_id"] = "app";
    EXPECT_FALSE(error_of(c));
    c["sub"] = boost::json::array{"dev1"};
    EXPECT_EQ(error_of(c), errc::bad_claim_type);
}

TEST_F(Claims, PayloadMustBeAJsonObject) {
    verifier v(key_set({test::public_of(test::test_keys::get().es256)}), policy_, clock_);
    const auto& k = test::test_keys::get().es256;
    EXPECT_EQ(v.verify(test::forge(R"({"alg":"ES256"})", "[1,2]", k, algorithm::es256)).error(),
              errc::bad_claims);
    EXPECT_EQ(v.verify(test::forge(R"({"alg":"ES256"})", "not json", k, algorithm::es256)).error(),
              errc::bad_claims);
}

TEST_F(Claims, KidlessTokensTryABoundedNumberOfKeys) {
    key_set many;
    for (int i = 0; i < 6; ++i) {
        many.add(test::public_of(key::generate(algorithm::es256, "k" + std::to_string(i))));
    }
    many.add(test::public_of(test::test_keys::get().es256));  // the right key, 7th
    const std::string token = test::forge(R"({"alg":"ES256"})", boost::json::serialize(base()),
                                          test::test_keys::get().es256, algorithm::es256);
    EXPECT_EQ(verifier(many, policy_, clock_).verify(token).error(), errc::bad_signature);
    policy_.max_keys_without_kid = 7;
    EXPECT_TRUE(verifier(many, policy_, clock_).verify(token));
}

TEST_F(Claims, ErrorMessagesNameTheCheck) {
    EXPECT_EQ(make_error_code(errc::expired).message(), "token has expired (exp)");
    EXPECT_STREQ(make_error_code(errc::bad_audience).category().name(), "tollgate.jose");
    for (int e = 1; e <= static_cast<int>(errc::crypto_failure); ++e) {
        EXPECT_NE(jose_category().message(e), "unknown tollgate.jose error") << e;
    }
}

}  // namespace
}  // namespace tollgate::jose
