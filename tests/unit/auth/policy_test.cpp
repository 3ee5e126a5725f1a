// Policy sources: rule compilation and evaluation, topic-filter overlap, the static rule file, and
// policy_authorizer (precedence over token scopes, the per-principal TTL cache on a manual clock,
// fail-closed loads, the asynchronous path through the real broker in its deterministic harness).
#include <deque>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include <gtest/gtest.h>

#include <tollgate/auth/file_source.hpp>
#include <tollgate/auth/policy_authorizer.hpp>

#include "policy_rules_support.hpp"
#include "token_env.hpp"

namespace tollgate::auth::test {
namespace {

using namespace std::chrono_literals;
using broker::test::make_publish;
using mqtt::reason_code;

// ---- filters_overlap -------------------------------------------------------------------------

TEST(policy_overlap, literal_and_wildcards) {
    EXPECT_TRUE(filters_overlap("a/b", "a/b"));
    EXPECT_FALSE(filters_overlap("a/b", "a/c"));
    EXPECT_TRUE(filters_overlap("a/+", "a/b"));
    EXPECT_TRUE(filters_overlap("a/+/c", "a/b/+"));
    EXPECT_FALSE(filters_overlap("a/+/c", "a/b/d"));
    EXPECT_TRUE(filters_overlap("a/#", "a/b/c/d"));
    EXPECT_TRUE(filters_overlap("#", "x/y"));
    EXPECT_TRUE(filters_overlap("+/+", "a/#"));
    EXPECT_FALSE(filters_overlap("+/+", "a"));      // depths differ, no '#'
    EXPECT_FALSE(filters_overlap("a/b/c", "a/b"));  // depths differ
    EXPECT_FALSE(filters_overlap("+/b/#", "a/c/#"));
}

TEST(policy_overlap, hash_matches_parent_level) {
    // [MQTT-4.7.1-2]: "a/#" also matches "a".
    EXPECT_TRUE(filters_overlap("a/#", "a"));
    EXPECT_TRUE(filters_overlap("a", "a/#"));
    EXPECT_TRUE(filters_overlap("+", "a/#"));
    EXPECT_FALSE(filters_overlap("a/b/#", "a"));
}

TEST(policy_overlap, empty_levels) {
    EXPECT_TRUE(filters_overlap("/a", "+/a"));
    EXPECT_TRUE(filters_overlap("a//b", "a/+/b"));
    EXPECT_FALSE(filters_overlap("a//b", "a/x/b"));
}

// [MQTT-4.7.2-1]: a filter starting with a wildcard matches no topic starting with '$'.
TEST(policy_overlap, dollar_topics_MQTT_4_7_2_1) {
    EXPECT_FALSE(filters_overlap("#", "$SYS/#"));
    EXPECT_FALSE(filters_overlap("$SYS/broker", "+/broker"));
    EXPECT_TRUE(filters_overlap("$SYS/#", "$SYS/broker/load"));
    EXPECT_TRUE(filters_overlap("$SYS/+", "$SYS/#"));
    EXPECT_TRUE(filters_overlap("a/$x", "+/#"));  // '$' below the first level is an ordinary byte
    EXPECT_TRUE(filters_overlap("#", "+"));
}

TEST(policy_overlap, symmetric) {
    const char* filters[] = {"a/b", "a/+", "a/#", "#", "+", "+/+", "$SYS/#", "$SYS/a", "a", "/", "+/b/#"};
    for (const char* x : filters) {
        for (const char* y : filters) {
            EXPECT_EQ(filters_overlap(x, y), filters_overlap(y, x)) << x << " vs " << y;
        }
    }
}

// ---- policy_rules ----------------------------------------------------------------------------

TEST(policy_rules, deny_wins_then_allow_then_abstain) {
    auto r =
        policy_rules::compile({rule(allow, pub, "devices/#"), rule(deny, pub, "devices/+/admin")}, values());
    ASSERT_EQ(r.rules().size(), 2u);
    auto d = r.check_publish("devices/x/admin");
    EXPECT_EQ(d.answer, policy_answer::deny);
    EXPECT_EQ(d.rule, "test: deny pub devices/+/admin");
    d = r.check_publish("devices/x/up");
    EXPECT_EQ(d.answer, policy_answer::allow);
    EXPECT_EQ(d.rule, "test: allow pub devices/#");
    EXPECT_EQ(r.check_publish("other").answer, policy_answer::abstain);
    EXPECT_TRUE(r.check_publish("other").rule.empty());
}

TEST(policy_rules, actions_apply_separately) {
    auto r = policy_rules::compile(
        {rule(allow, sub, "a/#"), rule(deny, sub, "a/secret"), rule(allow, all, "b/#")}, values());
    EXPECT_EQ(r.check_publish("a/x").answer, policy_answer::abstain);  // sub-only rules
    EXPECT_EQ(r.check_publish("a/secret").answer, policy_answer::abstain);
    EXPECT_EQ(r.check_subscribe("a/x").answer, policy_answer::allow);
    EXPECT_EQ(r.check_publish("b/x").answer, policy_answer::allow);
    EXPECT_EQ(r.check_subscribe("b/#").answer, policy_answer::allow);
}

TEST(policy_rules, subscribe_denied_when_filter_can_reach_denied_topic) {
    auto r = policy_rules::compile({rule(allow, sub, "#"), rule(deny, sub, "a/+/secret")}, values());
    EXPECT_EQ(r.check_subscribe("a/#").answer, policy_answer::deny);  // could receive a/x/secret
    EXPECT_EQ(r.check_subscribe("+/x/+").answer, policy_answer::deny);
    EXPECT_EQ(r.check_subscribe("#").answer, policy_answer::deny);
    EXPECT_EQ(r.check_subscribe("a/x/public").answer, policy_answer::allow);
    EXPECT_EQ(r.check_subscribe("b/#").answer, policy_answer::allow);
}

TEST(policy_rules, subscribe_allow_needs_coverage) {
    auto r = policy_rules::compile({rule(allow, sub, "sensors/+/temp")}, values());
    EXPECT_EQ(r.check_subscribe("sensors/a/temp").answer, policy_answer::allow);
    EXPECT_EQ(r.check_subscribe("sensors/+/temp").answer, policy_answer::allow);
    EXPECT_EQ(r.check_subscribe("sensors/#").answer, policy_answer::abstain);  // wider than the rule
}

TEST(policy_rules, shared_subscription_judged_on_filter) {
    auto r = policy_rules::compile({rule(allow, sub, "jobs/#"), rule(deny, sub, "jobs/private/#")}, values());
    EXPECT_EQ(r.check_subscribe("$share/g/jobs/public").answer, policy_answer::allow);
    EXPECT_EQ(r.check_subscribe("$share/g/jobs/#").answer, policy_answer::deny);
    EXPECT_EQ(r.check_subscribe("$share/g/other").answer, policy_answer::abstain);
    EXPECT_EQ(r.check_subscribe("$share/g/").answer, policy_answer::deny);  // not a valid filter
}

// [MQTT-4.7.2-1] in both directions: "#" neither allows nor is denied by '$' topics.
TEST(policy_rules, dollar_topics) {
    auto r = policy_rules::compile({rule(allow, all, "#"), rule(deny, sub, "$SYS/secret/#")}, values());
    EXPECT_EQ(r.check_subscribe("#").answer, policy_answer::allow);  // "#" cannot reach $SYS
    EXPECT_EQ(r.check_subscribe("$SYS/#").answer, policy_answer::deny);
    EXPECT_EQ(r.check_subscribe("$SYS/public").answer, policy_answer::abstain);  // "#" does not cover it
    EXPECT_EQ(r.check_publish("$SYS/x").answer, policy_answer::abstain);
}

TEST(policy_rules, placeholders_substituted) {
    auto r = policy_rules::compile({rule(allow, pub, "devices/{client_id}/up"),
                                    rule(allow, sub, "users/{sub}/#"), rule(deny, pub, "u/{username}/ro")},
                                   values("dev-7", "bob", "robert"));
    ASSERT_EQ(r.rules().size(), 3u);
    EXPECT_EQ(r.rules()[0].filter, "devices/dev-7/up");
    EXPECT_EQ(r.rules()[0].label, "test: allow pub devices/{client_id}/up");
    EXPECT_EQ(r.check_publish("devices/dev-7/up").answer, policy_answer::allow);
    EXPECT_EQ(r.check_publish("devices/dev-8/up").answer, policy_answer::abstain);
    EXPECT_EQ(r.check_subscribe("users/bob/inbox").answer, policy_answer::allow);
    EXPECT_EQ(r.check_publish("u/robert/ro").answer, policy_answer::deny);
}

// CVE-2017-7650: a client id "#" or "+" must never widen a rule into a wildcard.
TEST(policy_rules, unsafe_substitution_drops_rule) {
    for (const char* id : {"#", "+", "a/b", ""}) {
        auto r = policy_rules::compile({rule(allow, all, "devices/{client_id}/#")}, values(id));
        EXPECT_TRUE(r.rules().empty()) << id;
        ASSERT_EQ(r.dropped().size(), 1u) << id;
        EXPECT_EQ(r.dropped()[0].first, "test: allow all devices/{client_id}/#");
    }
    auto claim = policy_rules::compile({rule(allow, pub, "t/{claim:tenant}/#")}, values());
    EXPECT_TRUE(claim.rules().empty());  // no claim lookup given: dropped, never widened
}

TEST(policy_rules, raw_bytes_are_literal_and_bad_filters_dropped) {
    auto r = policy_rules::compile(
        {rule(allow, pub, "a b/100%/\xC3\xA9t\xC3\xA9"), rule(allow, pub, "a/#/b"),
         rule(allow, pub, "{nope}"), rule(allow, pub, ""), rule(allow, pub, "$share/g/x")},
        values());
    ASSERT_EQ(r.rules().size(), 1u);
    EXPECT_EQ(r.rules()[0].filter, "a b/100%/\xC3\xA9t\xC3\xA9");
    EXPECT_EQ(r.check_publish("a b/100%/\xC3\xA9t\xC3\xA9").answer, policy_answer::allow);
    EXPECT_EQ(r.dropped().size(), 4u);
}

TEST(policy_rules, effect_and_action_names) {
    EXPECT_EQ(parse_policy_effect("allow"), policy_effect::allow);
    EXPECT_EQ(parse_policy_effect("deny"), policy_effect::deny);
    EXPECT_FALSE(parse_policy_effect("Allow"));
    EXPECT_FALSE(parse_policy_effect(""));
    EXPECT_EQ(parse_policy_action("pub"), grant_action::publish);
    EXPECT_EQ(parse_policy_action("sub"), grant_action::subscribe);
    EXPECT_EQ(parse_policy_action("all"), grant_action::both);
    EXPECT_FALSE(parse_policy_action("publish"));
}

// ---- file_source -----------------------------------------------------------------------------

broker::principal principal(std::string client_id, std::string subject, std::optional<std::string> username,
                            std::string token_id = "t1") {
    broker::principal p;
    p.client_id = std::move(client_id);
    p.subject = std::move(subject);
    p.username = std::move(username);
    p.issuer = "https://as.example";
    p.token_id = std::move(token_id);
    return p;
}

TEST(policy_file, rules_match_principal) {
    auto f = file_source::parse(R"(
[[rule]]
effect = "allow"
action = "all"
filter = "devices/{client_id}/#"

[[rule]]
effect = "deny"
action = "pub"
filter = "devices/+/admin"
username = "alice"

[[rule]]
effect = "allow"
action = "sub"
filter = "ops/#"
sub = "ops-bot"
client_id = "*"
)",
                                "acl.toml");
    EXPECT_EQ(f.name(), "file");
    EXPECT_EQ(f.rule_count(), 3u);
    EXPECT_EQ(f.load(principal("d", "bob", "alice")).size(), 2u);
    EXPECT_EQ(f.load(principal("d", "bob", std::nullopt)).size(), 1u);  // no username: named rule skipped
    auto ops = f.load(principal("d", "ops-bot", "x"));
    ASSERT_EQ(ops.size(), 2u);
    EXPECT_EQ(ops[1].filter, "ops/#");
    EXPECT_EQ(ops[1].source, "file");
}

std::string file_error(std::string_view text) {
    try {
        static_cast<void>(file_source::parse(text, "acl.toml"));
    } catch (const std::invalid_argument& e) {
        return e.what();
    }
    return "(no error)";
}

TEST(policy_file, errors_name_the_key) {
    EXPECT_EQ(file_error("[[rule]]\neffect = \"permit\"\naction = \"pub\"\nfilter = \"a\"\n"),
              "acl.toml: rule[0].effect: must be \"allow\" or \"deny\" (got \"permit\")");
    EXPECT_EQ(file_error("[[rule]]\neffect = \"allow\"\naction = \"pub\"\nfilter = \"a\"\n"
                         "[[rule]]\neffect = \"allow\"\naction = \"publish\"\nfilter = \"a\"\n"),
              "acl.toml: rule[1].action: must be \"pub\", \"sub\" or \"all\" (got \"publish\")");
    EXPECT_EQ(file_error("[[rule]]\neffect = \"allow\"\naction = \"pub\"\n"),
              "acl.toml: rule[0].filter: is required");
    EXPECT_EQ(file_error("[[rule]]\neffect = \"allow\"\naction = \"pub\"\nfilter = \"a/#/b\"\n"),
              "acl.toml: rule[0].filter: not a valid topic filter pattern: not a valid topic filter");
    EXPECT_EQ(
        file_error("[[rule]]\neffect = \"allow\"\naction = \"pub\"\nfilter = \"a\"\nuser = \"x\"\n"),
        "acl.toml: rule[0].user: unknown key (known: effect, action, filter, username, client_id, sub)");
    EXPECT_EQ(file_error("[[rule]]\neffect = \"allow\"\naction = \"pub\"\nfilter = \"a\"\nusername = 3\n"),
              "acl.toml: rule[0].username: must be a string (got a number)");
    EXPECT_EQ(file_error("rules = 1\n"), "acl.toml: rules: unknown key (rules are [[rule]] tables)");
    EXPECT_EQ(file_error("rule = 1\n"), "acl.toml: rule: must be an array of tables ([[rule]])");
    EXPECT_NE(file_error("[[rule]\n").find("acl.toml:1:"), std::string::npos);  // TOML syntax: line:column
    EXPECT_EQ(file_error(""), "(no error)");                                    // no rules: abstains
}

TEST(policy_file, reads_file_and_reports_missing) {
    const auto dir =
        std::filesystem::temp_directory_path() / ("tollgate-policy-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    const auto path = (dir / "acl.toml").string();
    {
        std::ofstream out(path);
        out << "[[rule]]\neffect = \"deny\"\naction = \"sub\"\nfilter = \"x/#\"\n";
    }
    auto f = file_source::from_file(path, "site");
    EXPECT_EQ(f.name(), "file site");
    EXPECT_EQ(f.rule_count(), 1u);
    std::filesystem::remove_all(dir);
    EXPECT_THROW(static_cast<void>(file_source::from_file(path)), std::invalid_argument);
}

// ---- policy_authorizer (direct) --------------------------------------------------------------

/// A source with scripted rules; counts loads; throws while `broken`.
class scripted_source final : public policy_source {
  public:
    explicit scripted_source(std::string name, std::vector<policy_rule> rules = {})
        : name_(std::move(name)), rules_(std::move(rules)) {}
    std::string_view name() const override { return name_; }
    std::vector<policy_rule> load(const broker::principal& who) override {
        ++loads;
        last_client = who.client_id;
        if (broken) {
            throw std::runtime_error("database unreachable: secret-detail");
        }
        auto out = rules_;
        for (auto& r : out) {
            r.source = name_;
        }
        return out;
    }
    void set_rules(std::vector<policy_rule> rules) { rules_ = std::move(rules); }

    int loads = 0;
    bool broken = false;
    std::string last_client;

  private:
    std::string name_;
    std::vector<policy_rule> rules_;
};

/// A scope authorizer stand-in that allows exactly one topic (inline), to see precedence alone.
class one_topic_authorizer final : public broker::authorizer {
  public:
    std::optional<broker::verdict> check(const broker::principal&, broker::action, std::string_view topic,
                                         std::uint8_t, bool, std::function<void(broker::verdict)>) override {
        if (topic == allowed) {
            return broker::verdict{true, "mqtt:all:" + allowed, "scope"};
        }
        return broker::verdict{false, "default deny", "no scope"};
    }
    std::string allowed = "scoped/topic";
};

struct direct_fixture {
    explicit direct_fixture(std::vector<std::shared_ptr<policy_source>> sources,
                            policy_authorizer_config cfg = {})
        : authz(
              scopes, std::move(sources), [this](std::function<void()> fn) { work.push_back(std::move(fn)); },
              clock, cfg) {}

    /// Runs the posted loads; returns how many ran.
    std::size_t run_work() {
        std::size_t n = 0;
        while (!work.empty()) {
            auto fn = std::move(work.front());
            work.pop_front();
            fn();
            ++n;
        }
        return n;
    }
    /// check() with the answer, whether inline or after running the loads.
    broker::verdict ask(const broker::principal& who, broker::action what, std::string_view topic) {
        std::optional<broker::verdict> later;
        auto now =
            authz.check(who, what, topic, 0, false, [&later](broker::verdict v) { later = std::move(v); });
        if (now) {
            return *now;
        }
        run_work();
        EXPECT_TRUE(later.has_value()) << "no answer after the load";
        return later.value_or(broker::verdict{});
    }

    common::manual_clock clock;
    one_topic_authorizer scopes;
    std::deque<std::function<void()>> work;
    policy_authorizer authz;
};

TEST(policy_authorizer, precedence_deny_over_everything_then_allow_then_default_deny) {
    auto a = std::make_shared<scripted_source>("sql", std::vector{rule(allow, pub, "granted/#")});
    auto b = std::make_shared<scripted_source>(
        "file", std::vector{rule(deny, pub, "scoped/#"), rule(allow, pub, "granted/x")});
    direct_fixture f({a, b});
    const auto who = principal("d", "s", "u");
    const auto pub_action = broker::action::publish;
    // A source's deny overrides the token scope's allow.
    auto v = f.ask(who, pub_action, "scoped/topic");
    EXPECT_FALSE(v.allow);
    EXPECT_EQ(v.rule, "file: deny pub scoped/#");
    EXPECT_EQ(v.reason, "denied by policy");
    // An allow from a source is enough without a scope (the first allowing source is named).
    v = f.ask(who, pub_action, "granted/x");
    EXPECT_TRUE(v.allow);
    EXPECT_EQ(v.rule, "sql: allow pub granted/#");
    // Nothing allows: the scope authorizer's default deny.
    v = f.ask(who, pub_action, "elsewhere");
    EXPECT_FALSE(v.allow);
    EXPECT_EQ(v.rule, "default deny");
    // A scope allow with every source abstaining.
    f.scopes.allowed = "free";
    v = f.ask(who, pub_action, "free");
    EXPECT_TRUE(v.allow);
    EXPECT_EQ(v.rule, "mqtt:all:free");
    EXPECT_EQ(a->loads, 1);  // one load per principal, then the cache
    EXPECT_EQ(b->loads, 1);
}

TEST(policy_authorizer, first_check_is_async_then_cached_inline) {
    auto s = std::make_shared<scripted_source>("sql", std::vector{rule(allow, all, "t/#")});
    direct_fixture f({s});
    const auto who = principal("d", "s", "u");
    std::vector<bool> answers;
    auto record = [&answers](broker::verdict v) { answers.push_back(v.allow); };
    EXPECT_FALSE(f.authz.check(who, broker::action::publish, "t/1", 0, false, record));
    EXPECT_FALSE(f.authz.check(who, broker::action::publish, "x", 0, false, record));  // queued behind
    EXPECT_TRUE(answers.empty());
    EXPECT_EQ(f.run_work(), 1u);                           // one load for both
    EXPECT_EQ(answers, (std::vector<bool>{true, false}));  // in arrival order
    auto inline_answer = f.authz.check(who, broker::action::subscribe, "t/+", 0, false, record);
    ASSERT_TRUE(inline_answer);
    EXPECT_TRUE(inline_answer->allow);
    EXPECT_EQ(answers.size(), 2u);  // done not called for an inline answer
    auto st = f.authz.stats();
    EXPECT_EQ(st.loads, 1u);
    EXPECT_EQ(st.queued, 2u);
    EXPECT_EQ(st.cache_hits, 1u);
}

TEST(policy_authorizer, ttl_expiry_reloads_on_manual_clock) {
    auto s = std::make_shared<scripted_source>("sql", std::vector{rule(allow, pub, "a")});
    policy_authorizer_config cfg;
    cfg.cache_ttl = 60s;
    direct_fixture f({s}, cfg);
    const auto who = principal("d", "s", "u");
    EXPECT_TRUE(f.ask(who, broker::action::publish, "a").allow);
    s->set_rules({rule(deny, pub, "a")});
    f.clock.advance(59s);
    EXPECT_TRUE(f.ask(who, broker::action::publish, "a").allow);  // still cached
    EXPECT_EQ(s->loads, 1);
    f.clock.advance(1s);
    EXPECT_FALSE(f.authz.check(who, broker::action::publish, "a", 0, false, [](broker::verdict) {}));
    f.run_work();
    EXPECT_EQ(s->loads, 2);
    EXPECT_FALSE(f.ask(who, broker::action::publish, "a").allow);  // the new rules
}

TEST(policy_authorizer, keyed_per_principal_and_token) {
    auto s = std::make_shared<scripted_source>("sql", std::vector{rule(allow, pub, "d/{client_id}")});
    direct_fixture f({s});
    EXPECT_TRUE(f.ask(principal("one", "s", "u"), broker::action::publish, "d/one").allow);
    EXPECT_EQ(s->last_client, "one");
    EXPECT_FALSE(f.ask(principal("two", "s", "u"), broker::action::publish, "d/one").allow);
    EXPECT_EQ(s->last_client, "two");
    EXPECT_TRUE(f.ask(principal("two", "s", "u"), broker::action::publish, "d/two").allow);
    EXPECT_EQ(s->loads, 2);
    // A re-authentication (new token id) loads afresh; so does another username.
    EXPECT_TRUE(f.ask(principal("two", "s", "u", "t2"), broker::action::publish, "d/two").allow);
    EXPECT_TRUE(f.ask(principal("two", "s", std::nullopt, "t2"), broker::action::publish, "d/two").allow);
    EXPECT_EQ(s->loads, 4);
    EXPECT_EQ(f.authz.cache_entries(), 4u);
}

TEST(policy_authorizer, lru_bounded) {
    auto s = std::make_shared<scripted_source>("sql", std::vector{rule(allow, pub, "x")});
    policy_authorizer_config cfg;
    cfg.max_entries = 2;
    direct_fixture f({s}, cfg);
    f.ask(principal("a", "s", "u"), broker::action::publish, "x");
    f.ask(principal("b", "s", "u"), broker::action::publish, "x");
    f.ask(principal("a", "s", "u"), broker::action::publish, "x");  // a is now the most recent
    f.ask(principal("c", "s", "u"), broker::action::publish, "x");  // evicts b
    EXPECT_EQ(f.authz.cache_entries(), 2u);
    EXPECT_EQ(f.authz.stats().evictions, 1u);
    EXPECT_EQ(s->loads, 3);
    f.ask(principal("a", "s", "u"), broker::action::publish, "x");
    EXPECT_EQ(s->loads, 3);  // a stayed
    f.ask(principal("b", "s", "u"), broker::action::publish, "x");
    EXPECT_EQ(s->loads, 4);  // b was evicted
}

TEST(policy_authorizer, failing_source_fails_closed_and_is_retried) {
    auto ok = std::make_shared<scripted_source>("file", std::vector{rule(allow, pub, "t")});
    auto bad = std::make_shared<scripted_source>("sql");
    bad->broken = true;
    policy_authorizer_config cfg;
    cfg.failure_ttl = 5s;
    direct_fixture f({ok, bad}, cfg);
    f.scopes.allowed = "t";
    const auto who = principal("d", "s", "u");
    auto v = f.ask(who, broker::action::publish, "t");  // both scope and a source allow: still denied
    EXPECT_FALSE(v.allow);
    EXPECT_EQ(v.rule, "sql: load failed (fail closed)");
    EXPECT_EQ(v.reason, "policy source unavailable");  // the database error stays in the log
    EXPECT_EQ(f.authz.stats().source_errors, 1u);
    EXPECT_FALSE(f.ask(who, broker::action::subscribe, "t").allow);
    EXPECT_EQ(bad->loads, 1);  // the failure is cached briefly
    bad->broken = false;
    f.clock.advance(5s);
    EXPECT_TRUE(f.ask(who, broker::action::publish, "t").allow);  // retried after failure_ttl
    EXPECT_EQ(bad->loads, 2);
}

TEST(policy_authorizer, invalidate_all_reloads) {
    auto s = std::make_shared<scripted_source>("sql", std::vector{rule(allow, pub, "a")});
    direct_fixture f({s});
    const auto who = principal("d", "s", "u");
    f.ask(who, broker::action::publish, "a");
    f.authz.invalidate_all();
    EXPECT_EQ(f.authz.cache_entries(), 0u);
    f.ask(who, broker::action::publish, "a");
    EXPECT_EQ(s->loads, 2);
}

TEST(policy_authorizer, construction_errors) {
    one_topic_authorizer scopes;
    common::manual_clock clock;
    EXPECT_THROW(policy_authorizer(scopes, {}, nullptr, clock), std::invalid_argument);
    EXPECT_THROW(policy_authorizer(
                     scopes, {nullptr}, [](std::function<void()>) {}, clock),
                 std::invalid_argument);
}

TEST(policy_authorizer, async_scope_authorizer_is_combined) {
    broker::test::deferred_authorizer deferred;  // answers later; denies "deny/..." topics
    auto s = std::make_shared<scripted_source>("sql", std::vector{rule(allow, pub, "deny/ok")});
    std::deque<std::function<void()>> work;
    common::manual_clock clock;
    policy_authorizer authz(
        deferred, {s}, [&work](std::function<void()> fn) { work.push_back(std::move(fn)); }, clock);
    std::vector<broker::verdict> got;
    const auto who = principal("d", "s", "u");
    EXPECT_FALSE(authz.check(who, broker::action::publish, "deny/ok", 0, false,
                             [&got](broker::verdict v) { got.push_back(std::move(v)); }));
    work.front()();
    EXPECT_TRUE(got.empty());  // the scope answer is still pending
    deferred.answer_all();
    ASSERT_EQ(got.size(), 1u);
    EXPECT_TRUE(got[0].allow);  // scope denied, the source allowed
    EXPECT_EQ(got[0].rule, "sql: allow pub deny/ok");
}

// ---- through the broker --------------------------------------------------------------------

/// The real broker (deterministic harness) with token authentication, scope_authorizer wrapped in a
/// policy_authorizer whose loads run when the test says.
struct broker_policy_fixture {
    explicit broker_policy_fixture(std::vector<std::shared_ptr<policy_source>> sources) : env(f.clock) {
        token_auth_config base;
        base.issuers.push_back(env.config());
        base.audience = std::string(audience);
        authn = std::make_unique<token_authenticator>(std::move(base), f.clock);
        policy = std::make_unique<policy_authorizer>(
            scopes, std::move(sources), [this](std::function<void()> fn) { work.push_back(std::move(fn)); },
            f.clock);
        f.start(policy.get(), authn.get());
    }
    mqtt::connack connect(broker::test::test_client& c, const std::string& id, const std::string& token) {
        auto conn = c.make_connect(id);
        conn.password = bytes_of(token);
        c.send(conn);
        f.settle();
        return c.expect<mqtt::connack>();
    }
    void run_work() {
        while (!work.empty()) {
            auto fn = std::move(work.front());
            work.pop_front();
            fn();
        }
        f.settle();
    }

    broker::test::broker_fixture f;
    token_env env;
    std::unique_ptr<token_authenticator> authn;
    scope_authorizer scopes;
    std::deque<std::function<void()>> work;
    std::unique_ptr<policy_authorizer> policy;
};

// [MQTT-3.4.2-1] / [MQTT-3.9.3-1]: PUBACK and SUBACK 0x87 for what a deny rule refuses, even with a
// scope granting it; an allow rule grants what the scope lacks. Later packets wait, in order, while
// the rules load.
TEST(policy_broker, deny_overrides_scope_and_allow_extends_it) {
    auto s = std::make_shared<scripted_source>(
        "sql",
        std::vector{rule(deny, all, "devices/{client_id}/admin"), rule(allow, pub, "extra/{client_id}")});
    broker_policy_fixture p({s});
    auto& c = p.f.client(0);
    ASSERT_EQ(p.connect(c, "dev-1", p.env.token("mqtt:all:devices/dev-1/#")).reason_code,
              reason_code::success);
    std::vector<std::uint8_t> bytes;
    mqtt::encode(mqtt::packet(make_publish("devices/dev-1/admin", "x", 1, 1)), mqtt::protocol_version::v5,
                 bytes);
    mqtt::encode(mqtt::packet(make_publish("devices/dev-1/up", "x", 1, 2)), mqtt::protocol_version::v5,
                 bytes);
    mqtt::encode(mqtt::packet(make_publish("extra/dev-1", "x", 1, 3)), mqtt::protocol_version::v5, bytes);
    c.send_raw(bytes);
    p.f.settle();
    EXPECT_TRUE(c.inbox_empty());  // waiting for the load; nothing answered out of order
    ASSERT_EQ(p.work.size(), 1u);
    p.run_work();
    auto a1 = c.expect<mqtt::puback>();
    EXPECT_EQ(a1.packet_id, 1);
    EXPECT_EQ(a1.reason_code, reason_code::not_authorized);
    auto a2 = c.expect<mqtt::puback>();
    EXPECT_EQ(a2.packet_id, 2);
    EXPECT_EQ(a2.reason_code, reason_code::no_matching_subscribers);
    auto a3 = c.expect<mqtt::puback>();
    EXPECT_EQ(a3.packet_id, 3);
    EXPECT_EQ(a3.reason_code, reason_code::no_matching_subscribers);
    // Cached now: answered inline.
    EXPECT_EQ(c.subscribe("devices/dev-1/#", 0, 4).reason_codes.at(0), reason_code::not_authorized);
    EXPECT_EQ(c.subscribe("devices/dev-1/up", 0, 5).reason_codes.at(0), reason_code::success);
    EXPECT_EQ(s->loads, 1);
}

TEST(policy_broker, failing_source_refuses_with_0x87) {
    auto s = std::make_shared<scripted_source>("sql");
    s->broken = true;
    broker_policy_fixture p({s});
    auto& c = p.f.client(0);
    ASSERT_EQ(p.connect(c, "d", p.env.token("mqtt:all:#")).reason_code, reason_code::success);
    c.send(make_publish("a", "x", 1, 1));
    p.f.settle();
    p.run_work();
    auto ack = c.expect<mqtt::puback>();
    EXPECT_EQ(ack.reason_code, reason_code::not_authorized);
    EXPECT_EQ(ack.properties.reason_string, "policy source unavailable");
}

TEST(policy_broker, session_ending_while_loading_is_harmless) {
    auto s = std::make_shared<scripted_source>("sql", std::vector{rule(allow, pub, "a")});
    broker_policy_fixture p({s});
    auto& c = p.f.client(0);
    ASSERT_EQ(p.connect(c, "d", p.env.token("mqtt:sub:x")).reason_code, reason_code::success);
    c.send(make_publish("a", "x", 1, 1));
    p.f.settle();
    c.drop();
    p.f.settle();
    p.run_work();  // answers into a closed connection
    EXPECT_EQ(s->loads, 1);
    auto& c2 = p.f.client(0);
    ASSERT_EQ(p.connect(c2, "d2", p.env.token("mqtt:sub:x")).reason_code, reason_code::success);
    c2.send(make_publish("a", "x", 1, 1));
    p.f.settle();
    p.run_work();
    EXPECT_EQ(c2.expect<mqtt::puback>().reason_code, reason_code::no_matching_subscribers);
}

}  // namespace
}  // namespace tollgate::auth::test
