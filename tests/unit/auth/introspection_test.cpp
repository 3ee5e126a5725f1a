// RFC 7662 introspection: the strict response parser, the client-authenticated request, opaque
// tokens accepted through introspection alone (through the real broker), the introspection cache,
// and the periodic re-check of live sessions by introspection_monitor (one check per interval, an
// inactive verdict ends the session, fail closed after the grace). The transport is a scripted
// in-process responder (the real HTTP client is exercised by tests/integration/auth/introspection_test.py).
#include <deque>
#include <map>

#include <gtest/gtest.h>
#include <spdlog/sinks/ringbuffer_sink.h>

#include <tollgate/auth/introspection.hpp>
#include <tollgate/auth/introspection_monitor.hpp>
#include <tollgate/common/log.hpp>
#include <tollgate/common/secret.hpp>

#include "token_env.hpp"

namespace tollgate::auth::test {
namespace {

using namespace std::chrono_literals;
using broker::test::make_publish;
using mqtt::reason_code;
using verdict = introspection_result::verdict;

constexpr std::string_view endpoint = "https://as.example/introspect";
constexpr std::string_view client_secret = "s3cr:t/+ very-secret";

http_response json_response(const std::string& body, int status = 200) {
    http_response r;
    r.status = status;
    r.content_type = "application/json; charset=utf-8";
    r.body = body;
    return r;
}

// ---------------------------------------------------------------------------------------------
// The response parser (RFC 7662 §2.2: "active" REQUIRED boolean; the other members OPTIONAL).

TEST(introspection_parse, active_response_with_every_member) {
    auto r = parse_introspection_response(json_response(
        R"({"active":true,"exp":1700000300,"iat":1700000000,"nbf":1700000000,"sub":"alice","client_id":"app-1",)"
        R"("scope":"mqtt:pub:a/#  mqtt:sub:b","iss":"https://as.example","aud":["x","urn:tollgate:broker"],)"
        R"("token_type":"Bearer","username":"al","jti":"j1","device":"d7"})"));
    ASSERT_EQ(r.state, verdict::active) << r.error;
    EXPECT_EQ(r.exp, 1700000300);
    EXPECT_EQ(r.iat, 1700000000);
    EXPECT_EQ(r.nbf, 1700000000);
    EXPECT_EQ(r.sub, "alice");
    EXPECT_EQ(r.client_id, "app-1");
    EXPECT_EQ(r.scopes, (std::vector<std::string>{"mqtt:pub:a/#", "mqtt:sub:b"}));
    EXPECT_EQ(r.iss, "https://as.example");
    EXPECT_EQ(r.aud, (std::vector<std::string>{"x", "urn:tollgate:broker"}));
    EXPECT_EQ(r.token_type, "Bearer");
    EXPECT_EQ(r.username, "al");
    EXPECT_EQ(r.jti, "j1");
    EXPECT_EQ(r.claims.at("device").as_string(), "d7");
}

TEST(introspection_parse, active_false_and_unusable_bodies_are_inactive) {
    for (const char* body :
         {R"({"active":false})", R"({"active":"true"})", R"({"active":1})", R"({})", "[true]", "not json",
          R"({"active":true,"exp":"soon"})", R"({"active":true,"sub":7})", R"({"active":true,"scope":["a"]})",
          R"({"active":true,"aud":[1]})",
          R"({"active":true,"active":true})",  // duplicate member (RFC 8725 §3.7 spirit)
          R"({"active":true} trailing)", R"({"active":true,"exp":1e300})"}) {
        EXPECT_EQ(parse_introspection_response(json_response(body)).state, verdict::inactive) << body;
    }
    auto wrong_type = json_response(R"({"active":true})");
    wrong_type.content_type = "text/html";
    EXPECT_EQ(parse_introspection_response(wrong_type).state, verdict::inactive);
}

TEST(introspection_parse, limits) {
    introspection_limits l;
    l.max_body_bytes = 64;
    EXPECT_EQ(parse_introspection_response(
                  json_response(R"({"active":true,"x":")" + std::string(80, 'a') + "\"}"), l)
                  .state,
              verdict::inactive);
    introspection_limits s;
    s.max_scopes = 2;
    EXPECT_EQ(parse_introspection_response(json_response(R"({"active":true,"scope":"a b"})"), s).state,
              verdict::active);
    EXPECT_EQ(parse_introspection_response(json_response(R"({"active":true,"scope":"a b c"})"), s).state,
              verdict::inactive);
    std::string deep(40, '[');
    EXPECT_EQ(parse_introspection_response(json_response(R"({"active":true,"x":)" + deep)).state,
              verdict::inactive);
}

TEST(introspection_parse, no_answer_is_unavailable_not_inactive) {
    http_response transport;
    transport.error = "connection refused";
    EXPECT_EQ(parse_introspection_response(transport).state, verdict::unavailable);
    EXPECT_EQ(parse_introspection_response(json_response(R"({"error":"invalid_client"})", 401)).state,
              verdict::unavailable);
    EXPECT_EQ(parse_introspection_response(json_response("", 503)).state, verdict::unavailable);
}

TEST(introspection_parse, expectations) {
    introspection_expectations e;
    e.issuer = "https://as.example";
    e.audiences = {"urn:tollgate:broker"};
    e.leeway = 30s;
    e.require_exp = true;
    auto ok = parse_introspection_response(
        json_response(R"({"active":true,"exp":1000,"iss":"https://as.example"})"));
    EXPECT_EQ(check_introspected(ok, e, 900), std::nullopt);
    EXPECT_EQ(check_introspected(ok, e, 1029), std::nullopt);  // within the leeway
    EXPECT_TRUE(check_introspected(ok, e, 1030));
    auto other_iss =
        parse_introspection_response(json_response(R"({"active":true,"exp":1000,"iss":"https://evil"})"));
    EXPECT_TRUE(check_introspected(other_iss, e, 900));
    auto other_aud =
        parse_introspection_response(json_response(R"({"active":true,"exp":1000,"aud":"urn:other"})"));
    EXPECT_TRUE(check_introspected(other_aud, e, 900));
    auto no_exp = parse_introspection_response(json_response(R"({"active":true})"));
    EXPECT_TRUE(check_introspected(no_exp, e, 900));
    e.require_exp = false;
    EXPECT_EQ(check_introspected(no_exp, e, 900), std::nullopt);
    auto refresh =
        parse_introspection_response(json_response(R"({"active":true,"token_type":"refresh_token"})"));
    EXPECT_TRUE(check_introspected(refresh, e, 900));  // a refresh token is not an access token
    auto early = parse_introspection_response(json_response(R"({"active":true,"nbf":1000})"));
    EXPECT_TRUE(check_introspected(early, e, 900));
}

// RFC 6749 §2.3.1: client id and secret form-urlencoded, then Basic (RFC 7617).
TEST(introspection_request, form_encoding_and_basic_credentials) {
    EXPECT_EQ(form_urlencode("a b+c/d:e~f*g-h.i_j%"), "a+b%2Bc%2Fd%3Ae%7Ef*g-h.i_j%25");
    EXPECT_EQ(form_urlencode("caf\xC3\xA9"), "caf%C3%A9");
    // base64("my+client:s3cr%3At%2F%2B") computed independently.
    EXPECT_EQ(basic_authorization("my client", "s3cr:t/+"), "Basic bXkrY2xpZW50OnMzY3IlM0F0JTJGJTJC");
    EXPECT_EQ(basic_authorization("a", "b"), "Basic YTpi");  // padding
}

http_fetch client_fetch(std::vector<http_request>& seen) {
    return [&seen](http_request r, std::function<void(http_response)> done) {
        seen.push_back(std::move(r));
        done(json_response(R"({"active":false})"));
    };
}

TEST(introspection_request, post_with_client_authentication) {
    std::vector<http_request> seen;
    introspection_client client({std::string(endpoint), {}, "tollgate", "pw", {}}, client_fetch(seen));
    std::optional<introspection_result> got;
    client.introspect("tok en&=", [&got](introspection_result r) { got = std::move(r); });
    ASSERT_EQ(seen.size(), 1U);
    EXPECT_EQ(seen[0].method, "POST");
    EXPECT_EQ(seen[0].url, endpoint);
    EXPECT_EQ(seen[0].body, "token=tok+en%26%3D&token_type_hint=access_token");  // RFC 7662 §2.1
    auto header = [&](std::string_view name) {
        for (const auto& [k, v] : seen[0].headers) {
            if (k == name) {
                return v;
            }
        }
        return std::string{};
    };
    EXPECT_EQ(header("Content-Type"), "application/x-www-form-urlencoded");
    EXPECT_EQ(header("Authorization"), basic_authorization("tollgate", "pw"));
    ASSERT_TRUE(got);
    EXPECT_EQ(got->state, verdict::inactive);
    EXPECT_EQ(client.requests(), 1U);
    EXPECT_THROW(
        introspection_client(introspection_client_config{"", {}, "id", "pw", {}}, client_fetch(seen)),
        std::invalid_argument);
    EXPECT_THROW(introspection_client(introspection_client_config{std::string(endpoint), {}, "id", "pw", {}},
                                      http_fetch{}),
                 std::invalid_argument);
}

TEST(introspection_request, endpoint_from_discovery_metadata) {
    std::vector<http_request> seen;
    std::string discovered;  // the metadata has not arrived yet
    introspection_client client({"", [&discovered] { return discovered; }, "tollgate", "pw", {}},
                                client_fetch(seen));
    std::optional<introspection_result> got;
    client.introspect("t", [&got](introspection_result r) { got = std::move(r); });
    ASSERT_TRUE(got);
    EXPECT_EQ(got->state, verdict::unavailable);  // no verdict, not inactive
    EXPECT_TRUE(seen.empty());
    discovered = "https://as.example/token/introspection";
    client.introspect("t", [&got](introspection_result r) { got = std::move(r); });
    ASSERT_EQ(seen.size(), 1U);
    EXPECT_EQ(seen[0].url, discovered);
}

// ---------------------------------------------------------------------------------------------
// The broker with an introspecting issuer.

/// An introspection endpoint in process: answers from a table of tokens, inline or (deferred) when
/// the test says so, or fails like an unreachable server.
struct scripted_endpoint {
    std::map<std::string, std::string> answers;  ///< token -> JSON body; unknown: {"active":false}
    bool deferred = false;
    bool unreachable = false;
    std::vector<http_request> requests;
    std::deque<std::pair<std::string, std::function<void(http_response)>>> pending;

    static std::string token_of(const http_request& r) {
        const auto start = r.body.find("token=") + 6;
        return r.body.substr(start, r.body.find('&') - start);  // test tokens need no decoding
    }
    http_response answer(const std::string& token) const {
        if (unreachable) {
            http_response r;
            r.error = "connection refused";
            return r;
        }
        auto it = answers.find(token);
        return json_response(it == answers.end() ? R"({"active":false})" : it->second);
    }
    http_fetch fetch() {
        return [this](http_request r, std::function<void(http_response)> done) {
            auto token = token_of(r);
            requests.push_back(std::move(r));
            if (deferred) {
                pending.emplace_back(std::move(token), std::move(done));
            } else {
                done(answer(token));
            }
        };
    }
    /// Answers every pending request (as the issuer's state is now).
    void answer_pending() {
        while (!pending.empty()) {
            auto [token, done] = std::move(pending.front());
            pending.pop_front();
            done(answer(token));
        }
    }
};

struct introspect_fixture {
    explicit introspect_fixture(bool opaque = true, std::chrono::seconds interval = 10s,
                                std::chrono::seconds grace = 5s)
        : env(f.clock) {
        token_auth_config cfg;
        auto ic = env.config();
        ic.introspection = std::make_shared<introspection_client>(
            introspection_client_config{
                std::string(endpoint), {}, "tollgate", std::string(client_secret), {}},
            idp.fetch());
        ic.opaque_tokens = opaque;
        ic.recheck.interval = interval;
        ic.recheck.grace = grace;
        ic.recheck.retry = 2s;
        cfg.issuers.push_back(std::move(ic));
        cfg.audience = std::string(audience);
        cfg.on_inactive = monitor.inactive_handler();  // as auth_wiring does
        authn = std::make_unique<token_authenticator>(std::move(cfg), f.clock);
        f.start(&monitor, authn.get());
        monitor.attach(*f.b);
    }
    ~introspect_fixture() { monitor.detach(); }

    /// An opaque token the endpoint knows as active with these scopes.
    std::string opaque(const std::string& scope = "mqtt:all:#", std::int64_t ttl = 300) {
        const std::string token = "opaque" + std::to_string(++serial);
        boost::json::object o = env.claims(scope, ttl);
        o.erase("aud");
        o["active"] = true;
        o["token_type"] = "Bearer";
        idp.answers[token] = boost::json::serialize(o);
        return token;
    }
    /// The issuer now says the token is not active (revoked).
    void revoke_at_issuer(const std::string& token) { idp.answers[token] = R"({"active":false})"; }

    mqtt::connack connect(broker::test::test_client& c, const std::string& id, const std::string& token) {
        auto conn = c.make_connect(id);
        conn.password = bytes_of(token);
        c.send(conn);
        f.settle();
        return c.expect<mqtt::connack>();
    }
    /// PUBLISH QoS 1; the PUBACK's reason, "no matching subscribers" (0x10: accepted) as success.
    static reason_code puback(broker::test::test_client& c, const std::string& topic, std::uint16_t id) {
        c.send(make_publish(topic, "x", 1, id));
        const auto code = c.expect<mqtt::puback>().reason_code;
        return code == reason_code::no_matching_subscribers ? reason_code::success : code;
    }

    broker::test::broker_fixture f;
    token_env env;
    scripted_endpoint idp;
    std::unique_ptr<token_authenticator> authn;
    scope_authorizer scopes;
    introspection_monitor monitor{scopes, f.clock};
    int serial = 0;
};

TEST(opaque_token, accepted_through_introspection_with_its_scopes) {
    introspect_fixture x;
    auto& c = x.f.client(0);
    ASSERT_EQ(x.connect(c, "dev-1", x.opaque("mqtt:pub:devices/{client_id}/#")).reason_code,
              reason_code::success);
    EXPECT_EQ(x.idp.requests.size(), 1U);
    EXPECT_EQ(x.authn->stats().introspections, 1U);
    EXPECT_EQ(x.puback(c, "devices/dev-1/up", 1), reason_code::success);
    EXPECT_EQ(x.puback(c, "devices/dev-2/up", 2), reason_code::not_authorized);
}

TEST(opaque_token, refused_when_inactive_foreign_or_unusable) {
    introspect_fixture x;
    auto refused = [&x](const std::string& token) {
        auto& c = x.f.client(0);
        return x.connect(c, "dev", token).reason_code == reason_code::bad_user_name_or_password;
    };
    EXPECT_TRUE(refused("unknowntoken"));  // active:false
    auto t = x.opaque();
    auto other_iss = boost::json::parse(x.idp.answers[t]).as_object();
    other_iss["iss"] = "https://evil.example";
    x.idp.answers["otheriss"] = boost::json::serialize(other_iss);
    EXPECT_TRUE(refused("otheriss"));
    auto other_aud = other_iss;
    other_aud["iss"] = issuer;
    other_aud["aud"] = "urn:someone-else";
    x.idp.answers["otheraud"] = boost::json::serialize(other_aud);
    EXPECT_TRUE(refused("otheraud"));
    auto no_exp = other_aud;
    no_exp.erase("aud");
    no_exp.erase("exp");
    x.idp.answers["noexp"] = boost::json::serialize(no_exp);
    EXPECT_TRUE(refused("noexp"));
    auto refresh = other_aud;
    refresh.erase("aud");
    refresh["token_type"] = "refresh_token";
    x.idp.answers["refresh"] = boost::json::serialize(refresh);
    EXPECT_TRUE(refused("refresh"));
    auto expired = boost::json::parse(x.idp.answers[x.opaque("mqtt:all:#", -60)]).as_object();
    x.idp.answers["expired"] = boost::json::serialize(expired);
    EXPECT_TRUE(refused("expired"));
    x.idp.unreachable = true;
    EXPECT_TRUE(refused(t));  // no verdict at all: refused
    auto& ok = x.f.client(0);
    x.idp.unreachable = false;
    EXPECT_EQ(x.connect(ok, "dev-ok", t).reason_code, reason_code::success);
}

TEST(opaque_token, asynchronous_answer_keeps_the_connect_pending) {
    introspect_fixture x;
    x.idp.deferred = true;
    auto& c = x.f.client(0);
    auto conn = c.make_connect("dev-1");
    conn.password = bytes_of(x.opaque());
    c.send(conn);
    EXPECT_TRUE(c.inbox_empty());  // no CONNACK before the endpoint answers
    x.idp.answer_pending();
    x.f.settle();
    EXPECT_EQ(c.expect<mqtt::connack>().reason_code, reason_code::success);
}

TEST(opaque_token, cached_until_the_recheck_interval) {
    introspect_fixture x;
    const auto t = x.opaque();
    auto& c1 = x.f.client(0);
    ASSERT_EQ(x.connect(c1, "d1", t).reason_code, reason_code::success);
    auto& c2 = x.f.client(1);
    ASSERT_EQ(x.connect(c2, "d2", t).reason_code, reason_code::success);
    EXPECT_EQ(x.idp.requests.size(), 1U);  // the second CONNECT used the cached answer
    EXPECT_EQ(x.authn->stats().cache_hits, 1U);
    x.f.clock.advance(10s);  // min(exp, fetched + recheck_interval) passed
    auto& c3 = x.f.client(0);
    ASSERT_EQ(x.connect(c3, "d3", t).reason_code, reason_code::success);
    EXPECT_EQ(x.idp.requests.size(), 2U);
}

TEST(opaque_token, jwt_still_verified_locally) {
    introspect_fixture x;
    auto& c = x.f.client(0);
    ASSERT_EQ(x.connect(c, "d1", x.env.token()).reason_code, reason_code::success);
    EXPECT_EQ(x.idp.requests.size(), 0U);
    EXPECT_EQ(x.authn->stats().verifications, 1U);
}

TEST(opaque_token, issuer_configuration_errors) {
    common::manual_clock clock;
    token_env env(clock);
    token_auth_config no_client;
    auto ic = env.config();
    ic.opaque_tokens = true;
    no_client.issuers.push_back(ic);
    EXPECT_THROW(token_authenticator(no_client, clock), std::invalid_argument);
    scripted_endpoint idp;
    ic.introspection = std::make_shared<introspection_client>(
        introspection_client_config{std::string(endpoint), {}, "tollgate", "pw", {}}, idp.fetch());
    ic.keys = nullptr;  // opaque only: no keys needed
    token_auth_config two;
    two.issuers.push_back(ic);
    EXPECT_NO_THROW(token_authenticator(two, clock));
    ic.issuer = "https://other.example";
    two.issuers.push_back(ic);
    EXPECT_THROW(token_authenticator(two, clock), std::invalid_argument);  // only one opaque issuer
}

// The issue: "a busy client costs one check per interval, not one per message".
TEST(session_recheck, triggered_by_publish_once_per_interval) {
    introspect_fixture x;
    x.idp.deferred = true;
    auto& c = x.f.client(0);
    const auto t = x.opaque();
    auto conn = c.make_connect("dev-1");
    conn.password = bytes_of(t);
    c.send(conn);
    x.idp.answer_pending();
    x.f.settle();
    ASSERT_EQ(c.expect<mqtt::connack>().reason_code, reason_code::success);
    ASSERT_EQ(x.idp.requests.size(), 1U);
    std::uint16_t id = 1;
    for (int i = 0; i < 20; ++i) {
        EXPECT_EQ(x.puback(c, "a/b", id++), reason_code::success);
    }
    EXPECT_EQ(x.idp.requests.size(), 1U);  // within the interval: no check
    x.f.advance(10s);
    for (int i = 0; i < 20; ++i) {  // due: the first message starts one check, none waits for it
        EXPECT_EQ(x.puback(c, "a/b", id++), reason_code::success);
    }
    EXPECT_EQ(x.idp.requests.size(), 2U);
    EXPECT_EQ(x.monitor.rechecks_started(), 1U);
    x.idp.answer_pending();  // active: fresh again
    for (int i = 0; i < 20; ++i) {
        EXPECT_EQ(x.puback(c, "a/b", id++), reason_code::success);
    }
    EXPECT_EQ(x.idp.requests.size(), 2U);
    x.f.advance(10s);
    EXPECT_EQ(c.subscribe("a/#", 0, id++).reason_codes.at(0), reason_code::success);  // SUBSCRIBE too
    EXPECT_EQ(x.idp.requests.size(), 3U);
    EXPECT_FALSE(c.closed());
}

TEST(session_recheck, inactive_verdict_ends_every_session_of_the_token) {
    introspect_fixture x;
    const auto t = x.opaque();
    auto& c1 = x.f.client(0);
    auto& c2 = x.f.client(1);
    ASSERT_EQ(x.connect(c1, "d1", t).reason_code, reason_code::success);
    ASSERT_EQ(x.connect(c2, "d2", t).reason_code, reason_code::success);
    x.idp.deferred = true;
    x.revoke_at_issuer(t);
    x.f.advance(10s);
    EXPECT_EQ(x.puback(c1, "a/b", 1), reason_code::success);  // not held up by the check
    x.idp.answer_pending();
    x.f.settle();
    for (auto* c : {&c1, &c2}) {  // both ended at once, without waiting for their next packet
        auto d = c->expect<mqtt::disconnect>();
        EXPECT_EQ(d.reason_code, reason_code::administrative_action);
        EXPECT_EQ(d.properties.reason_string, inactive_reason_string);
        EXPECT_TRUE(c->closed());
    }
    auto& again = x.f.client(0);
    EXPECT_EQ(x.connect(again, "d3", t).reason_code, reason_code::bad_user_name_or_password);
    EXPECT_EQ(x.idp.requests.size(), 2U);  // remembered: refused without asking again
}

// An inactive verdict found during another client's CONNECT (an opaque token whose cached answer is
// older than the interval is introspected again) ends the token's live sessions at once: they get
// DISCONNECT 0x98 without sending anything.
TEST(session_recheck, inactive_verdict_at_connect_ends_the_other_sessions_at_once) {
    introspect_fixture x;
    const auto t = x.opaque();
    auto& c1 = x.f.client(0);
    auto& c2 = x.f.client(1);
    ASSERT_EQ(x.connect(c1, "d1", t).reason_code, reason_code::success);
    ASSERT_EQ(x.connect(c2, "d2", t).reason_code, reason_code::success);
    auto& other = x.f.client(0);  // a session of another token stays
    const auto u = x.opaque();
    ASSERT_EQ(x.connect(other, "d9", u).reason_code, reason_code::success);
    x.revoke_at_issuer(t);
    x.f.advance(10s);
    x.idp.deferred = true;
    auto& c3 = x.f.client(1);
    auto conn = c3.make_connect("d3");
    conn.password = bytes_of(t);
    c3.send(conn);
    x.f.settle();
    EXPECT_TRUE(c3.inbox_empty());  // the CONNECT waits for the issuer
    EXPECT_TRUE(c1.inbox_empty());
    x.idp.answer_pending();
    x.f.settle();
    EXPECT_EQ(c3.expect<mqtt::connack>().reason_code, reason_code::bad_user_name_or_password);
    for (auto* c : {&c1, &c2}) {
        auto d = c->expect<mqtt::disconnect>();
        EXPECT_EQ(d.reason_code, reason_code::administrative_action);
        EXPECT_EQ(d.properties.reason_string, inactive_reason_string);
        EXPECT_TRUE(c->closed());
    }
    EXPECT_FALSE(other.closed());
    EXPECT_TRUE(other.inbox_empty());
    EXPECT_EQ(x.monitor.rechecks_started(), 0U);  // no packet of c1/c2 was needed
}

// A JWT whose verdict is due: the CONNECT is accepted and starts the re-check; its inactive answer
// ends every session of the token at once, the new one included.
TEST(session_recheck, recheck_started_by_a_connect_ends_every_session_when_inactive) {
    introspect_fixture x(false);
    const auto jwt = x.env.token();
    x.idp.answers[jwt] = R"({"active":true})";
    auto& c1 = x.f.client(0);
    ASSERT_EQ(x.connect(c1, "d1", jwt).reason_code, reason_code::success);
    x.f.advance(10s);
    x.idp.deferred = true;
    x.idp.answers[jwt] = R"({"active":false})";
    auto& c2 = x.f.client(1);
    EXPECT_EQ(x.connect(c2, "d2", jwt).reason_code, reason_code::success);  // due: accepted, checked
    ASSERT_EQ(x.idp.pending.size(), 1U);
    x.idp.answer_pending();
    x.f.settle();
    for (auto* c : {&c1, &c2}) {
        auto d = c->expect<mqtt::disconnect>();
        EXPECT_EQ(d.reason_code, reason_code::administrative_action);
        EXPECT_EQ(d.properties.reason_string, inactive_reason_string);
        EXPECT_TRUE(c->closed());
    }
    // Answered inline, the same check refuses the CONNECT that started it.
    x.idp.deferred = false;
    const auto jwt2 = x.env.token();
    x.idp.answers[jwt2] = R"({"active":true})";
    auto& c3 = x.f.client(0);
    ASSERT_EQ(x.connect(c3, "d3", jwt2).reason_code, reason_code::success);
    x.f.advance(10s);
    x.idp.answers[jwt2] = R"({"active":false})";
    auto& c4 = x.f.client(1);
    EXPECT_EQ(x.connect(c4, "d4", jwt2).reason_code, reason_code::bad_user_name_or_password);
    EXPECT_EQ(c3.expect<mqtt::disconnect>().reason_code, reason_code::administrative_action);
}

TEST(session_recheck, unreachable_allowed_during_grace_then_denied_and_disconnected) {
    introspect_fixture x;  // interval 10 s, grace 5 s, retry 2 s
    auto& c = x.f.client(0);
    ASSERT_EQ(x.connect(c, "d1", x.opaque()).reason_code, reason_code::success);
    x.idp.unreachable = true;
    x.f.advance(10s);
    std::uint16_t id = 1;
    EXPECT_EQ(x.puback(c, "a/b", id++), reason_code::success);
    EXPECT_EQ(x.puback(c, "a/b", id++), reason_code::success);
    EXPECT_EQ(x.idp.requests.size(), 2U);  // connect + one failed re-check (retry not yet due)
    x.f.advance(2s);
    EXPECT_EQ(x.puback(c, "a/b", id++), reason_code::success);  // a retry, still within the grace
    EXPECT_EQ(x.idp.requests.size(), 3U);
    x.f.advance(3s);  // interval + grace without a fresh verdict
    EXPECT_EQ(x.puback(c, "a/b", id++), reason_code::not_authorized);
    auto d = c.expect<mqtt::disconnect>();
    EXPECT_EQ(d.reason_code, reason_code::not_authorized);
    EXPECT_EQ(d.properties.reason_string, stale_reason_string);
    EXPECT_TRUE(c.closed());
}

TEST(session_recheck, endpoint_back_within_grace_keeps_the_session) {
    introspect_fixture x;
    auto& c = x.f.client(0);
    ASSERT_EQ(x.connect(c, "d1", x.opaque()).reason_code, reason_code::success);
    x.idp.unreachable = true;
    x.f.advance(10s);
    EXPECT_EQ(x.puback(c, "a/b", 1), reason_code::success);
    x.idp.unreachable = false;
    x.f.advance(2s);
    EXPECT_EQ(x.puback(c, "a/b", 2), reason_code::success);  // retry answered active
    x.f.advance(5s);                                         // past the old grace: fresh now
    EXPECT_EQ(x.puback(c, "a/b", 3), reason_code::success);
    EXPECT_FALSE(c.closed());
}

TEST(session_recheck, jwt_sessions_are_rechecked_too) {
    introspect_fixture x(false);  // introspection only for re-checks
    auto claims = x.env.claims();
    const auto jwt = x.env.sign(claims);
    auto& c = x.f.client(0);
    ASSERT_EQ(x.connect(c, "d1", jwt).reason_code, reason_code::success);
    EXPECT_EQ(x.idp.requests.size(), 0U);  // verified locally
    x.f.advance(10s);
    // Unknown to the endpoint: inactive. The endpoint answers inline here, so this very PUBLISH is
    // refused already.
    EXPECT_EQ(x.puback(c, "a/b", 1), reason_code::not_authorized);
    ASSERT_EQ(x.idp.requests.size(), 1U);
    EXPECT_EQ(scripted_endpoint::token_of(x.idp.requests[0]), jwt);
    auto d = c.expect<mqtt::disconnect>();
    EXPECT_EQ(d.reason_code, reason_code::administrative_action);
    auto& again = x.f.client(0);
    EXPECT_EQ(x.connect(again, "d2", jwt).reason_code, reason_code::bad_user_name_or_password);
}

TEST(session_recheck, reconnect_with_a_stale_token_is_refused_and_due_one_rechecked) {
    introspect_fixture x(false);
    const auto jwt = x.env.token();
    auto& c1 = x.f.client(0);
    ASSERT_EQ(x.connect(c1, "d1", jwt).reason_code, reason_code::success);
    x.idp.answers[jwt] = R"({"active":true})";
    x.f.advance(10s);
    auto& c2 = x.f.client(0);
    EXPECT_EQ(x.connect(c2, "d2", jwt).reason_code, reason_code::success);  // due: accepted, checked
    EXPECT_EQ(x.idp.requests.size(), 1U);
    x.idp.unreachable = true;
    x.f.advance(15s);
    auto& c3 = x.f.client(0);
    EXPECT_EQ(x.connect(c3, "d3", jwt).reason_code, reason_code::bad_user_name_or_password);  // stale
}

TEST(session_recheck, zero_interval_turns_rechecks_off) {
    introspect_fixture x(true, 0s);
    auto& c = x.f.client(0);
    const auto t = x.opaque();
    ASSERT_EQ(x.connect(c, "d1", t).reason_code, reason_code::success);
    x.revoke_at_issuer(t);
    x.f.advance(20s);
    EXPECT_EQ(x.puback(c, "a/b", 1), reason_code::success);
    EXPECT_EQ(x.idp.requests.size(), 1U);
}

TEST(session_recheck, tokens_and_secrets_never_logged) {
    auto sink = std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(256);
    auto log = common::logger("auth");
    const auto level = log->level();
    log->set_level(spdlog::level::trace);
    log->sinks().push_back(sink);
    std::string token;
    {
        introspect_fixture x;
        token = x.opaque();
        auto& c = x.f.client(0);
        EXPECT_EQ(x.connect(c, "d1", token).reason_code, reason_code::success);
        x.idp.unreachable = true;
        x.f.advance(10s);
        x.puback(c, "a/b", 1);
        x.idp.unreachable = false;
        x.revoke_at_issuer(token);
        x.f.advance(2s);
        x.puback(c, "a/b", 2);
        auto& bad = x.f.client(0);
        x.connect(bad, "d2", "unknownopaque");
    }
    log->sinks().pop_back();
    log->set_level(level);
    const auto lines = sink->last_formatted();
    ASSERT_FALSE(lines.empty());
    bool fingerprint_seen = false;
    for (const auto& line : lines) {
        EXPECT_EQ(line.find(token), std::string::npos) << line;
        EXPECT_EQ(line.find("unknownopaque"), std::string::npos) << line;
        EXPECT_EQ(line.find(client_secret), std::string::npos) << line;
        fingerprint_seen =
            fingerprint_seen || line.find(common::secret_fingerprint(token)) != std::string::npos;
    }
    EXPECT_TRUE(fingerprint_seen);
}

}  // namespace
}  // namespace tollgate::auth::test
