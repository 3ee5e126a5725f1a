// token_authenticator through the real broker: token sources (password, CUSTOM-JWT, OAUTH2-JWT),
// every jose attack replayed through CONNECT, the verified-token cache, client-id and RFC 8705
// certificate binding, reason codes per case.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>

#include <gtest/gtest.h>

#include <tollgate/auth/audit.hpp>
#include <tollgate/jose/base64url.hpp>

#include "token_env.hpp"

namespace tollgate::auth::test {
namespace {

using namespace std::chrono_literals;
using mqtt::protocol_version;
using mqtt::reason_code;

TEST(token_auth, password_token_accepted) {
    auth_fixture a;
    auto& c = a.client();
    EXPECT_EQ(a.connect(c, "dev-1", a.env.token()).reason_code, reason_code::success);
    EXPECT_EQ(a.authn->stats().successes, 1U);
}

TEST(token_auth, no_password_is_bad_user_name_or_password) {
    auth_fixture a;
    auto& c = a.client();
    c.send(c.make_connect("dev-1"));
    EXPECT_EQ(c.expect<mqtt::connack>().reason_code, reason_code::bad_user_name_or_password);
}

TEST(token_auth, required_username_marker) {
    token_auth_config cfg;
    cfg.required_username = "oauth2";
    auth_fixture a(cfg);
    auto& bad = a.client();
    EXPECT_EQ(a.connect(bad, "d1", a.env.token(), "alice").reason_code,
              reason_code::bad_user_name_or_password);
    auto& none = a.client();
    EXPECT_EQ(a.connect(none, "d2", a.env.token()).reason_code, reason_code::bad_user_name_or_password);
    auto& good = a.client();
    EXPECT_EQ(a.connect(good, "d3", a.env.token(), "oauth2").reason_code, reason_code::success);
}

// [MQTT-4.12.0-1]: enhanced authentication; methods as Azure Event Grid names them.
TEST(token_auth, enhanced_authentication_methods) {
    auth_fixture a;
    auto& c1 = a.client();
    auto ack1 = a.connect_enhanced(c1, "d1", a.env.token(), "CUSTOM-JWT");
    EXPECT_EQ(ack1.reason_code, reason_code::success);
    EXPECT_EQ(ack1.properties.authentication_method, "CUSTOM-JWT");
    auto& c2 = a.client();
    EXPECT_EQ(a.connect_enhanced(c2, "d2", a.env.token(), "OAUTH2-JWT").reason_code, reason_code::success);
    auto& c3 = a.client();
    EXPECT_EQ(a.connect_enhanced(c3, "d3", a.env.token(), "SCRAM-SHA-256").reason_code,
              reason_code::bad_authentication_method);
    auto& c4 = a.client();
    EXPECT_EQ(a.connect_enhanced(c4, "d4", "not.a.token", "CUSTOM-JWT").reason_code,
              reason_code::bad_user_name_or_password);
}

std::string unsigned_token(const boost::json::object& header, const boost::json::object& claims) {
    return jose::base64url_encode(boost::json::serialize(header)) + "." +
           jose::base64url_encode(boost::json::serialize(claims)) + ".";
}

/// The attacks of the jose issue (research/hostile-inputs.md), each must get CONNACK 0x86 on
/// MQTT 5 and return code 4 on MQTT 3.1.1 (bad user name or password), no token accepted.
TEST(token_auth, jose_attacks_replayed_through_connect) {
    auth_fixture a;
    auto& env = a.env;
    std::vector<std::pair<std::string, std::string>> attacks;
    auto c = env.claims();
    // RFC 8725 §2.1: alg none in several spellings.
    for (const char* none : {"none", "None", "NONE"}) {
        attacks.emplace_back(std::string("alg ") + none,
                             unsigned_token({{"alg", none}, {"typ", "at+jwt"}, {"kid", "k1"}}, c));
    }
    // Public key -> HS256 confusion: HMAC with the issuer's public key PEM as the secret.
    auto pem = env.key.public_pem().value();
    auto hmac = jose::key::hmac(std::span(reinterpret_cast<const std::uint8_t*>(pem.data()), pem.size()),
                                jose::algorithm::hs256, "k1")
                    .value();
    attacks.emplace_back("public key as HMAC secret (RS/ES->HS confusion)", env.sign(c, &hmac));
    auto expired = env.claims("mqtt:all:#", -60);  // exp 60 s ago, beyond nothing but leeway 30
    attacks.emplace_back("expired", env.sign(expired));
    auto future = env.claims();
    future["nbf"] = a.f.clock.unix_seconds() + 3600;
    attacks.emplace_back("nbf in the future", env.sign(future));
    auto wrong_iss = env.claims();
    wrong_iss["iss"] = "https://evil.example";
    attacks.emplace_back("wrong iss", env.sign(wrong_iss));
    auto wrong_aud = env.claims();
    wrong_aud["aud"] = "urn:other";
    attacks.emplace_back("wrong aud", env.sign(wrong_aud));
    attacks.emplace_back("typ JWT instead of at+jwt", env.sign(c, nullptr, std::string("JWT")));
    attacks.emplace_back("no typ", env.sign(c, nullptr, std::nullopt));
    auto rsa = jose::key::generate(jose::algorithm::rs256, "k1");
    auto rsa_pem = rsa.public_pem().value();
    auto rsa_hmac =
        jose::key::hmac(std::span(reinterpret_cast<const std::uint8_t*>(rsa_pem.data()), rsa_pem.size()),
                        jose::algorithm::hs256, "k1")
            .value();
    attacks.emplace_back("RSA public key as HMAC secret", env.sign(c, &rsa_hmac));
    attacks.emplace_back("right kid, RS256 instead of the pinned ES256", env.sign(c, &rsa));
    auto other = jose::key::generate(jose::algorithm::es256, "k-unknown");
    attacks.emplace_back("unknown kid", env.sign(c, &other));
    auto impostor = jose::key::generate(jose::algorithm::es256, "k1");
    attacks.emplace_back("right kid, wrong key", env.sign(c, &impostor));
    auto es = jose::key::generate(jose::algorithm::eddsa, "k1");
    attacks.emplace_back("alg not allowed for the issuer", env.sign(c, &es));
    auto good = env.token();
    attacks.emplace_back("signature stripped", good.substr(0, good.rfind('.') + 1));
    attacks.emplace_back("payload swapped", good.substr(0, good.find('.') + 1) +
                                                jose::base64url_encode(boost::json::serialize(wrong_aud)) +
                                                good.substr(good.rfind('.')));
    attacks.emplace_back("JWE-shaped", "a.b.c.d.e");
    attacks.emplace_back("garbage", "\xff\xfe\x00garbage");
    for (const auto& [name, token] : attacks) {
        auto& c5 = a.client();
        EXPECT_EQ(a.connect(c5, "dev", token).reason_code, reason_code::bad_user_name_or_password) << name;
        auto& c3 = a.client(protocol_version::v311);
        // v3.1.1 return code 4, which the codec reads back as 0x86.
        EXPECT_EQ(a.connect(c3, "dev", token).reason_code, reason_code::bad_user_name_or_password) << name;
    }
    EXPECT_EQ(a.authn->stats().successes, 0U);
    EXPECT_EQ(a.authn->cache_entries(), 0U);
}

// The largest password MQTT allows (65,535 bytes): by default the broker's pre-CONNECT packet limit
// (64 KiB) refuses the packet before authentication; with a larger limit the authenticator refuses
// the token by size, before any parsing.
TEST(token_auth, password_of_65535_bytes) {
    const std::string huge(65535, 'A');
    {
        auth_fixture a;
        auto& c = a.client();
        auto conn = c.make_connect("d");
        conn.password = bytes_of(huge);
        c.send(conn);
        EXPECT_TRUE(c.closed());
        EXPECT_EQ(a.authn->stats().successes + a.authn->stats().failures, 0U);
    }
    auth_fixture a({}, 128 * 1024);
    for (auto v : {protocol_version::v5, protocol_version::v311}) {
        auto& c = a.client(v);
        EXPECT_EQ(a.connect(c, "d", huge).reason_code, reason_code::bad_user_name_or_password);
    }
    EXPECT_EQ(a.authn->stats().verifications, 0U);
    EXPECT_EQ(a.authn->stats().failures, 2U);
}

TEST(token_auth, leeway_accepts_recently_expired_and_sets_expiry) {
    auth_fixture a;
    auto& c = a.client();
    auto t = a.env.token("mqtt:all:#", -10);  // expired 10 s ago, leeway 30 s
    EXPECT_EQ(a.connect(c, "d", t).reason_code, reason_code::success);
}

// A reconnect with the same token costs no signature check; the cached entry still honours exp.
TEST(token_auth, cache_hit_avoids_reverification_and_honours_exp) {
    auth_fixture a;
    auto t = a.env.token("mqtt:all:#", 60);
    for (int i = 0; i < 5; ++i) {
        auto& c = a.client();
        EXPECT_EQ(a.connect(c, "d" + std::to_string(i), t).reason_code, reason_code::success);
    }
    EXPECT_EQ(a.authn->stats().verifications, 1U);
    EXPECT_EQ(a.authn->stats().cache_hits, 4U);
    EXPECT_EQ(a.authn->cache_entries(), 1U);
    a.f.clock.advance(91s);  // past exp + leeway
    auto& late = a.client();
    EXPECT_EQ(a.connect(late, "late", t).reason_code, reason_code::bad_user_name_or_password);
    EXPECT_EQ(a.authn->stats().verifications, 1U);
    EXPECT_EQ(a.authn->cache_entries(), 0U);
}

TEST(token_auth, cache_is_bounded_lru) {
    token_auth_config cfg;
    cfg.cache_size = 2;
    auth_fixture a(cfg);
    auto t1 = a.env.token();
    auto t2 = a.env.token();
    auto t3 = a.env.token();
    for (const auto* t : {&t1, &t2, &t1, &t3, &t1}) {
        auto& c = a.client();
        EXPECT_EQ(a.connect(c, "d", *t).reason_code, reason_code::success);
    }
    // t1 t2 (cold), t1 (hit), t3 (cold, evicts t2), t1 (hit).
    EXPECT_EQ(a.authn->stats().verifications, 3U);
    EXPECT_EQ(a.authn->stats().cache_hits, 2U);
    EXPECT_EQ(a.authn->cache_entries(), 2U);
}

TEST(token_auth, client_id_bound_to_claim) {
    token_auth_config cfg;
    cfg.binding = client_id_binding::client_id_claim;
    auth_fixture a(cfg);
    auto t = a.env.token();
    auto& wrong = a.client();
    EXPECT_EQ(a.connect(wrong, "someone-else", t).reason_code, reason_code::not_authorized);
    auto& right = a.client();
    EXPECT_EQ(a.connect(right, "app-1", t).reason_code, reason_code::success);
}

TEST(token_auth, client_id_bound_to_configured_claim) {
    token_auth_config cfg;
    cfg.binding = client_id_binding::claim;
    cfg.binding_claim = "device";
    auth_fixture a(cfg);
    auto claims = a.env.claims();
    auto without = a.env.sign(claims);
    claims["device"] = "dev-42";
    auto with = a.env.sign(claims);
    auto& c1 = a.client();
    EXPECT_EQ(a.connect(c1, "dev-42", without).reason_code, reason_code::not_authorized);
    auto& c2 = a.client();
    EXPECT_EQ(a.connect(c2, "dev-42", with).reason_code, reason_code::success);
}

// Two self-signed P-256 certificates (DER, base64url) and the x5t#S256 of the first, computed with
// `openssl x509 -outform DER | openssl dgst -sha256 -binary | basenc --base64url`.
constexpr std::string_view cert1_der_b64 =
    "MIIBgjCCASmgAwIBAgIUVc8AEvJF_TqqWmNtXQDgOPoP0v0wCgYIKoZIzj0EAwIwFjEUMBIGA1UEAwwLYXV0aC10ZXN0LTEwIBcNMjYx"
    "MTI4MTM1MTUxWhgPMjEyNjExMDQxMzUxNTFaMBYxFDASBgNVBAMMC2F1dGgtdGVzdC0xMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE"
    "3XtlQWqbg3NAV4NopM2p-o_3OAlfjVkF5cGxfuf45Q5WJzmk6QN4WkySdfh846134Ck3NMbdhg8iBK4k7Ix-FqNTMFEwHQYDVR0OBBYE"
    "FFlFnWxnmGHZ3NH5CAMauwsYkyVpMB8GA1UdIwQYMBaAFFlFnWxnmGHZ3NH5CAMauwsYkyVpMA8GA1UdEwEB_wQFMAMBAf8wCgYIKoZI"
    "zj0EAwIDRwAwRAIgGgrqhhBSnQnP6ZRer8FOSZDQNM-jnlyJLrOtEBlnDFUCIGfc9BItMYvHt9-ctiqQIxJ-YdVTOPLI1vQ9YcC6-"
    "sPN";
constexpr std::string_view cert1_x5t = "JsxqcIpmkggRPoCEaUOHxpPDCsJVcY1viTUJQIGf8bs";
constexpr std::string_view cert2_der_b64 =
    "MIIBgTCCASmgAwIBAgIUFDPaa9TR9tKSoYVx7bCTLTSUmbUwCgYIKoZIzj0EAwIwFjEUMBIGA1UEAwwLYXV0aC10ZXN0LTIwIBcNMjYx"
    "MTI4MTM1MTUxWhgPMjEyNjExMDQxMzUxNTFaMBYxFDASBgNVBAMMC2F1dGgtdGVzdC0yMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE"
    "fruH-ndBwJmSXgMi0EeVUosfY6DxpkYRtFnZBYw97QemrjCJ3KyuOmhtkNtcX49QVA9-SXLExWzV7epqpmHEIKNTMFEwHQYDVR0OBBYE"
    "FF3B3dipddqmf4zBpuQ56MJp5DvxMB8GA1UdIwQYMBaAFF3B3dipddqmf4zBpuQ56MJp5DvxMA8GA1UdEwEB_wQFMAMBAf8wCgYIKoZI"
    "zj0EAwIDRgAwQwIfUQeni1EMNS0F6U-kQJ3sKy-xICgJIpXI3QFR-7gSKgIgZuFyGouG64t_mrEI4fGwLXBm7Fr0Fxo4BXGLoa7NOzA";

broker::auth_result run(token_authenticator& authn, const std::string& token,
                        const broker::connection_info* info) {
    broker::auth_request r;
    r.client_id = "d";
    r.password = bytes_of(token);
    r.connection = info;
    broker::auth_result out;
    int calls = 0;
    authn.authenticate(std::move(r), [&](broker::auth_result x) {
        out = std::move(x);
        ++calls;
    });
    EXPECT_EQ(calls, 1);
    return out;
}

// RFC 8705 §3: a certificate-bound token is accepted only over a TLS connection whose client
// certificate has the thumbprint in cnf.x5t#S256.
TEST(token_auth, rfc8705_certificate_bound_token) {
    common::manual_clock clock;
    token_env env(clock);
    token_auth_config cfg;
    cfg.issuers.push_back(env.config());
    token_authenticator authn(cfg, clock);
    auto claims = env.claims();
    claims["cnf"] = boost::json::object{{"x5t#S256", cert1_x5t}};
    auto bound = env.sign(claims);

    broker::connection_info tls;
    tls.transport = "tls";
    auto der1 = jose::base64url_decode(cert1_der_b64).value();
    tls.client_certificate_der = common::shared_bytes::copy_of(der1);
    auto ok = run(authn, bound, &tls);
    EXPECT_EQ(ok.result, broker::auth_result::outcome::success);

    broker::connection_info other = tls;
    other.client_certificate_der =
        common::shared_bytes::copy_of(jose::base64url_decode(cert2_der_b64).value());
    auto wrong = run(authn, bound, &other);
    EXPECT_EQ(wrong.result, broker::auth_result::outcome::failure);
    EXPECT_EQ(wrong.reason, reason_code::not_authorized);

    broker::connection_info plain;
    auto none = run(authn, bound, &plain);
    EXPECT_EQ(none.reason, reason_code::not_authorized);
    EXPECT_EQ(authn.stats().verifications, 1U);  // the binding is checked per connection, on cache hits too
}

TEST(token_auth, principal_carries_jti_never_the_token) {
    common::manual_clock clock;
    token_env env(clock);
    token_auth_config cfg;
    cfg.issuers.push_back(env.config());
    token_authenticator authn(cfg, clock);
    auto claims = env.claims("mqtt:pub:x", 120);
    const std::string jti(claims["jti"].as_string());
    auto token = env.sign(claims);
    auto r = run(authn, token, nullptr);
    ASSERT_TRUE(r.who);
    EXPECT_EQ(r.who->token_id, jti);
    EXPECT_EQ(r.who->subject, "alice");
    EXPECT_EQ(r.who->issuer, issuer);
    EXPECT_EQ(r.who->expiry_reason_string, "token expired");
    EXPECT_EQ(*r.who->expires_at, common::system_time(std::chrono::seconds(clock.unix_seconds() + 120 + 30)));
    const auto* ctx = context_of(*r.who);
    ASSERT_NE(ctx, nullptr);
    EXPECT_EQ(ctx->token_client_id, "app-1");
    EXPECT_EQ(ctx->permissions.grants().size(), 1U);
    EXPECT_EQ(r.who->token_id.find(token), std::string::npos);
    broker::principal foreign;  // a principal from another authenticator has no token context
    foreign.context = std::make_shared<int>(7);
    EXPECT_EQ(context_of(foreign), nullptr);
}

/// Key rotation at the issuer: an unknown kid triggers one (rate-limited) refresh of the key source.
TEST(token_auth, unknown_kid_refreshes_keys_rate_limited) {
    common::manual_clock clock;
    token_env env(clock);
    auto current = std::make_shared<const jose::key_set>(std::vector<jose::key>{env.key});
    int reloads = 0;
    auto next = jose::key::generate(jose::algorithm::es256, "k2");
    auto source = std::make_shared<function_key_source>(
        [&] { return current; },
        [&] {
            ++reloads;
            current = std::make_shared<const jose::key_set>(std::vector<jose::key>{env.key, next});
        });
    token_auth_config cfg;
    auto ic = env.config();
    ic.keys = source;
    cfg.issuers.push_back(ic);
    token_authenticator authn(cfg, clock);
    auto stranger = jose::key::generate(jose::algorithm::es256, "k3");
    EXPECT_EQ(run(authn, env.sign(env.claims(), &stranger), nullptr).result,
              broker::auth_result::outcome::failure);
    EXPECT_EQ(reloads, 1);
    EXPECT_EQ(run(authn, env.sign(env.claims(), &next), nullptr).result,
              broker::auth_result::outcome::success);
    EXPECT_EQ(run(authn, env.sign(env.claims(), &stranger), nullptr).result,
              broker::auth_result::outcome::failure);
    EXPECT_EQ(reloads, 1);  // within the interval: no second refresh
    clock.advance(11s);
    EXPECT_EQ(run(authn, env.sign(env.claims(), &stranger), nullptr).result,
              broker::auth_result::outcome::failure);
    EXPECT_EQ(reloads, 2);
}

/// A key source that refreshes asynchronously and finishes when the test says so (like a JWKS fetch
/// in flight; remote_keys_test checks the same against the real remote_key_source over HTTPS).
class deferred_key_source final : public key_source {
  public:
    explicit deferred_key_source(std::vector<jose::key> keys)
        : keys_(std::make_shared<const jose::key_set>(std::move(keys))) {}
    std::shared_ptr<const jose::key_set> current() override {
        std::lock_guard lock(mutex_);
        return keys_;
    }
    bool refresh_async(std::function<void()> done) override {
        std::lock_guard lock(mutex_);
        ++started;
        waiters_.push_back(std::move(done));
        return true;
    }
    /// The fetch ends: publishes `keys` and answers every waiter.
    void complete(std::vector<jose::key> keys) {
        std::vector<std::function<void()>> ready;
        {
            std::lock_guard lock(mutex_);
            keys_ = std::make_shared<const jose::key_set>(std::move(keys));
            ready.swap(waiters_);
        }
        for (auto& done : ready) {
            done();
        }
    }
    int started = 0;

  private:
    std::mutex mutex_;
    std::shared_ptr<const jose::key_set> keys_;
    std::vector<std::function<void()>> waiters_;
};

/// Issue 5: the token revealing a new kid waits for the asynchronous refresh instead of being
/// refused; unknown kids arriving meanwhile join it (bounded); outside it they are refused at once.
TEST(token_auth, unknown_kid_waits_for_an_asynchronous_refresh_and_joins_it) {
    common::manual_clock clock;
    token_env env(clock);
    const auto k1 = env.key.with_options({"k1", jose::algorithm::es256, "sig"});
    auto next = jose::key::generate(jose::algorithm::es256, "k2");
    auto source = std::make_shared<deferred_key_source>(std::vector<jose::key>{k1});
    token_auth_config cfg;
    cfg.max_unknown_kid_waiters = 3;
    auto ic = env.config();
    ic.keys = source;
    cfg.issuers.push_back(ic);
    token_authenticator authn(cfg, clock);
    auto stranger = jose::key::generate(jose::algorithm::es256, "k3");

    std::vector<broker::auth_result> verdicts;
    auto submit = [&](const std::string& token) {
        broker::auth_request r;
        r.client_id = "d";
        r.password = bytes_of(token);
        authn.authenticate(std::move(r), [&](broker::auth_result x) { verdicts.push_back(std::move(x)); });
    };
    submit(env.sign(env.claims(), &next));      // starts the refresh, waits
    submit(env.sign(env.claims(), &next));      // joins it
    submit(env.sign(env.claims(), &stranger));  // joins it too (third waiter)
    EXPECT_TRUE(verdicts.empty());
    EXPECT_EQ(source->started, 1);
    submit(env.sign(env.claims(), &stranger));  // beyond max_unknown_kid_waiters: refused at once
    ASSERT_EQ(verdicts.size(), 1U);
    EXPECT_EQ(verdicts[0].reason, reason_code::bad_user_name_or_password);
    submit(env.token());  // a known kid never waits
    ASSERT_EQ(verdicts.size(), 2U);
    EXPECT_EQ(verdicts[1].result, broker::auth_result::outcome::success);

    source->complete({k1, next});
    ASSERT_EQ(verdicts.size(), 5U);
    EXPECT_EQ(verdicts[2].result, broker::auth_result::outcome::success);
    EXPECT_EQ(verdicts[3].result, broker::auth_result::outcome::success);
    EXPECT_EQ(verdicts[4].result, broker::auth_result::outcome::failure);  // still unknown after it
    EXPECT_EQ(verdicts[4].reason, reason_code::bad_user_name_or_password);

    submit(env.sign(env.claims(), &stranger));  // within the window, none in flight: at once
    ASSERT_EQ(verdicts.size(), 6U);
    EXPECT_EQ(verdicts[5].result, broker::auth_result::outcome::failure);
    EXPECT_EQ(source->started, 1);
    EXPECT_EQ(authn.stats().key_refreshes, 1U);
    clock.advance(11s);
    submit(env.sign(env.claims(), &stranger));  // a new window: one more refresh
    EXPECT_EQ(source->started, 2);
    EXPECT_EQ(verdicts.size(), 6U);
    source->complete({k1, next});
    ASSERT_EQ(verdicts.size(), 7U);
    EXPECT_EQ(verdicts[6].result, broker::auth_result::outcome::failure);
}

TEST(token_auth, several_issuers_selected_by_iss) {
    common::manual_clock clock;
    token_env env(clock);
    token_env second(clock);
    token_auth_config cfg;
    cfg.issuers.push_back(env.config());
    auto ic2 = second.config();
    ic2.issuer = "https://other.example";
    cfg.issuers.push_back(ic2);
    token_authenticator authn(cfg, clock);
    auto c2 = second.claims();
    c2["iss"] = "https://other.example";
    EXPECT_EQ(run(authn, second.sign(c2), nullptr).result, broker::auth_result::outcome::success);
    EXPECT_EQ(run(authn, env.token(), nullptr).result, broker::auth_result::outcome::success);
    // Signed by the second issuer's key but claiming the first issuer: the first's keys refuse it.
    EXPECT_EQ(run(authn, second.sign(second.claims()), nullptr).result,
              broker::auth_result::outcome::failure);
}

TEST(token_auth, offloaded_verification_calls_done_once) {
    common::manual_clock clock;
    token_env env(clock);
    token_auth_config cfg;
    cfg.issuers.push_back(env.config());
    std::vector<std::function<void()>> queued;
    cfg.offload = [&](std::function<void()> fn) { queued.push_back(std::move(fn)); };
    token_authenticator authn(cfg, clock);
    broker::auth_request r;
    r.client_id = "d";
    r.password = bytes_of(env.token());
    int calls = 0;
    broker::auth_result out;
    authn.authenticate(std::move(r), [&](broker::auth_result x) {
        out = std::move(x);
        ++calls;
    });
    EXPECT_EQ(calls, 0);
    ASSERT_EQ(queued.size(), 1U);
    queued.front()();
    EXPECT_EQ(calls, 1);
    EXPECT_EQ(out.result, broker::auth_result::outcome::success);
}

// Every refusal names its failed check in auth_result::detail (never sent to the client), and the
// audit decorator writes it as "detail" in the failed authentication's line, escaped, without the
// token.
TEST(token_auth, refusal_detail_names_the_check_and_reaches_the_audit_line) {
    common::manual_clock clock;
    token_env env(clock);
    token_auth_config cfg;
    cfg.issuers.push_back(env.config());
    cfg.binding = client_id_binding::client_id_claim;
    token_authenticator authn(cfg, clock);
    char tmpl[] = "/tmp/tollgate-authn-audit-XXXXXX";
    const std::string dir = ::mkdtemp(tmpl);
    const std::string file = dir + "/audit.jsonl";
    auto log = std::make_shared<audit_log>(audit_options{file}, clock);
    audited_authenticator audited(authn, log);
    auto attempt = [&](const std::string& token, const std::string& client_id) {
        broker::auth_request r;
        r.client_id = client_id;
        r.password = bytes_of(token);
        broker::auth_result out;
        audited.authenticate(std::move(r), [&](broker::auth_result x) { out = std::move(x); });
        return out;
    };
    const auto good = env.token();
    const auto other = jose::key::generate(jose::algorithm::es256, "k1");  // same kid, another key
    const auto forged = env.sign(env.claims(), &other);
    const auto expired = env.token("mqtt:all:#", -120);
    auto revoked_claims = env.claims();
    const std::string revoked_jti(revoked_claims["jti"].as_string());
    const auto revoked = env.sign(revoked_claims);
    authn.revoke(revocation{revocation::kind::access_token, std::string(issuer), revoked_jti, 0, 0});
    struct expectation {
        std::string token;
        std::string client_id;
        std::string detail;
    };
    const std::vector<expectation> cases{
        {forged, "app-1", "signature is invalid"},
        {expired, "app-1", "token has expired (exp)"},
        {revoked, "app-1", "token revoked"},
        {good, "someone-else", "client id not bound to the token"},
        {"", "app-1", "no token"},
        {"not-a-jwt", "app-1", "token is not a compact JWS (header.payload.signature)"},
    };
    for (const auto& c : cases) {
        const auto r = attempt(c.token, c.client_id);
        EXPECT_EQ(r.result, broker::auth_result::outcome::failure) << c.detail;
        EXPECT_EQ(r.detail, c.detail);
        EXPECT_EQ(r.reason_string.find(c.detail), std::string::npos);  // the client sees no detail
    }
    EXPECT_EQ(attempt(good, "app-1").result, broker::auth_result::outcome::success);
    log->flush();
    std::ifstream in(file);
    std::vector<boost::json::object> lines;
    std::string all;
    for (std::string line; std::getline(in, line);) {
        all += line + "\n";
        lines.push_back(boost::json::parse(line).as_object());
    }
    ASSERT_EQ(lines.size(), cases.size() + 1);
    for (std::size_t i = 0; i < cases.size(); ++i) {
        EXPECT_EQ(lines[i].at("outcome"), "failure");
        EXPECT_EQ(lines[i].at("detail"), boost::json::value(cases[i].detail));
    }
    EXPECT_FALSE(lines.back().contains("detail"));  // success: no failed check
    for (const auto* secret : {&good, &forged, &expired, &revoked}) {
        EXPECT_EQ(all.find(*secret), std::string::npos);
        EXPECT_EQ(all.find(secret->substr(secret->rfind('.') + 1)), std::string::npos);
    }
    log.reset();
    std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace tollgate::auth::test
