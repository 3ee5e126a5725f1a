// Parsers and primitives of the authorization server, without storage.
#include <thread>

#include <gtest/gtest.h>

#include <tollgate/common/clock.hpp>
#include <tollgate/oauth/crypto.hpp>
#include <tollgate/oauth/error.hpp>
#include <tollgate/oauth/events.hpp>
#include <tollgate/oauth/form.hpp>
#include <tollgate/oauth/pages.hpp>
#include <tollgate/oauth/rate_limit.hpp>
#include <tollgate/oauth/redirect_uri.hpp>
#include <tollgate/oauth/scope.hpp>

namespace tollgate::oauth {
namespace {

TEST(form, parses_pairs_plus_and_percent) {
    auto r = parse_form("grant_type=client_credentials&scope=a+b%2Fc&x=");
    ASSERT_EQ(r.error, form_error::none);
    EXPECT_EQ(r.value.get("grant_type"), "client_credentials");
    EXPECT_EQ(r.value.get("scope"), "a b/c");
    EXPECT_FALSE(r.value.has("x")) << "RFC 6749 §3.1: a parameter without a value is omitted";
}

TEST(form, repeated_parameter_is_an_error_rfc6749_3_1) {
    auto r = parse_form("scope=a&grant_type=x&scope=b");
    EXPECT_EQ(r.error, form_error::repeated_parameter);
    EXPECT_EQ(r.offending_name, "scope");
    EXPECT_EQ(parse_form("a=&a=1").error, form_error::repeated_parameter);
    EXPECT_EQ(parse_form("a%3D=1&a%3d=2").error, form_error::repeated_parameter) << "names compare decoded";
}

TEST(form, refuses_bad_encoding_and_limits) {
    EXPECT_EQ(parse_form("a=%zz").error, form_error::bad_encoding);
    EXPECT_EQ(parse_form("a=%4").error, form_error::bad_encoding);
    EXPECT_EQ(parse_form("a=%00").error, form_error::bad_encoding);
    EXPECT_EQ(parse_form("a=%C3%28").error, form_error::bad_encoding) << "invalid UTF-8";
    EXPECT_EQ(parse_form("a=%ED%A0%80").error, form_error::bad_encoding) << "surrogate";
    form_limits tight;
    tight.max_parameters = 2;
    EXPECT_EQ(parse_form("a=1&b=2&c=3", tight).error, form_error::too_many_parameters);
    tight.max_bytes = 4;
    EXPECT_EQ(parse_form("abcde", tight).error, form_error::too_large);
    EXPECT_EQ(parse_form(std::string(200, 'n') + "=1").error, form_error::name_too_long);
    EXPECT_EQ(parse_form("&&&").error, form_error::none);
    EXPECT_EQ(parse_form("").error, form_error::none);
}

TEST(basic_auth, decodes_form_encoded_credentials_rfc6749_2_3_1) {
    // client_id "a:b c" and secret "p+%" encoded then base64.
    const auto header = make_basic_authorization("a:b c", "p+%");
    auto creds = parse_basic_authorization(header);
    ASSERT_TRUE(creds);
    EXPECT_EQ(creds->user, "a:b c");
    EXPECT_EQ(creds->password, "p+%");
    auto lower = parse_basic_authorization("basic " + base64_encode("id:secret"));
    ASSERT_TRUE(lower);
    EXPECT_EQ(lower->user, "id");
    EXPECT_FALSE(parse_basic_authorization("Bearer abc"));
    EXPECT_FALSE(parse_basic_authorization("Basic !!!!"));
    EXPECT_FALSE(parse_basic_authorization("Basic " + base64_encode("nocolon")));
    EXPECT_FALSE(parse_basic_authorization("Basic " + base64_encode(":secret"))) << "empty client_id";
    EXPECT_FALSE(parse_basic_authorization("Basic " + base64_encode("id:%zz")));
    EXPECT_FALSE(parse_basic_authorization("Basic " + std::string(5000, 'A')));
}

TEST(base64, strict_round_trip) {
    for (std::string s : {"", "f", "fo", "foo", "foob", "fooba", "foobar"}) {
        EXPECT_EQ(base64_decode(base64_encode(s)), s);
    }
    EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
    EXPECT_FALSE(base64_decode("Zm9=v"));
    EXPECT_FALSE(base64_decode("Zg"));
    EXPECT_FALSE(base64_decode("Zh=="));  // non-zero unused bits
    EXPECT_FALSE(base64_decode("Zm9v\n"));
}

TEST(pkce, rfc7636_appendix_b_vector) {
    const std::string verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    EXPECT_EQ(pkce_s256_challenge(verifier), "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
    EXPECT_TRUE(pkce_s256_matches(verifier, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"));
    EXPECT_FALSE(pkce_s256_matches(verifier + "x", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"));
    EXPECT_FALSE(is_valid_code_verifier(std::string(42, 'a'))) << "RFC 7636 §4.1: 43..128";
    EXPECT_TRUE(is_valid_code_verifier(std::string(128, 'a')));
    EXPECT_FALSE(is_valid_code_verifier(std::string(129, 'a')));
    EXPECT_FALSE(is_valid_code_verifier(std::string(43, '+')));
    EXPECT_TRUE(is_valid_code_challenge("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"));
    EXPECT_FALSE(is_valid_code_challenge("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-c="));
}

TEST(user_code, rfc8628_6_1_alphabet_and_normalization) {
    for (int i = 0; i < 200; ++i) {
        const auto code = generate_user_code();
        ASSERT_EQ(code.size(), 9u);
        EXPECT_EQ(code[4], '-');
        for (std::size_t k = 0; k < code.size(); ++k) {
            if (k != 4) {
                EXPECT_NE(user_code_alphabet.find(code[k]), std::string_view::npos) << code;
            }
        }
        EXPECT_EQ(normalize_user_code(code).value_or("").size(), 8u);
    }
    EXPECT_EQ(normalize_user_code("wdjb-mjht"), "WDJBMJHT");
    EXPECT_EQ(normalize_user_code(" WDJB MJHT "), "WDJBMJHT");
    EXPECT_FALSE(normalize_user_code("WDJA-MJHT")) << "vowels are not in the alphabet";
    EXPECT_FALSE(normalize_user_code("WDJB-MJH"));
}

TEST(crypto, digest_seal_and_passwords) {
    std::vector<std::uint8_t> master(32, 7);
    server_keys keys(master);
    const auto token = random_token("tg_rt_");
    EXPECT_EQ(token.size(), 6u + 43u) << "256 bits";
    EXPECT_EQ(keys.digest(token).size(), 64u);
    EXPECT_TRUE(keys.matches(token, keys.digest(token)));
    EXPECT_FALSE(keys.matches(token + "x", keys.digest(token)));
    server_keys other(std::vector<std::uint8_t>(32, 8));
    EXPECT_NE(other.digest(token), keys.digest(token));

    const auto box = keys.seal("private key", "kid-1");
    EXPECT_EQ(keys.open(box, "kid-1"), "private key");
    EXPECT_FALSE(keys.open(box, "kid-2")) << "aad binds the box to its kid";
    EXPECT_FALSE(other.open(box, "kid-1"));
    auto tampered = box;
    tampered[tampered.size() / 2] = tampered[tampered.size() / 2] == 'A' ? 'B' : 'A';
    EXPECT_FALSE(keys.open(tampered, "kid-1"));

    const auto phc = hash_password("correct horse");
    EXPECT_EQ(phc.rfind("$argon2id$v=19$m=19456,t=2,p=1$", 0), 0u) << phc;
    EXPECT_TRUE(verify_password("correct horse", phc));
    EXPECT_FALSE(verify_password("wrong horse", phc));
    EXPECT_FALSE(verify_password("x", "$argon2i$garbage"));

    EXPECT_TRUE(keys.csrf_ok(keys.csrf_token("cookie", "login|x"), "cookie", "login|x"));
    EXPECT_FALSE(keys.csrf_ok(keys.csrf_token("cookie", "login|x"), "other", "login|x"));
    EXPECT_FALSE(keys.csrf_ok(keys.csrf_token("cookie", "login|x"), "cookie", "login|y"));
    EXPECT_FALSE(keys.csrf_ok("", "", "login|x"));
}

TEST(scope, parse_subset_and_words) {
    EXPECT_EQ(parse_scope("a b a").value(), (scope_list{"a", "b"}));
    EXPECT_FALSE(parse_scope("a  b")) << "RFC 6749 §3.3: single spaces";
    EXPECT_FALSE(parse_scope(" a"));
    EXPECT_FALSE(parse_scope("a\"b"));
    EXPECT_FALSE(parse_scope("a\\b"));
    EXPECT_TRUE(parse_scope("").value().empty());
    EXPECT_TRUE(scope_subset({"a"}, {"a", "b"}));
    EXPECT_FALSE(scope_subset({"c"}, {"a", "b"}));
    EXPECT_EQ(describe_scope("mqtt:pub:sensors/%23"), "Publish messages to topics matching sensors/#");
    EXPECT_EQ(describe_scope("mqtt:sub:a/+"), "Receive messages from topics matching a/+")
        << "'+' is a wildcard";
}

TEST(redirect_uri, registration_rules_rfc8252_rfc9700) {
    EXPECT_EQ(check_redirect_uri_registration("https://app.example/cb"), "");
    EXPECT_EQ(check_redirect_uri_registration("http://127.0.0.1/cb"), "");
    EXPECT_EQ(check_redirect_uri_registration("http://[::1]:8000/cb"), "");
    EXPECT_EQ(check_redirect_uri_registration("com.example.app:/cb"), "");
    EXPECT_NE(check_redirect_uri_registration("http://app.example/cb"), "") << "RFC 9700 §2.6";
    EXPECT_NE(check_redirect_uri_registration("http://localhost/cb"), "");
    EXPECT_NE(check_redirect_uri_registration("https://app.example/cb#frag"), "");
    EXPECT_NE(check_redirect_uri_registration("/relative"), "");
    EXPECT_NE(check_redirect_uri_registration("myapp:/cb"), "");
}

TEST(redirect_uri, exact_match_refuses_extra_path_query_fragment_rfc9700_4_1_3) {
    const std::vector<std::string> reg{"https://app.example/cb", "http://127.0.0.1/loop"};
    EXPECT_TRUE(redirect_uri_matches("https://app.example/cb", reg));
    EXPECT_FALSE(redirect_uri_matches("https://app.example/cb/extra", reg));
    EXPECT_FALSE(redirect_uri_matches("https://app.example/cb?x=1", reg));
    EXPECT_FALSE(redirect_uri_matches("https://app.example/cb#x", reg));
    EXPECT_FALSE(redirect_uri_matches("https://APP.example/cb", reg));
    EXPECT_FALSE(redirect_uri_matches("https://app.example.evil/cb", reg));
    EXPECT_FALSE(redirect_uri_matches("https://app.example/cb/", reg));
    // RFC 8252 §7.3: loopback port may vary, nothing else.
    EXPECT_TRUE(redirect_uri_matches("http://127.0.0.1:53121/loop", reg));
    EXPECT_FALSE(redirect_uri_matches("http://127.0.0.1:53121/loop2", reg));
    EXPECT_FALSE(redirect_uri_matches("http://127.0.0.1:53121/loop?x", reg));
    EXPECT_FALSE(redirect_uri_matches("http://[::1]:53121/loop", reg));
}

TEST(error, rfc6749_5_2_json_and_invalid_client_401) {
    auto r = to_response(oauth_error{error_code::invalid_client, "bad"});
    EXPECT_EQ(r.status, 401);
    EXPECT_TRUE(r.header("www-authenticate").has_value());
    EXPECT_EQ(r.header("cache-control"), "no-store");
    EXPECT_EQ(r.body, R"({"error":"invalid_client","error_description":"bad"})");
    EXPECT_EQ(to_response(oauth_error{error_code::invalid_grant, ""}).status, 400);
    EXPECT_EQ(to_response(oauth_error{error_code::slow_down, ""}).body, R"({"error":"slow_down"})");
}

TEST(rate_limiter, locks_after_failures_and_unlocks_after_lockout) {
    common::manual_clock clock;
    rate_limiter limiter({3, std::chrono::seconds{60}, std::chrono::seconds{120}, 4}, clock);
    EXPECT_FALSE(limiter.record_failure("u"));
    EXPECT_FALSE(limiter.record_failure("u"));
    EXPECT_TRUE(limiter.record_failure("u"));
    EXPECT_TRUE(limiter.locked("u"));
    limiter.record_success("u");
    EXPECT_TRUE(limiter.locked("u")) << "a success does not lift a lockout";
    clock.advance(std::chrono::seconds{121});
    EXPECT_FALSE(limiter.locked("u"));
    for (int i = 0; i < 10; ++i) {
        limiter.record_failure("k" + std::to_string(i));
    }
    EXPECT_LE(limiter.size(), 4u) << "bounded";
}

TEST(events, publish_reaches_subscribers_until_unsubscribed) {
    revocation_hub hub;
    std::vector<std::string> seen;
    auto sub = hub.subscribe([&](const revocation_event& e) { seen.push_back(e.jti); });
    hub.publish({revocation_kind::access_token, "j1", "", "c", "s", 1, 2});
    EXPECT_EQ(hub.listener_count(), 1u);
    sub.reset();
    hub.publish({revocation_kind::access_token, "j2", "", "c", "s", 1, 2});
    EXPECT_EQ(seen, std::vector<std::string>{"j1"});
    EXPECT_EQ(hub.listener_count(), 0u);
}

TEST(events, listener_may_unsubscribe_itself_and_throwing_listener_does_not_stop_others) {
    revocation_hub hub;
    int calls = 0;
    revocation_hub::subscription self;
    self = hub.subscribe([&](const revocation_event&) {
        ++calls;
        self.reset();
    });
    auto thrower = hub.subscribe([](const revocation_event&) { throw std::runtime_error("x"); });
    int after = 0;
    auto counter = hub.subscribe([&](const revocation_event&) { ++after; });
    hub.publish({});
    hub.publish({});
    EXPECT_EQ(calls, 1);
    EXPECT_EQ(after, 2);
}

TEST(events, concurrent_publish_and_unsubscribe) {
    revocation_hub hub;
    std::atomic<int> calls{0};
    std::atomic<bool> stop{false};
    auto sub = std::make_unique<revocation_hub::subscription>(
        hub.subscribe([&](const revocation_event&) { ++calls; }));
    std::thread publisher([&] {
        while (!stop) {
            hub.publish({});
        }
    });
    while (calls.load() < 100) {
        std::this_thread::yield();
    }
    sub.reset();  // waits for calls in progress
    const int frozen = calls.load();
    for (int i = 0; i < 100; ++i) {
        hub.publish({});
    }
    stop = true;
    publisher.join();
    EXPECT_EQ(calls.load(), frozen) << "no call after the subscription ended";
}

TEST(pages, security_headers_and_escaping) {
    auto r = login_page("<script>", "/login", {{"next", "a\"b"}}, "");
    EXPECT_EQ(r.header("cache-control"), "no-store");
    EXPECT_NE(r.header("content-security-policy").value_or("").find("frame-ancestors 'none'"),
              std::string::npos);
    EXPECT_EQ(r.header("x-frame-options"), "DENY");
    EXPECT_EQ(r.body.find("<script>"), std::string::npos);
    EXPECT_NE(r.body.find("&lt;script&gt;"), std::string::npos);
    EXPECT_NE(r.body.find("value=\"a&quot;b\""), std::string::npos);
    EXPECT_NE(r.body.find("width=device-width"), std::string::npos) << "readable on a phone";
    EXPECT_EQ(r.body.find("http"), std::string::npos) << "no external assets";
}

}  // namespace
}  // namespace tollgate::oauth
