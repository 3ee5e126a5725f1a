// ldap_source against a real slapd (the `slapd` ctest fixture, tests/support/slapd-server): rules
// from the user's entry and from its groups, RFC 4515 filter escaping, unknown users, unreachable and
// silent servers, TLS, the connection pool's retry, and skipped bad rule values.
// Each test builds its own subtree ou=<test name>,dc=tollgate,dc=test, so tests run in parallel.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>

#include <gtest/gtest.h>

#include <tollgate/auth/ldap_source.hpp>

#include "ldap_source_test_support.hpp"

namespace tollgate::auth {
namespace {

using ldap_test::attrs;
using ldap_test::directory_admin;

constexpr const char* service_dn = "cn=tollgate,ou=services,dc=tollgate,dc=test";
constexpr const char* service_password = "tollgate-test-secret";

broker::principal principal_of(std::string subject, std::string client_id = "device-1",
                               std::optional<std::string> username = std::nullopt) {
    broker::principal who;
    who.subject = std::move(subject);
    who.client_id = std::move(client_id);
    who.username = std::move(username);
    return who;
}

std::vector<std::string> labels(const std::vector<policy_rule>& rules) {
    std::vector<std::string> out;
    for (const auto& r : rules) {
        std::string action = r.action == grant_action::publish     ? "pub"
                             : r.action == grant_action::subscribe ? "sub"
                                                                   : "all";
        out.push_back(r.source + ": " + (r.effect == policy_effect::allow ? "allow " : "deny ") + action +
                      " " + r.filter);
    }
    std::sort(out.begin(), out.end());
    return out;
}

class LdapSourceTest : public ::testing::Test {
  protected:
    void SetUp() override {
        admin_ = std::make_unique<directory_admin>(ldap_test::server_url());
        const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
        base_ = std::string("ou=") + info->name() + ",dc=tollgate,dc=test";
        admin_->remove_subtree(base_);
        admin_->add(base_, {{"objectClass", {"organizationalUnit"}}, {"ou", {info->name()}}});
        admin_->add("ou=people," + base_, {{"objectClass", {"organizationalUnit"}}, {"ou", {"people"}}});
        admin_->add("ou=groups," + base_, {{"objectClass", {"organizationalUnit"}}, {"ou", {"groups"}}});
    }

    void TearDown() override { admin_->remove_subtree(base_); }

    std::string user_dn(const std::string& uid) const {
        return "uid=" + ldap_escape_dn(uid) + ",ou=people," + base_;
    }

    static std::string ldap_escape_dn(const std::string& v) {
        std::string out;
        for (const char c : v) {
            if (c == ',' || c == '+' || c == '"' || c == '\\' || c == '<' || c == '>' || c == ';' ||
                c == '=') {
                out.push_back('\\');
            }
            out.push_back(c);
        }
        return out;
    }

    void add_user(const std::string& uid, std::vector<std::string> rules, const std::string& sn = "user") {
        attrs a = {{"objectClass", {"inetOrgPerson"}}, {"uid", {uid}}, {"cn", {uid}}, {"sn", {sn}}};
        if (!rules.empty()) {
            a[0].second.push_back("tollgateMqttPolicy");
            a.emplace_back("mqttRule", std::move(rules));
        }
        admin_->add(user_dn(uid), a);
    }

    void add_group(const std::string& cn, const std::string& member_attr, std::vector<std::string> members,
                   std::vector<std::string> rules) {
        const std::string cls = member_attr == "member" ? "groupOfNames" : "groupOfUniqueNames";
        attrs a = {
            {"objectClass", {cls, "tollgateMqttPolicy"}}, {"cn", {cn}}, {member_attr, std::move(members)}};
        if (!rules.empty()) {
            a.emplace_back("mqttRule", std::move(rules));
        }
        admin_->add("cn=" + cn + ",ou=groups," + base_, a);
    }

    ldap_config config() const {
        ldap_config c;
        c.url = ldap_test::server_url();
        c.bind_dn = service_dn;
        c.bind_password = service_password;
        c.base_dn = base_;
        c.connect_timeout = std::chrono::milliseconds(3000);
        c.operation_timeout = std::chrono::milliseconds(3000);
        return c;
    }

    std::unique_ptr<directory_admin> admin_;
    std::string base_;
};

TEST_F(LdapSourceTest, RulesFromTheUserEntry) {
    add_user("alice", {"allow pub devices/{client_id}/#", "deny sub secret/#", "allow all room one/chat"});
    auto source = make_ldap_source(config());
    EXPECT_EQ(source->name(), "ldap");
    const auto rules = source->load(principal_of("alice"));
    const std::string src = "ldap " + user_dn("alice");
    EXPECT_EQ(labels(rules), (std::vector<std::string>{src + ": allow all room one/chat",
                                                       src + ": allow pub devices/{client_id}/#",
                                                       src + ": deny sub secret/#"}));
}

TEST_F(LdapSourceTest, RulesFromGroupsOfNamesAndUniqueNames) {
    add_user("bob", {"allow sub own/#"});
    add_user("carol", {});
    add_group("ops", "member", {user_dn("bob"), user_dn("carol")}, {"allow pub ops/#"});
    add_group("auditors", "uniqueMember", {user_dn("bob")}, {"deny pub ops/audit/#"});
    add_group("others", "member", {user_dn("carol")}, {"allow pub others/#"});
    add_group("empty-rules", "member", {user_dn("bob")}, {});
    auto source = make_ldap_source(config());
    const auto rules = source->load(principal_of("bob"));
    const std::string groups = ",ou=groups," + base_;
    EXPECT_EQ(labels(rules), (std::vector<std::string>{"ldap cn=auditors" + groups + ": deny pub ops/audit/#",
                                                       "ldap cn=ops" + groups + ": allow pub ops/#",
                                                       "ldap " + user_dn("bob") + ": allow sub own/#"}));
    // carol has no rules of her own: only her groups'.
    EXPECT_EQ(labels(source->load(principal_of("carol"))),
              (std::vector<std::string>{"ldap cn=ops" + groups + ": allow pub ops/#",
                                        "ldap cn=others" + groups + ": allow pub others/#"}));
}

TEST_F(LdapSourceTest, GroupSearchCanBeTurnedOff) {
    add_user("dave", {"allow sub a/#"});
    add_group("g", "member", {user_dn("dave")}, {"allow pub g/#"});
    auto c = config();
    c.group_filter.clear();
    EXPECT_EQ(make_ldap_source(c)->load(principal_of("dave")).size(), 1u);
}

TEST_F(LdapSourceTest, UnknownUserHasNoRules) {
    add_user("erin", {"allow pub x"});
    auto source = make_ldap_source(config());
    EXPECT_TRUE(source->load(principal_of("mallory")).empty());
    EXPECT_TRUE(source->load(principal_of("")).empty());  // no subject: nobody to look up
}

// RFC 4515 §3: without escaping, "*" would be a presence filter matching every user (and ")(uid=*"
// would splice a second assertion into the filter).
TEST_F(LdapSourceTest, FilterInjectionFindsNothing) {
    add_user("frank", {"allow pub frank/#"});
    add_user("grace", {"allow pub grace/#"});
    add_group("all", "member", {user_dn("frank"), user_dn("grace")}, {"allow pub all/#"});
    auto source = make_ldap_source(config());
    for (const std::string& attack :
         std::vector<std::string>{"*", ")(uid=*", "*)(|(uid=*", "fr*", "frank)(|(uid=*)", "\\2a", "frank\\",
                                  std::string("frank\0x", 7)}) {
        EXPECT_TRUE(source->load(principal_of(attack)).empty()) << attack;
    }
    EXPECT_EQ(source->load(principal_of("frank")).size(), 2u);
}

TEST_F(LdapSourceTest, SpecialCharactersInUserNamesAndDnsAreMatchedExactly) {
    const std::string odd = "o*d(d)\\ user";
    add_user(odd, {"allow pub odd/#"});
    add_user("o", {"allow pub o/#"});
    add_group("odd-group", "member", {user_dn(odd)}, {"allow sub odd-group/#"});
    auto source = make_ldap_source(config());
    // The server writes the DN in its own escaping (RFC 4514 hex pair for the backslash).
    EXPECT_EQ(
        labels(source->load(principal_of(odd))),
        (std::vector<std::string>{"ldap cn=odd-group,ou=groups," + base_ + ": allow sub odd-group/#",
                                  "ldap uid=o*d(d)\\5C user,ou=people," + base_ + ": allow pub odd/#"}));
    EXPECT_EQ(source->load(principal_of("o")).size(), 1u);
}

TEST_F(LdapSourceTest, IdentityCanBeTheUsernameOrTheClientId) {
    add_user("henry", {"allow pub henry/#"});
    auto c = config();
    c.identity = ldap_identity::username;
    EXPECT_EQ(make_ldap_source(c)->load(principal_of("sub-1", "cid", std::string("henry"))).size(), 1u);
    EXPECT_TRUE(make_ldap_source(c)->load(principal_of("henry", "cid", std::nullopt)).empty());
    c.identity = ldap_identity::client_id;
    EXPECT_EQ(make_ldap_source(c)->load(principal_of("sub-1", "henry")).size(), 1u);
    // The other principal values are available as placeholders too.
    c.identity = ldap_identity::subject;
    c.user_filter = "(&(objectClass=inetOrgPerson)(uid={client_id})(sn={sub}))";
    EXPECT_EQ(make_ldap_source(c)->load(principal_of("user", "henry")).size(), 1u);
    EXPECT_TRUE(make_ldap_source(c)->load(principal_of("other", "henry")).empty());
}

TEST_F(LdapSourceTest, BadRuleValuesAreSkipped) {
    add_user("ivan", {"permit pub a", "allow publish a", "allow pub", "allow pub a/#/b", "allow pub {nope}/x",
                      "allow sub $share/g/x", "DENY SUB x/+", "allow\tpub\tsp ace", std::string(5000, 'a')});
    const auto rules = make_ldap_source(config())->load(principal_of("ivan"));
    const std::string src = "ldap " + user_dn("ivan");
    EXPECT_EQ(labels(rules), (std::vector<std::string>{src + ": allow pub sp ace", src + ": deny sub x/+"}));
}

TEST_F(LdapSourceTest, AmbiguousUserFailsClosed) {
    add_user("jack", {"allow pub a"}, "twin");
    add_user("jill", {"deny pub a"}, "twin");
    auto c = config();
    c.user_filter = "(&(objectClass=inetOrgPerson)(sn={user}))";
    EXPECT_THROW(make_ldap_source(c)->load(principal_of("twin")), std::runtime_error);
}

TEST_F(LdapSourceTest, TooManyRulesOrGroupsFailClosed) {
    add_user("kate", {"allow pub a", "allow pub b", "allow pub c"});
    add_group("g1", "member", {user_dn("kate")}, {});
    add_group("g2", "member", {user_dn("kate")}, {});
    auto c = config();
    c.max_rules = 2;
    EXPECT_THROW(make_ldap_source(c)->load(principal_of("kate")), std::runtime_error);
    c.max_rules = 3;
    c.max_groups = 1;
    EXPECT_THROW(make_ldap_source(c)->load(principal_of("kate")), std::runtime_error);
    c.max_groups = 2;
    EXPECT_EQ(make_ldap_source(c)->load(principal_of("kate")).size(), 3u);
}

TEST_F(LdapSourceTest, WrongBindPasswordThrows) {
    add_user("liam", {"allow pub a"});
    auto c = config();
    c.bind_password = "wrong";
    try {
        make_ldap_source(c)->load(principal_of("liam"));
        FAIL() << "no exception";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("Invalid credentials"), std::string::npos) << e.what();
        EXPECT_EQ(std::string(e.what()).find("wrong"), std::string::npos)
            << "the password leaked: " << e.what();
    }
}

TEST_F(LdapSourceTest, UnreachableServerThrows) {
    auto c = config();
    c.url = "ldap://127.0.0.1:" + std::to_string(ldap_test::unused_port());
    EXPECT_THROW(make_ldap_source(c)->load(principal_of("anyone")), std::runtime_error);
}

TEST_F(LdapSourceTest, SilentServerTimesOut) {
    ldap_test::silent_listener silent;  // accepts TCP connections, never answers
    auto c = config();
    c.url = "ldap://127.0.0.1:" + std::to_string(silent.port());
    c.operation_timeout = std::chrono::milliseconds(300);
    const auto start = std::chrono::steady_clock::now();
    EXPECT_THROW(make_ldap_source(c)->load(principal_of("anyone")), std::runtime_error);
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
}

// StartTLS to a server that accepts and stays silent is bounded too (ldaps://: ldap_source_tls_test).
TEST_F(LdapSourceTest, SilentServerTimesOutInStartTls) {
    ldap_test::silent_listener silent;
    auto c = config();
    c.ca_file = ldap_test::server_dir() + "/ca.pem";
    c.connect_timeout = std::chrono::milliseconds(300);
    c.operation_timeout = std::chrono::milliseconds(300);
    c.url = "ldap://127.0.0.1:" + std::to_string(silent.port());
    c.tls = ldap_tls::starttls;
    const auto start = std::chrono::steady_clock::now();
    EXPECT_THROW(make_ldap_source(c)->load(principal_of("anyone")), std::runtime_error);
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
}

TEST_F(LdapSourceTest, StartTlsAndLdapsWithTheTestCa) {
    add_user("mia", {"allow pub tls/#"});
    auto c = config();
    c.tls = ldap_tls::starttls;
    c.ca_file = ldap_test::server_dir() + "/ca.pem";
    EXPECT_EQ(make_ldap_source(c)->load(principal_of("mia")).size(), 1u);
    c.tls = ldap_tls::none;
    c.url = ldap_test::read_file(ldap_test::server_dir() + "/url-ldaps");
    EXPECT_EQ(make_ldap_source(c)->load(principal_of("mia")).size(), 1u);
}

TEST_F(LdapSourceTest, TlsWithAnUntrustedCaThrows) {
    add_user("noah", {"allow pub tls/#"});
    auto c = config();
    c.tls = ldap_tls::starttls;
    c.ca_file = ldap_test::server_dir() + "/pki/other-ca.crt";
    EXPECT_THROW(make_ldap_source(c)->load(principal_of("noah")), std::runtime_error);
    c.tls = ldap_tls::none;
    c.url = ldap_test::read_file(ldap_test::server_dir() + "/url-ldaps");
    EXPECT_THROW(make_ldap_source(c)->load(principal_of("noah")), std::runtime_error);
}

// A pooled connection that the network dropped is replaced by a fresh, re-bound one: no failure.
TEST_F(LdapSourceTest, DroppedConnectionIsReboundOnce) {
    add_user("olivia", {"allow pub a"});
    ldap_test::tcp_proxy proxy(ldap_test::server_port());
    auto c = config();
    c.url = "ldap://127.0.0.1:" + std::to_string(proxy.port());
    auto source = make_ldap_source(c);
    EXPECT_EQ(source->load(principal_of("olivia")).size(), 1u);
    EXPECT_EQ(source->load(principal_of("olivia")).size(), 1u);
    EXPECT_EQ(proxy.accepted(), 1);  // the second load reused the connection
    proxy.drop_connections();
    EXPECT_EQ(source->load(principal_of("olivia")).size(), 1u);
    EXPECT_EQ(proxy.accepted(), 2);
    proxy.refuse_new();  // now nothing gets through: the source reports it
    proxy.drop_connections();
    EXPECT_THROW(source->load(principal_of("olivia")), std::runtime_error);
}

TEST_F(LdapSourceTest, ConcurrentLoadsShareABoundedPool) {
    add_user("pat", {"allow pub a"});
    add_group("g", "member", {user_dn("pat")}, {"allow pub b"});
    ldap_test::tcp_proxy proxy(ldap_test::server_port());
    auto c = config();
    c.url = "ldap://127.0.0.1:" + std::to_string(proxy.port());
    c.max_connections = 2;
    auto source = make_ldap_source(c);
    std::atomic<int> good{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 6; ++t) {
        threads.emplace_back([&] {
            for (int i = 0; i < 20; ++i) {
                if (source->load(principal_of("pat")).size() == 2) {
                    ++good;
                }
            }
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    EXPECT_EQ(good.load(), 120);
    EXPECT_LE(proxy.accepted(), 2);
}

// ---- nested groups: the seed's read-only ou=nested (tests/support/slapd-seed.ldif) -----------

class LdapNestedGroupsTest : public ::testing::Test {
  protected:
    static constexpr const char* base = "ou=nested,dc=tollgate,dc=test";

    static ldap_config config() {
        ldap_config c;
        c.url = ldap_test::server_url();
        c.bind_dn = service_dn;
        c.bind_password = service_password;
        c.base_dn = base;
        return c;
    }

    static std::string group(const std::string& cn) { return "ldap cn=" + cn + ",ou=groups," + base + ": "; }
};

// Rules of every group reached through groups of groups apply: nina -> leaf -> mid -> top, and
// leaf -> uniq (groupOfUniqueNames), 3 levels under the default max_group_depth (4).
TEST_F(LdapNestedGroupsTest, RulesOfEveryReachedGroupApply) {
    const auto rules = make_ldap_source(config())->load(principal_of("nina"));
    EXPECT_EQ(labels(rules), (std::vector<std::string>{
                                 group("leaf") + "allow pub leaf/#",
                                 group("mid") + "allow pub mid/#",
                                 group("top") + "allow sub top/#",
                                 group("top") + "deny pub top/secret/#",
                                 group("uniq") + "allow sub uniq/#",
                                 "ldap uid=nina,ou=people," + std::string(base) + ": allow pub nina/#",
                             }));
}

// A group beyond max_group_depth fails the load (its deny rules would otherwise be missed).
TEST_F(LdapNestedGroupsTest, NestingDeeperThanTheLimitFailsClosed) {
    auto c = config();
    c.max_group_depth = 2;  // top is at level 3
    try {
        make_ldap_source(c)->load(principal_of("nina"));
        FAIL() << "no exception";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("cn=top,ou=groups"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("max_group_depth"), std::string::npos) << e.what();
    }
    c.max_group_depth = 3;
    EXPECT_EQ(make_ldap_source(c)->load(principal_of("nina")).size(), 6u);
    // deep -> d1 -> ... -> d6: over the default depth of 4, within 6.
    EXPECT_THROW(make_ldap_source(config())->load(principal_of("deep")), std::runtime_error);
    c.max_group_depth = 6;
    const auto rules = make_ldap_source(c)->load(principal_of("deep"));
    EXPECT_EQ(rules.size(), 6u);
    EXPECT_EQ(labels(rules).back(), group("d6") + "allow pub d6/#");
}

// omar -> cycle-a -> cycle-b -> cycle-c -> cycle-a: each group is reached once, the load ends.
TEST_F(LdapNestedGroupsTest, CycleEndsAtTheFirstRepeat) {
    auto c = config();
    c.max_group_depth = 100;
    const auto rules = make_ldap_source(c)->load(principal_of("omar"));
    EXPECT_EQ(labels(rules), (std::vector<std::string>{group("cycle-a") + "allow pub a/#",
                                                       group("cycle-b") + "allow pub b/#",
                                                       group("cycle-c") + "allow pub c/#"}));
}

// max_groups bounds the groups reached over all levels (nina reaches 4).
TEST_F(LdapNestedGroupsTest, GroupsAreCountedOverAllLevels) {
    auto c = config();
    c.max_groups = 3;
    EXPECT_THROW(make_ldap_source(c)->load(principal_of("nina")), std::runtime_error);
    c.max_groups = 4;
    EXPECT_EQ(make_ldap_source(c)->load(principal_of("nina")).size(), 6u);
}

// A group filter that does not use {dn} cannot nest: the direct groups only, no error.
TEST_F(LdapNestedGroupsTest, FilterWithoutDnDoesNotNest) {
    auto c = config();
    c.group_filter =
        "(&(objectClass=groupOfNames)(cn=leaf)(member=uid={user},ou=people,ou=nested,dc=tollgate,dc=test))";
    EXPECT_EQ(
        labels(make_ldap_source(c)->load(principal_of("nina"))),
        (std::vector<std::string>{group("leaf") + "allow pub leaf/#",
                                  "ldap uid=nina,ou=people," + std::string(base) + ": allow pub nina/#"}));
}

// ---- pure parts (no server needed, but run with it) ------------------------------------------

TEST(LdapFilterEscape, Rfc4515SpecialCharacters) {
    EXPECT_EQ(ldap_escape_filter_value(std::string("*()\\\0", 5)), "\\2a\\28\\29\\5c\\00");
    EXPECT_EQ(ldap_escape_filter_value("alice"), "alice");
    EXPECT_EQ(ldap_escape_filter_value("caf\xc3\xa9 x\n"), "caf\\c3\\a9 x\\0a");
    EXPECT_EQ(ldap_escape_filter_value(""), "");
}

TEST(LdapRuleParse, ValuesAndErrors) {
    std::string why;
    auto r = parse_ldap_rule("allow pub devices/{client_id}/#", "ldap x", &why);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->effect, policy_effect::allow);
    EXPECT_EQ(r->action, grant_action::publish);
    EXPECT_EQ(r->filter, "devices/{client_id}/#");
    EXPECT_EQ(r->source, "ldap x");
    r = parse_ldap_rule("  Deny   ALL   a b/+/c ", "s");  // the filter is the rest, spaces included
    ASSERT_TRUE(r);
    EXPECT_EQ(r->effect, policy_effect::deny);
    EXPECT_EQ(r->action, grant_action::both);
    EXPECT_EQ(r->filter, "a b/+/c ");
    r = parse_ldap_rule("allow sub $SYS/#", "s");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->action, grant_action::subscribe);
    for (const std::string& bad :
         std::vector<std::string>{"", "allow", "allow pub", "allow pub   ", "grant pub a", "allow read a",
                                  "allow pub a/#/b", "allow pub a+", "allow pub {client}/a",
                                  "allow pub $share/g/a", std::string("allow pub a\0b", 13)}) {
        why.clear();
        EXPECT_FALSE(parse_ldap_rule(bad, "s", &why)) << bad;
        EXPECT_FALSE(why.empty()) << bad;
    }
}

TEST(LdapConfig, Validation) {
    ldap_config c;
    c.url = "ldap://127.0.0.1:389";
    c.base_dn = "dc=x";
    EXPECT_EQ(validate_ldap_config(c), std::nullopt);
    auto bad = [&](auto change) {
        ldap_config copy = c;
        change(copy);
        return validate_ldap_config(copy).has_value();
    };
    EXPECT_TRUE(bad([](ldap_config& x) { x.url = "http://127.0.0.1"; }));
    EXPECT_TRUE(bad([](ldap_config& x) { x.url = ""; }));
    EXPECT_TRUE(bad([](ldap_config& x) { x.base_dn = ""; }));
    EXPECT_TRUE(bad([](ldap_config& x) { x.bind_dn = "cn=a"; }));  // no password
    EXPECT_TRUE(bad([](ldap_config& x) { x.user_filter = "(uid={nobody})"; }));
    EXPECT_TRUE(bad([](ldap_config& x) { x.user_filter = "(uid={dn})"; }));
    EXPECT_TRUE(bad([](ldap_config& x) { x.user_filter = "uid={user}"; }));
    EXPECT_TRUE(bad([](ldap_config& x) { x.user_filter = "(&(uid={user})"; }));
    EXPECT_TRUE(bad([](ldap_config& x) { x.group_filter = "(member={dn}))("; }));
    EXPECT_TRUE(bad([](ldap_config& x) { x.rule_attribute = "mqtt rule"; }));
    EXPECT_TRUE(bad([](ldap_config& x) { x.max_connections = 0; }));
    EXPECT_TRUE(bad([](ldap_config& x) { x.tls = ldap_tls::ldaps; }));
    EXPECT_TRUE(bad([](ldap_config& x) {
        x.url = "ldap://ldap.example:389";
        x.bind_dn = "cn=a";
        x.bind_password = "p";
    }));
    EXPECT_FALSE(bad([](ldap_config& x) {
        x.url = "ldap://ldap.example:389";
        x.bind_dn = "cn=a";
        x.bind_password = "p";
        x.tls = ldap_tls::starttls;
    }));
    EXPECT_FALSE(bad([](ldap_config& x) { x.url = "ldaps://ldap.example"; }));
    EXPECT_TRUE(bad([](ldap_config& x) { x.max_group_depth = 0; }));
    // A client certificate: both files, over TLS only. SASL EXTERNAL: TLS + certificate, no DN/password.
    EXPECT_TRUE(bad([](ldap_config& x) {
        x.url = "ldaps://ldap.example";
        x.cert_file = "c.pem";
    }));
    EXPECT_TRUE(bad([](ldap_config& x) {
        x.cert_file = "c.pem";
        x.key_file = "k.pem";
    }));
    EXPECT_TRUE(bad([](ldap_config& x) {
        x.tls = ldap_tls::starttls;
        x.bind_method = ldap_bind_method::sasl_external;
    }));
    EXPECT_TRUE(bad([](ldap_config& x) {
        x.url = "ldaps://ldap.example";
        x.cert_file = "c.pem";
        x.key_file = "k.pem";
        x.bind_method = ldap_bind_method::sasl_external;
        x.bind_dn = "cn=a";
        x.bind_password = "p";
    }));
    EXPECT_FALSE(bad([](ldap_config& x) {
        x.url = "ldaps://ldap.example";
        x.cert_file = "c.pem";
        x.key_file = "k.pem";
        x.bind_method = ldap_bind_method::sasl_external;
    }));
    EXPECT_FALSE(bad([](ldap_config& x) {
        x.tls = ldap_tls::starttls;
        x.cert_file = "c.pem";
        x.key_file = "k.pem";
        x.bind_dn = "cn=a";
        x.bind_password = "p";
    }));
    EXPECT_FALSE(bad([](ldap_config& x) { x.rule_attribute = "1.3.6.1.4.1.1"; }));
    EXPECT_THROW(make_ldap_source(ldap_config{}), std::invalid_argument);
}

}  // namespace
}  // namespace tollgate::auth
