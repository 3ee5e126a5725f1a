// {claim:NAME} in policy rules (values from the token's verified claims, session_context::claims),
// the deny-widening rule for placeholders without a safe value, substitution_values_of, and
// policy_authorizer::invalidate() (detaching loads in flight; thread-safety), through the real
// token_authenticator and the broker in its deterministic harness.
#include <atomic>
#include <deque>
#include <map>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>

#include <tollgate/auth/policy_authorizer.hpp>

#include "policy_rules_support.hpp"
#include "token_env.hpp"

namespace tollgate::auth::test {
namespace {

using broker::test::make_publish;
using mqtt::reason_code;

// Dropping a deny rule would widen what the principal may do: a deny whose placeholder has no safe
// value applies to every value of that level instead.
TEST(policy_rules, unsafe_substitution_widens_deny_rule) {
    auto none = policy_rules::compile({rule(deny, pub, "u/{username}")}, values("d", "s", std::nullopt));
    ASSERT_EQ(none.rules().size(), 1u);
    EXPECT_EQ(none.rules()[0].filter, "u/+");
    EXPECT_EQ(none.rules()[0].label, "test: deny pub u/{username}");
    ASSERT_EQ(none.dropped().size(), 1u);  // reported (logged) all the same
    EXPECT_EQ(none.check_publish("u/anyone").answer, policy_answer::deny);
    for (const char* id : {"#", "+", "a/b", ""}) {
        auto r = policy_rules::compile(
            {rule(allow, all, "#"), rule(deny, all, "site/pre-{client_id}-post/{sub}/admin/#")},
            values(id, "bob"));
        ASSERT_EQ(r.rules().size(), 2u) << id;
        EXPECT_EQ(r.rules()[1].filter, "site/+/+/admin/#") << id;
        EXPECT_EQ(r.check_publish("site/pre-x-post/bob/admin/1").answer, policy_answer::deny) << id;
        EXPECT_EQ(r.check_subscribe("site/#").answer, policy_answer::deny) << id;
        EXPECT_EQ(r.check_publish("site/pre-x-post/bob/user").answer, policy_answer::allow) << id;
    }
    // A deny that does not compile even with safe values (a grammar error) is dropped as before.
    auto bad = policy_rules::compile({rule(deny, pub, "a/{nope}")}, values());
    EXPECT_TRUE(bad.rules().empty());
}

substitution_values values_with_claims(std::map<std::string, std::string> claims) {
    auto v = values();
    v.claim = [claims = std::move(claims)](std::string_view name) -> std::optional<std::string> {
        auto it = claims.find(std::string(name));
        if (it == claims.end()) {
            return std::nullopt;
        }
        return it->second;
    };
    return v;
}

TEST(policy_rules, claim_placeholder_substituted_with_same_safety_as_scopes) {
    const std::vector<policy_rule> rules = {rule(allow, pub, "tenants/{claim:tenant}/#"),
                                            rule(deny, sub, "tenants/{claim:tenant}/admin/#"),
                                            rule(allow, sub, "orgs/{claim:org.id}/in")};
    auto ok = policy_rules::compile(rules, values_with_claims({{"tenant", "acme"}, {"org.id", "o-1"}}));
    ASSERT_EQ(ok.rules().size(), 3u);
    EXPECT_EQ(ok.rules()[0].filter, "tenants/acme/#");
    EXPECT_EQ(ok.rules()[1].filter, "tenants/acme/admin/#");
    EXPECT_EQ(ok.rules()[2].filter, "orgs/o-1/in");
    EXPECT_EQ(ok.check_publish("tenants/acme/x").answer, policy_answer::allow);
    EXPECT_EQ(ok.check_publish("tenants/other/x").answer, policy_answer::abstain);
    // CVE-2017-7650 through a claim: the allow is dropped, the deny widened to every tenant.
    for (const std::string& evil :
         std::vector<std::string>{"#", "+", "acme/#", "a/b", "", std::string("ac\0me", 5)}) {
        auto r = policy_rules::compile(rules, values_with_claims({{"tenant", evil}}));
        ASSERT_EQ(r.rules().size(), 1u) << evil;
        EXPECT_EQ(r.rules()[0].effect, deny) << evil;
        EXPECT_EQ(r.rules()[0].filter, "tenants/+/admin/#") << evil;
        EXPECT_EQ(r.check_publish("tenants/acme/x").answer, policy_answer::abstain) << evil;
        EXPECT_EQ(r.check_subscribe("tenants/#").answer, policy_answer::deny) << evil;
    }
}

/// Signs `extra` claims (merged over token_env's defaults) and authenticates the token; the
/// principal token_authenticator made (with session_context::claims), or null.
struct claims_env {
    claims_env() : env(clock) {
        token_auth_config c;
        c.issuers.push_back(env.config());
        c.audience = std::string(audience);
        authn = std::make_unique<token_authenticator>(std::move(c), clock);
    }
    std::shared_ptr<const broker::principal> principal_with(const boost::json::object& extra,
                                                            const std::string& client_id = "dev-1") {
        auto claims = env.claims("mqtt:sub:x");
        for (const auto& [k, v] : extra) {
            claims[k] = v;
        }
        broker::auth_request req;
        req.client_id = client_id;
        req.password = bytes_of(env.sign(claims));
        std::shared_ptr<const broker::principal> who;
        authn->authenticate(std::move(req), [&who](broker::auth_result r) { who = std::move(r.who); });
        return who;
    }
    common::manual_clock clock;
    token_env env;
    std::unique_ptr<token_authenticator> authn;
};

TEST(policy_claims, substitution_values_of_reads_verified_string_claims) {
    claims_env e;
    auto who = e.principal_with(boost::json::parse(R"({"tenant": "acme", "org": {"id": "o-1"}, "n": 7,
        "roles": ["a"], "empty": ""})")
                                    .as_object());
    ASSERT_NE(who, nullptr);
    auto v = substitution_values_of(*who);
    who.reset();  // the lookup shares the claims: still valid after the principal is gone
    ASSERT_TRUE(v.claim);
    EXPECT_EQ(v.claim("tenant"), "acme");
    EXPECT_EQ(v.claim("org.id"), "o-1");
    EXPECT_EQ(v.claim("sub"), "alice");
    EXPECT_EQ(v.claim("empty"), "");  // present; refused later by is_safe_substitution
    for (const char* name : {"n", "roles", "org", "missing", "iat"}) {
        EXPECT_EQ(v.claim(name), std::nullopt) << name;  // numbers, arrays, objects: no value
    }
    // A principal another authenticator made has no claims.
    broker::principal plain;
    plain.client_id = "d";
    plain.context = std::make_shared<int>(1);
    auto pv = substitution_values_of(plain);
    ASSERT_TRUE(pv.claim);
    EXPECT_EQ(pv.claim("tenant"), std::nullopt);
}

/// A source with scripted rules; counts loads (thread-safe).
class scripted_source final : public policy_source {
  public:
    explicit scripted_source(std::vector<policy_rule> rules) : rules_(std::move(rules)) {}
    std::string_view name() const override { return "sql"; }
    std::vector<policy_rule> load(const broker::principal&) override {
        std::lock_guard lock(mutex_);
        ++loads;
        auto out = rules_;
        for (auto& r : out) {
            r.source = "sql";
        }
        return out;
    }
    void set_rules(std::vector<policy_rule> rules) {
        std::lock_guard lock(mutex_);
        rules_ = std::move(rules);
    }
    int load_count() {
        std::lock_guard lock(mutex_);
        return loads;
    }

  private:
    std::mutex mutex_;
    int loads = 0;
    std::vector<policy_rule> rules_;
};

class deny_all_scopes final : public broker::authorizer {
  public:
    std::optional<broker::verdict> check(const broker::principal&, broker::action, std::string_view,
                                         std::uint8_t, bool, std::function<void(broker::verdict)>) override {
        return broker::verdict{false, "default deny", "no scope"};
    }
};

broker::principal plain_principal(std::string client_id) {
    broker::principal p;
    p.client_id = std::move(client_id);
    p.subject = "s";
    p.issuer = "https://as.example";
    p.token_id = "t1";
    return p;
}

// ops calls invalidate() after reloading the rule file on SIGHUP: the next check loads the rules now
// in force, even when a load that read the old rules was still running.
TEST(policy_invalidate, load_in_flight_is_not_cached) {
    auto s = std::make_shared<scripted_source>(std::vector{rule(allow, pub, "old")});
    deny_all_scopes scopes;
    common::manual_clock clock;
    std::deque<std::function<void()>> work;
    policy_authorizer authz(
        scopes, {s}, [&work](std::function<void()> fn) { work.push_back(std::move(fn)); }, clock);
    const auto who = plain_principal("d");
    std::vector<broker::verdict> got;
    auto record = [&got](broker::verdict v) { got.push_back(std::move(v)); };
    EXPECT_FALSE(authz.check(who, broker::action::publish, "old", 0, false, record));
    ASSERT_EQ(work.size(), 1u);  // the load of the old rules is posted, not run yet
    authz.invalidate();
    EXPECT_EQ(authz.cache_entries(), 0u);
    s->set_rules({rule(allow, pub, "new")});
    // A check after invalidate() starts its own load; it never joins the one started before.
    EXPECT_FALSE(authz.check(who, broker::action::publish, "new", 0, false, record));
    ASSERT_EQ(work.size(), 2u);
    auto first = std::move(work.front());
    work.pop_front();
    first();  // reads "new" too (the source changed), but it answers only its own queued check
    ASSERT_EQ(got.size(), 1u);
    EXPECT_FALSE(got[0].allow);
    work.front()();
    work.pop_front();
    ASSERT_EQ(got.size(), 2u);
    EXPECT_TRUE(got[1].allow);
    EXPECT_EQ(got[1].rule, "sql: allow pub new");
    EXPECT_EQ(authz.cache_entries(), 1u);
    // Cached now, inline; then invalidate again: the next check loads.
    EXPECT_TRUE(authz.check(who, broker::action::publish, "new", 0, false, record).value().allow);
    authz.invalidate();
    s->set_rules({});
    EXPECT_FALSE(authz.check(who, broker::action::publish, "new", 0, false, record));
    work.front()();
    EXPECT_FALSE(got.back().allow);
    EXPECT_EQ(s->load_count(), 3);
}

// Thread-safety: checks from several threads while another thread invalidates; every check is
// answered exactly once and the cache stays consistent.
TEST(policy_invalidate, concurrent_checks_and_invalidations) {
    auto s = std::make_shared<scripted_source>(std::vector{rule(allow, pub, "t/#")});
    deny_all_scopes scopes;
    common::manual_clock clock;
    std::mutex work_mutex;
    std::deque<std::function<void()>> work;
    std::atomic<bool> stop{false};
    policy_authorizer authz(
        scopes, {s},
        [&](std::function<void()> fn) {
            std::lock_guard lock(work_mutex);
            work.push_back(std::move(fn));
        },
        clock);
    std::thread runner([&] {  // the work pool: runs loads until told to stop and drained
        for (;;) {
            std::function<void()> fn;
            {
                std::lock_guard lock(work_mutex);
                if (!work.empty()) {
                    fn = std::move(work.front());
                    work.pop_front();
                } else if (stop) {
                    return;
                }
            }
            if (fn) {
                fn();
            } else {
                std::this_thread::yield();
            }
        }
    });
    std::atomic<int> answers{0};
    std::atomic<int> allowed{0};
    constexpr int threads = 4;
    constexpr int checks = 2000;
    std::vector<std::thread> checkers;
    for (int t = 0; t < threads; ++t) {
        checkers.emplace_back([&, t] {
            for (int i = 0; i < checks; ++i) {
                const auto who = plain_principal("c" + std::to_string((t * checks + i) % 13));
                auto count = [&](broker::verdict v) {
                    allowed += v.allow ? 1 : 0;
                    ++answers;
                };
                if (auto now = authz.check(who, broker::action::publish, "t/x", 0, false, count)) {
                    count(*now);
                }
            }
        });
    }
    std::thread invalidator([&] {
        for (int i = 0; i < 500; ++i) {
            authz.invalidate();
            std::this_thread::yield();
        }
    });
    for (auto& c : checkers) {
        c.join();
    }
    invalidator.join();
    stop = true;
    runner.join();
    EXPECT_EQ(answers.load(), threads * checks);
    EXPECT_EQ(allowed.load(), threads * checks);
    EXPECT_LE(authz.cache_entries(), 13u);
    EXPECT_GE(s->load_count(), 13);
}

// {claim:NAME} end to end in the broker: tokens with different tenants get different topics; a
// token without the claim, or with a value that would widen the rule, gets the allow dropped and
// the deny widened (PUBACK / SUBACK 0x87, [MQTT-3.4.2-1] [MQTT-3.9.3-1]).
struct broker_claims_fixture {
    explicit broker_claims_fixture(std::shared_ptr<policy_source> source) : env(f.clock) {
        token_auth_config base;
        base.issuers.push_back(env.config());
        base.audience = std::string(audience);
        authn = std::make_unique<token_authenticator>(std::move(base), f.clock);
        policy = std::make_unique<policy_authorizer>(
            scopes, std::vector{std::move(source)},
            [this](std::function<void()> fn) { work.push_back(std::move(fn)); }, f.clock);
        f.start(policy.get(), authn.get());
    }
    broker::test::test_client& connect(const std::string& id, const boost::json::object& extra) {
        auto claims = env.claims("mqtt:sub:none");
        for (const auto& [k, v] : extra) {
            claims[k] = v;
        }
        auto& c = f.client(0);
        auto conn = c.make_connect(id);
        conn.password = bytes_of(env.sign(claims));
        c.send(conn);
        f.settle();
        EXPECT_EQ(c.expect<mqtt::connack>().reason_code, reason_code::success);
        return c;
    }
    reason_code publish(broker::test::test_client& c, const std::string& topic, std::uint16_t id) {
        c.send(make_publish(topic, "x", 1, id));
        f.settle();
        while (!work.empty()) {
            auto fn = std::move(work.front());
            work.pop_front();
            fn();
        }
        f.settle();
        return c.expect<mqtt::puback>().reason_code;
    }

    broker::test::broker_fixture f;
    token_env env;
    std::unique_ptr<token_authenticator> authn;
    scope_authorizer scopes;
    std::deque<std::function<void()>> work;
    std::unique_ptr<policy_authorizer> policy;
};

TEST(policy_claims, claim_rules_through_the_broker) {
    auto s = std::make_shared<scripted_source>(std::vector{rule(allow, all, "tenants/{claim:tenant}/#"),
                                                           rule(deny, pub, "tenants/{claim:tenant}/ro/#"),
                                                           rule(allow, pub, "tenants/+/ro/announce")});
    broker_claims_fixture p(s);
    auto& acme = p.connect("a1", boost::json::object{{"tenant", "acme"}});
    EXPECT_EQ(p.publish(acme, "tenants/acme/up", 1), reason_code::no_matching_subscribers);
    EXPECT_EQ(p.publish(acme, "tenants/acme/ro/x", 2), reason_code::not_authorized);
    EXPECT_EQ(p.publish(acme, "tenants/globex/up", 3), reason_code::not_authorized);
    EXPECT_EQ(p.publish(acme, "tenants/acme/ro/announce", 4), reason_code::not_authorized);  // deny wins
    EXPECT_EQ(p.publish(acme, "tenants/globex/ro/announce", 5), reason_code::no_matching_subscribers);
    EXPECT_EQ(acme.subscribe("tenants/acme/#", 0, 6).reason_codes.at(0), reason_code::success);
    EXPECT_EQ(acme.subscribe("tenants/#", 0, 7).reason_codes.at(0), reason_code::not_authorized);
    EXPECT_EQ(s->load_count(), 1);  // one load per session, then the cache
    std::vector<std::pair<std::string, boost::json::value>> cases;
    cases.emplace_back("n1", boost::json::value(nullptr));  // absent
    cases.emplace_back("n2", boost::json::value("#"));
    cases.emplace_back("n3", boost::json::value("+"));
    cases.emplace_back("n4", boost::json::value("acme/#"));
    cases.emplace_back("n5", boost::json::value(""));
    cases.emplace_back("n6", boost::json::value(42));
    cases.emplace_back("n7", boost::json::value(boost::json::array{"acme"}));
    cases.emplace_back("n8", boost::json::value(std::string("ac\0me", 5)));
    for (const auto& [id, tenant] : cases) {
        boost::json::object extra;
        if (!tenant.is_null()) {
            extra["tenant"] = tenant;
        }
        auto& c = p.connect(id, extra);
        EXPECT_EQ(p.publish(c, "tenants/acme/up", 1), reason_code::not_authorized) << id;
        EXPECT_EQ(p.publish(c, "tenants/x/up", 2), reason_code::not_authorized) << id;
        // The deny is widened to tenants/+/ro/#: the broad allow cannot reach any tenant's ro topics.
        EXPECT_EQ(p.publish(c, "tenants/globex/ro/announce", 3), reason_code::not_authorized) << id;
        EXPECT_EQ(c.subscribe("tenants/#", 0, 4).reason_codes.at(0), reason_code::not_authorized) << id;
        EXPECT_EQ(c.subscribe("#", 0, 5).reason_codes.at(0), reason_code::not_authorized) << id;
        c.drop();
        p.f.settle();
    }
}

}  // namespace
}  // namespace tollgate::auth::test
