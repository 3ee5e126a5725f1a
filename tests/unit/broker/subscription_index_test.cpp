// Tests of the subscription trie: wildcard semantics (MQTT 5.0 §4.7), overlapping subscriptions
// (§3.3.4), No Local (§3.8.3), shared subscriptions (§4.8.2), replace semantics (§3.8.4), pruning,
// and a random differential test against a brute-force reference matcher written here.
#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>

#include <tollgate/broker/subscription_index.hpp>
#include <tollgate/broker/topic.hpp>

namespace tollgate::broker {
namespace {

// --- reference matcher: the rules of §4.7 written as plainly as possible -----------------------

std::vector<std::string> split(std::string_view text) {
    std::vector<std::string> levels;
    std::string current;
    for (const char c : text) {
        if (c == '/') {
            levels.push_back(current);
            current.clear();
        } else {
            current.push_back(c);
        }
    }
    levels.push_back(current);
    return levels;
}

bool reference_matches(std::string_view filter, std::string_view name) {
    if (!name.empty() && name[0] == '$' && !filter.empty() && (filter[0] == '+' || filter[0] == '#')) {
        return false;
    }
    const std::vector<std::string> f = split(filter);
    const std::vector<std::string> n = split(name);
    for (std::size_t i = 0; i < f.size(); ++i) {
        if (f[i] == "#") {
            return true;
        }
        if (i >= n.size()) {
            return false;
        }
        if (f[i] != "+" && f[i] != n[i]) {
            return false;
        }
    }
    return f.size() == n.size();
}

std::shared_ptr<session_handle> make_session(std::uint64_t id, bool connected = true) {
    auto handle = std::make_shared<session_handle>(id, "client-" + std::to_string(id), 0);
    handle->connected = connected;
    return handle;
}

subscription_options qos(std::uint8_t max_qos, std::uint32_t identifier = 0) {
    subscription_options options;
    options.max_qos = max_qos;
    options.subscription_identifier = identifier;
    return options;
}

std::vector<delivery_target> match(subscription_index& index, std::string_view topic_name,
                                   std::uint64_t publisher = 0) {
    std::vector<delivery_target> out;
    index.match(topic_name, publisher, out);
    return out;
}

// --- the wildcard table ----------------------------------------------------------------------------

struct match_row {
    const char* filter;
    const char* name;
    bool expected;
    const char* rule;
};

const match_row match_table[] = {
    {"sport/tennis/player1/#", "sport/tennis/player1", true, "§4.7.1.2 '#' matches the parent level"},
    {"sport/tennis/player1/#", "sport/tennis/player1/ranking", true, "§4.7.1.2"},
    {"sport/tennis/player1/#", "sport/tennis/player1/score/wimbledon", true, "§4.7.1.2"},
    {"sport/#", "sport", true, "§4.7.1.2 'sport/#' also matches 'sport'"},
    {"#", "sport", true, "§4.7.1.2 '#' alone matches every topic"},
    {"#", "a/b/c", true, "§4.7.1.2"},
    {"#", "/", true, "§4.7.1.2 with empty levels"},
    {"sport/tennis/#", "sport/tennis", true, "§4.7.1.2"},
    {"sport/tennis/+", "sport/tennis/player1", true, "§4.7.1.3"},
    {"sport/tennis/+", "sport/tennis/player2", true, "§4.7.1.3"},
    {"sport/tennis/+", "sport/tennis/player1/ranking", false, "§4.7.1.3 '+' is one level only"},
    {"sport/+", "sport", false, "§4.7.1.3 'sport/+' does not match 'sport'"},
    {"sport/+", "sport/", true, "§4.7.1.3 'sport/+' matches 'sport/' (empty level)"},
    {"+", "sport", true, "§4.7.1.3"},
    {"+", "a/b", false, "§4.7.1.3"},
    {"+/+", "/finance", true, "§4.7.1.3 '+/+' matches '/finance'"},
    {"/+", "/finance", true, "§4.7.1.3 '/+' matches '/finance'"},
    {"+", "/finance", false, "§4.7.1.3 '+' does not match '/finance'"},
    {"+/tennis/#", "sport/tennis", true, "§4.7.1.3 '+' with '#'"},
    {"+/tennis/#", "sport/tennis/x/y", true, "§4.7.1.3"},
    {"a/+/b", "a//b", true, "§4.7.3 empty level matched by '+'"},
    {"a//b", "a//b", true, "§4.7.3 empty levels are levels"},
    {"a//b", "a/b", false, "§4.7.3"},
    {"a/b", "a/b/c", false, "§4.7.3 exact filter"},
    {"a/b/c", "a/b", false, "§4.7.3 exact filter"},
    {"/finance", "/finance", true, "§4.7.3 leading '/' makes an empty level"},
    {"finance", "/finance", false, "§4.7.3 leading '/' is distinct"},
    {"ACCOUNTS", "Accounts", false, "§4.7.3 matching is case-sensitive"},
    {"a b/c", "a b/c", true, "§4.7.3 spaces are allowed"},
    {"#", "$SYS/monitor", false, "[MQTT-4.7.2-1] '#' does not match '$' topics"},
    {"#", "$SYS", false, "[MQTT-4.7.2-1]"},
    {"+/monitor/Clients", "$SYS/monitor/Clients", false, "[MQTT-4.7.2-1] '+' first level vs '$'"},
    {"+/#", "$SYS/x", false, "[MQTT-4.7.2-1]"},
    {"$SYS/#", "$SYS/monitor/Clients", true, "§4.7.2 '$SYS/#' matches '$' topics"},
    {"$SYS/#", "$SYS", true, "§4.7.2 with §4.7.1.2"},
    {"$SYS/monitor/+", "$SYS/monitor/Clients", true, "§4.7.2"},
    {"$SYS/#", "SYS/x", false, "§4.7.2"},
    {"a/$b", "a/$b", true, "'$' later in a topic is an ordinary character"},
    {"a/+", "a/$b", true, "[MQTT-4.7.2-1] applies to the first level only"},
    {"a/#", "a/$b/c", true, "[MQTT-4.7.2-1] applies to the first level only"},
};

TEST(SubscriptionIndex, WildcardMatchingTable) {
    for (const match_row& row : match_table) {
        SCOPED_TRACE(std::string(row.filter) + " vs " + row.name + " " + row.rule);
        subscription_index index;
        index.subscribe(row.filter, make_session(1), qos(1));
        EXPECT_EQ(match(index, row.name).size(), row.expected ? 1U : 0U);
        EXPECT_EQ(reference_matches(row.filter, row.name), row.expected);
        EXPECT_EQ(topic::matches(row.filter, row.name), row.expected);
    }
}

TEST(SubscriptionIndex, WholeTableInOneIndex) {
    subscription_index index;
    std::vector<std::shared_ptr<session_handle>> sessions;
    for (std::size_t i = 0; i < std::size(match_table); ++i) {
        sessions.push_back(make_session(i + 1));
        index.subscribe(match_table[i].filter, sessions.back(), qos(0));
    }
    std::set<std::string> names;
    for (const match_row& row : match_table) {
        names.insert(row.name);
    }
    for (const std::string& name : names) {
        std::set<session_handle*> expected;
        for (std::size_t i = 0; i < std::size(match_table); ++i) {
            if (reference_matches(match_table[i].filter, name)) {
                expected.insert(sessions[i].get());
            }
        }
        std::set<session_handle*> got;
        for (const delivery_target& t : match(index, name)) {
            EXPECT_TRUE(got.insert(t.subscriber).second) << "duplicate target for " << name;
        }
        EXPECT_EQ(got, expected) << name;
    }
}

// --- overlapping subscriptions, No Local -------------------------------------------------------------

TEST(SubscriptionIndex, OverlappingSubscriptionsGiveOneTargetWithMaxQosAndAllIdentifiers) {
    // [MQTT-3.3.4-2] highest QoS of the matching subscriptions; [MQTT-3.3.4-3], [MQTT-3.3.4-4] one copy
    // carrying the identifiers of every matching subscription that has one.
    subscription_index index;
    auto s = make_session(7);
    index.subscribe("a/+", s, qos(1, 11));
    index.subscribe("a/#", s, qos(2, 22));
    index.subscribe("a/b", s, qos(0));
    index.subscribe("+/b", s, qos(0, 44));
    auto other = make_session(8);
    index.subscribe("a/b", other, qos(1));

    auto targets = match(index, "a/b");
    ASSERT_EQ(targets.size(), 2U);
    std::sort(targets.begin(), targets.end(),
              [](const auto& x, const auto& y) { return x.subscriber->id < y.subscriber->id; });
    EXPECT_EQ(targets[0].subscriber, s.get());
    EXPECT_EQ(targets[0].qos, 2);
    EXPECT_FALSE(targets[0].shared);
    auto ids = targets[0].subscription_identifiers;
    std::sort(ids.begin(), ids.end());
    EXPECT_EQ(ids, (std::vector<std::uint32_t>{11, 22, 44}));
    EXPECT_EQ(targets[1].subscriber, other.get());
    EXPECT_EQ(targets[1].qos, 1);
    EXPECT_TRUE(targets[1].subscription_identifiers.empty());

    targets = match(index, "a/c");  // only a/+ and a/#
    ASSERT_EQ(targets.size(), 1U);
    ids = targets[0].subscription_identifiers;
    std::sort(ids.begin(), ids.end());
    EXPECT_EQ(ids, (std::vector<std::uint32_t>{11, 22}));
}

TEST(SubscriptionIndex, RetainAsPublishedIsKeptPerTarget) {
    subscription_index index;
    auto s = make_session(1);
    subscription_options rap = qos(1);
    rap.retain_as_published = true;
    index.subscribe("x/#", s, rap);
    index.subscribe("y", s, qos(1));
    EXPECT_TRUE(match(index, "x/1").at(0).retain_as_published);
    EXPECT_FALSE(match(index, "y").at(0).retain_as_published);
}

TEST(SubscriptionIndex, NoLocalSkipsThePublishersOwnSubscription) {
    // [MQTT-3.8.3-3] Application Messages MUST NOT be forwarded to a connection with a ClientID equal
    // to the ClientID of the publishing connection when No Local is set.
    subscription_index index;
    auto one = make_session(1);
    auto two = make_session(2);
    subscription_options no_local = qos(1, 5);
    no_local.no_local = true;
    index.subscribe("a/#", one, no_local);
    index.subscribe("a/#", two, no_local);

    auto targets = match(index, "a/b", 1);
    ASSERT_EQ(targets.size(), 1U);
    EXPECT_EQ(targets[0].subscriber, two.get());
    EXPECT_EQ(match(index, "a/b", 3).size(), 2U);
    EXPECT_EQ(match(index, "a/b", 0).size(), 2U);  // broker-made messages

    // An overlapping subscription without No Local still delivers, with only its own identifier.
    index.subscribe("a/b", one, qos(0, 9));
    targets = match(index, "a/b", 1);
    ASSERT_EQ(targets.size(), 2U);
    for (const auto& t : targets) {
        if (t.subscriber == one.get()) {
            EXPECT_EQ(t.qos, 0);
            EXPECT_EQ(t.subscription_identifiers, (std::vector<std::uint32_t>{9}));
        }
    }
}

TEST(SubscriptionIndex, MatchAppendsToExistingOutput) {
    subscription_index index;
    auto s = make_session(1);
    index.subscribe("a", s, qos(1, 1));
    index.subscribe("+", s, qos(2, 2));
    std::vector<delivery_target> out(3);
    index.match("a", 0, out);
    index.match("a", 0, out);
    ASSERT_EQ(out.size(), 5U);
    EXPECT_EQ(out[0].subscriber, nullptr);
    EXPECT_EQ(out[3].subscription_identifiers.size(), 2U);
    EXPECT_EQ(out[4].subscription_identifiers.size(), 2U);
    EXPECT_EQ(out[4].qos, 2);
}

// --- replace, unsubscribe, remove_session --------------------------------------------------------------

TEST(SubscriptionIndex, ResubscribingReplacesOptions) {
    // [MQTT-3.8.4-3] an identical Topic Filter replaces the existing Subscription; its options change.
    subscription_index index;
    auto s = make_session(1);
    EXPECT_EQ(index.subscribe("a/+", s, qos(0, 1)), subscription_index::subscribe_result::added);
    EXPECT_EQ(index.subscribe("a/+", s, qos(2, 3)), subscription_index::subscribe_result::replaced);
    EXPECT_EQ(index.subscription_count(), 1U);
    EXPECT_EQ(index.session_subscription_count(1), 1U);
    auto targets = match(index, "a/x");
    ASSERT_EQ(targets.size(), 1U);
    EXPECT_EQ(targets[0].qos, 2);
    EXPECT_EQ(targets[0].subscription_identifiers, (std::vector<std::uint32_t>{3}));

    // A re-subscription may carry a new handle object for the same session id: targets use it.
    auto same_session_new_handle = make_session(1);
    EXPECT_EQ(index.subscribe("a/+", same_session_new_handle, qos(2, 3)),
              subscription_index::subscribe_result::replaced);
    EXPECT_EQ(match(index, "a/x").at(0).subscriber, same_session_new_handle.get());

    EXPECT_EQ(index.subscribe("$share/g/a/+", s, qos(1)), subscription_index::subscribe_result::added);
    EXPECT_EQ(index.subscribe("$share/g/a/+", s, qos(0)), subscription_index::subscribe_result::replaced);
    EXPECT_EQ(index.subscribe("$share/h/a/+", s, qos(0)), subscription_index::subscribe_result::added);
    EXPECT_EQ(index.subscription_count(), 3U);
    EXPECT_EQ(index.subscriptions_of(1).at(1).second.max_qos, 0);
}

TEST(SubscriptionIndex, UnsubscribeRemovesExactlyThatSubscription) {
    subscription_index index;
    auto s = make_session(1);
    index.subscribe("a/b", s, qos(1));
    index.subscribe("a/#", s, qos(1));
    EXPECT_FALSE(index.unsubscribe("a/+", 1));
    EXPECT_FALSE(index.unsubscribe("a/b", 2));
    EXPECT_TRUE(index.unsubscribe("a/b", 1));
    EXPECT_FALSE(index.unsubscribe("a/b", 1));
    EXPECT_EQ(match(index, "a/b").size(), 1U);
    EXPECT_TRUE(index.unsubscribe("a/#", 1));
    EXPECT_TRUE(match(index, "a/b").empty());
    EXPECT_EQ(index.subscription_count(), 0U);
    EXPECT_EQ(index.node_count(), 1U);
}

TEST(SubscriptionIndex, UnsubscribeOfSharedFilterRemovesOnlyThatGroupMembership) {
    // §4.8.2: "$share/g/f" is a subscription distinct from "f" and from "$share/h/f".
    subscription_index index;
    auto s = make_session(1);
    index.subscribe("a", s, qos(0));
    index.subscribe("$share/g/a", s, qos(1));
    index.subscribe("$share/h/a", s, qos(2));
    EXPECT_EQ(index.subscription_count(), 3U);
    auto targets = match(index, "a");
    EXPECT_EQ(targets.size(), 3U);
    EXPECT_EQ(std::count_if(targets.begin(), targets.end(), [](const auto& t) { return t.shared; }), 2);

    EXPECT_TRUE(index.unsubscribe("$share/g/a", 1));
    targets = match(index, "a");
    ASSERT_EQ(targets.size(), 2U);
    EXPECT_EQ(
        std::count_if(targets.begin(), targets.end(), [](const auto& t) { return t.shared && t.qos == 2; }),
        1);
    EXPECT_TRUE(index.unsubscribe("a", 1));
    targets = match(index, "a");
    ASSERT_EQ(targets.size(), 1U);
    EXPECT_TRUE(targets[0].shared);
    EXPECT_FALSE(index.unsubscribe("$share/g/a", 1));
    EXPECT_TRUE(index.unsubscribe("$share/h/a", 1));
    EXPECT_EQ(index.node_count(), 1U);
}

TEST(SubscriptionIndex, RemoveSessionDropsAllItsSubscriptionsOnly) {
    subscription_index index;
    auto one = make_session(1);
    auto two = make_session(2);
    const std::size_t baseline = index.node_count();
    for (const char* f : {"a/b", "a/+", "#", "$share/g/a/b", "x/y/z"}) {
        index.subscribe(f, one, qos(1));
    }
    index.subscribe("a/b", two, qos(0));
    index.subscribe("$share/g/a/b", two, qos(0));
    EXPECT_EQ(index.session_subscription_count(1), 5U);
    EXPECT_EQ(index.remove_session(1), 5U);
    EXPECT_EQ(index.remove_session(1), 0U);
    EXPECT_EQ(index.session_subscription_count(1), 0U);
    EXPECT_TRUE(index.subscriptions_of(1).empty());
    EXPECT_EQ(index.subscription_count(), 2U);
    auto targets = match(index, "a/b");
    ASSERT_EQ(targets.size(), 2U);
    for (const auto& t : targets) {
        EXPECT_EQ(t.subscriber, two.get());
    }
    EXPECT_TRUE(match(index, "x/y/z").empty());
    EXPECT_EQ(index.remove_session(2), 2U);
    EXPECT_EQ(index.node_count(), baseline);
}

TEST(SubscriptionIndex, SubscriptionsOfListsFiltersAsGiven) {
    subscription_index index;
    auto s = make_session(4);
    index.subscribe("$share/grp/t/#", s, qos(1, 3));
    index.subscribe("t/+", s, qos(2));
    const auto subs = index.subscriptions_of(4);
    ASSERT_EQ(subs.size(), 2U);
    EXPECT_EQ(subs[0].first, "$share/grp/t/#");
    EXPECT_EQ(subs[0].second, qos(1, 3));
    EXPECT_EQ(subs[1].first, "t/+");
    EXPECT_EQ(subs[1].second.max_qos, 2);
}

TEST(SubscriptionIndex, NodesArePrunedUnderChurn) {
    // Subscribe/unsubscribe churn with ever-new filters must not grow the trie (CVE-2024-8376 class).
    subscription_index index;
    auto s = make_session(1);
    const std::size_t baseline = index.node_count();
    ASSERT_EQ(baseline, 1U);
    for (int i = 0; i < 5000; ++i) {
        const std::string filter = "churn/" + std::to_string(i) + "/+/leaf/#";
        const std::string shared = "$share/g" + std::to_string(i) + "/" + filter;
        index.subscribe(filter, s, qos(1));
        index.subscribe(shared, s, qos(1));
        index.subscribe("churn/fixed", s, qos(0));
        EXPECT_GT(index.node_count(), baseline);
        ASSERT_TRUE(index.unsubscribe(filter, 1));
        ASSERT_TRUE(index.unsubscribe(shared, 1));
        ASSERT_TRUE(index.unsubscribe("churn/fixed", 1));
        ASSERT_EQ(index.node_count(), baseline);
    }
    EXPECT_EQ(index.subscription_count(), 0U);
}

TEST(SubscriptionIndex, MismatchedSharedAndPlainChurnLeavesNothing) {
    // hostile-inputs #40 (CVE-2024-8376 class): SUBSCRIBE/UNSUBSCRIBE sequences mixing "$share/g/t"
    // and "t" for the same and for different sessions. Run under ASan: no leak, no use-after-free.
    subscription_index index;
    auto one = make_session(1);
    auto two = make_session(2);
    for (int round = 0; round < 200; ++round) {
        index.subscribe("t", one, qos(1));
        EXPECT_FALSE(index.unsubscribe("$share/g/t", 1));  // not subscribed that way
        index.subscribe("$share/g/t", one, qos(1));
        index.subscribe("$share/g/t", two, qos(0));
        EXPECT_TRUE(index.unsubscribe("t", 1));
        EXPECT_FALSE(index.unsubscribe("t", 2));
        auto targets = match(index, "t");
        ASSERT_EQ(targets.size(), 1U);
        EXPECT_TRUE(targets[0].shared);
        EXPECT_TRUE(index.unsubscribe("$share/g/t", 1));
        targets = match(index, "t");
        ASSERT_EQ(targets.size(), 1U);
        EXPECT_EQ(targets[0].subscriber, two.get());
        index.subscribe("t", two, qos(2));
        index.subscribe("$share/h/t", one, qos(2));
        EXPECT_EQ(index.remove_session(2), 2U);
        EXPECT_EQ(index.remove_session(1), 1U);
        ASSERT_EQ(index.subscription_count(), 0U);
        ASSERT_EQ(index.node_count(), 1U);
        EXPECT_TRUE(match(index, "t").empty());
    }
    EXPECT_EQ(one.use_count(), 1);  // the index kept no reference
    EXPECT_EQ(two.use_count(), 1);
}

TEST(SubscriptionIndex, PruningKeepsNodesStillInUse) {
    subscription_index index;
    auto s = make_session(1);
    index.subscribe("a/b/c", s, qos(0));
    index.subscribe("a/b", s, qos(0));
    const std::size_t with_both = index.node_count();
    EXPECT_EQ(with_both, 4U);  // root, a, b, c
    index.unsubscribe("a/b", 1);
    EXPECT_EQ(index.node_count(), 4U);
    EXPECT_EQ(match(index, "a/b/c").size(), 1U);
    index.unsubscribe("a/b/c", 1);
    EXPECT_EQ(index.node_count(), 1U);
}

// --- shared subscriptions ----------------------------------------------------------------------------

TEST(SubscriptionIndex, SharedGroupIsRoundRobin) {
    // §4.8.2: each message goes to exactly one session of the group; tollgate picks round-robin.
    subscription_index index;
    std::vector<std::shared_ptr<session_handle>> members;
    for (std::uint64_t id = 1; id <= 3; ++id) {
        members.push_back(make_session(id));
        index.subscribe("$share/workers/jobs/+", members.back(), qos(1));
    }
    auto observer = make_session(10);
    index.subscribe("jobs/#", observer, qos(0));
    auto other_group = make_session(11);
    index.subscribe("$share/audit/jobs/+", other_group, qos(0));

    std::map<session_handle*, int> received;
    std::vector<session_handle*> order;
    for (int i = 0; i < 300; ++i) {
        auto targets = match(index, "jobs/" + std::to_string(i));
        ASSERT_EQ(targets.size(), 3U);  // observer + one per group
        for (const auto& t : targets) {
            if (t.shared && t.subscriber != other_group.get()) {
                received[t.subscriber]++;
                order.push_back(t.subscriber);
            }
        }
    }
    ASSERT_EQ(received.size(), 3U);
    for (const auto& [member, count] : received) {
        EXPECT_EQ(count, 100) << member->id;
    }
    for (std::size_t i = 3; i < order.size(); ++i) {
        EXPECT_EQ(order[i], order[i - 3]) << "strict rotation";
    }
}

TEST(SubscriptionIndex, SharedGroupPrefersConnectedMembers) {
    subscription_index index;
    auto a = make_session(1, true);
    auto b = make_session(2, false);
    auto c = make_session(3, true);
    for (const auto& s : {a, b, c}) {
        index.subscribe("$share/g/t", s, qos(1));
    }
    std::map<session_handle*, int> received;
    for (int i = 0; i < 100; ++i) {
        auto targets = match(index, "t");
        ASSERT_EQ(targets.size(), 1U);
        received[targets[0].subscriber]++;
    }
    EXPECT_EQ(received[a.get()], 50);
    EXPECT_EQ(received[c.get()], 50);
    EXPECT_EQ(received.count(b.get()), 0U);

    // Nobody connected: still one target per message, spread over all members (queued for later).
    a->connected = false;
    c->connected = false;
    received.clear();
    for (int i = 0; i < 99; ++i) {
        auto targets = match(index, "t");
        ASSERT_EQ(targets.size(), 1U);
        received[targets[0].subscriber]++;
    }
    EXPECT_EQ(received.size(), 3U);
    for (const auto& [member, count] : received) {
        EXPECT_EQ(count, 33) << member->id;
    }
}

TEST(SubscriptionIndex, SharedGroupSurvivesMembersLeaving) {
    subscription_index index;
    std::vector<std::shared_ptr<session_handle>> members;
    for (std::uint64_t id = 1; id <= 5; ++id) {
        members.push_back(make_session(id));
        index.subscribe("$share/g/t/#", members.back(), qos(1));
    }
    for (std::uint64_t id = 1; id <= 5; ++id) {
        for (int i = 0; i < 7; ++i) {
            ASSERT_EQ(match(index, "t/x").size(), 1U);
        }
        if (id % 2 == 0) {
            EXPECT_EQ(index.remove_session(id), 1U);
        } else {
            EXPECT_TRUE(index.unsubscribe("$share/g/t/#", id));
        }
        std::set<std::uint64_t> seen;
        for (int i = 0; i < 20; ++i) {
            for (const auto& t : match(index, "t/x")) {
                EXPECT_GT(t.subscriber->id, id);
                seen.insert(t.subscriber->id);
            }
        }
        EXPECT_EQ(seen.size(), 5 - id);
    }
    EXPECT_EQ(index.node_count(), 1U);
}

// --- robustness ------------------------------------------------------------------------------------

TEST(SubscriptionIndex, OddInputNeverCrashes) {
    subscription_index index;
    auto s = make_session(1);
    for (const char* f :
         {"", "/", "//", "$share/", "$share/g", "$share//a", "$share/g/", "a/#/b", "+#", "#/#"}) {
        index.subscribe(f, s, qos(0));
    }
    index.subscribe("x", nullptr, qos(0));
    for (const char* t : {"", "/", "//", "a", "$", "$share/g/a", "a/#/b"}) {
        (void)match(index, t);
    }
    EXPECT_EQ(index.remove_session(1), 10U);
    EXPECT_EQ(index.node_count(), 1U);
}

TEST(SubscriptionIndex, VeryDeepFiltersAndTopicsUseNoRecursion) {
    subscription_index index;
    auto s = make_session(1);
    std::string deep;
    for (int i = 0; i < 200000; ++i) {
        deep += i == 0 ? "l" : "/l";
    }
    index.subscribe(deep, s, qos(0));
    index.subscribe("+/#", s, qos(0));
    EXPECT_EQ(match(index, deep).size(), 1U);
    EXPECT_EQ(index.node_count(), 200000U + 3U);
    // Destruction of the 200k-level trie happens at scope end; it must not overflow the stack.
}

TEST(SubscriptionIndex, MoveLeavesAnEmptyUsableIndex) {
    subscription_index index;
    auto s = make_session(1);
    index.subscribe("a/b", s, qos(1));
    subscription_index moved(std::move(index));
    EXPECT_EQ(match(moved, "a/b").size(), 1U);
    EXPECT_EQ(index.subscription_count(), 0U);  // NOLINT(bugprone-use-after-move): documented state
    EXPECT_TRUE(match(index, "a/b").empty());
    index.subscribe("a/b", s, qos(1));
    EXPECT_EQ(match(index, "a/b").size(), 1U);
    moved = std::move(index);
    EXPECT_EQ(moved.subscription_count(), 1U);
}

// --- random differential test -------------------------------------------------------------------

struct reference_sub {
    std::string filter;  // as given
    std::uint64_t session;
    subscription_options options;
};

std::string random_filter(std::mt19937& rng) {
    static const char* const levels[] = {"a", "b", "c", "", "$x", "+"};
    const int depth = std::uniform_int_distribution<int>(1, 4)(rng);
    std::string filter;
    for (int i = 0; i < depth; ++i) {
        if (i > 0) {
            filter += '/';
        }
        if (i == depth - 1 && std::uniform_int_distribution<int>(0, 4)(rng) == 0) {
            filter += '#';
        } else {
            filter += levels[std::uniform_int_distribution<std::size_t>(0, std::size(levels) - 1)(rng)];
        }
    }
    if (std::uniform_int_distribution<int>(0, 5)(rng) == 0) {
        filter = "$share/g" + std::to_string(std::uniform_int_distribution<int>(0, 2)(rng)) + "/" + filter;
    }
    return filter;
}

std::string random_topic(std::mt19937& rng) {
    static const char* const levels[] = {"a", "b", "c", "", "$x"};
    const int depth = std::uniform_int_distribution<int>(1, 4)(rng);
    std::string name;
    for (int i = 0; i < depth; ++i) {
        if (i > 0) {
            name += '/';
        }
        name += levels[std::uniform_int_distribution<std::size_t>(0, std::size(levels) - 1)(rng)];
    }
    return name;
}

void check_against_reference(subscription_index& index, const std::vector<reference_sub>& subs,
                             const std::string& name, std::uint64_t publisher) {
    // Expected non-shared: session -> (max qos, sorted ids). Expected shared: group key -> members.
    std::map<std::uint64_t, std::pair<int, std::vector<std::uint32_t>>> plain;
    std::map<std::string, std::set<std::uint64_t>> groups;
    for (const reference_sub& sub : subs) {
        const topic::shared_filter parsed = topic::parse_shared(sub.filter);
        if (!reference_matches(parsed.filter, name)) {
            continue;
        }
        if (sub.options.no_local && sub.session == publisher) {
            continue;
        }
        if (parsed.is_shared) {
            groups[std::string(parsed.group) + "\n" + std::string(parsed.filter)].insert(sub.session);
            continue;
        }
        auto& entry = plain.try_emplace(sub.session, -1, std::vector<std::uint32_t>{}).first->second;
        entry.first = std::max<int>(entry.first, sub.options.max_qos);
        if (sub.options.subscription_identifier != 0) {
            entry.second.push_back(sub.options.subscription_identifier);
        }
    }
    std::map<std::uint64_t, std::pair<int, std::vector<std::uint32_t>>> got_plain;
    std::size_t got_shared = 0;
    for (delivery_target& t : match(index, name, publisher)) {
        std::sort(t.subscription_identifiers.begin(), t.subscription_identifiers.end());
        if (t.shared) {
            ++got_shared;
            bool member = false;
            for (const auto& g : groups) {
                member = member || g.second.count(t.subscriber->id) != 0;
            }
            EXPECT_TRUE(member) << name << " shared target " << t.subscriber->id;
            continue;
        }
        EXPECT_TRUE(got_plain.try_emplace(t.subscriber->id, t.qos, t.subscription_identifiers).second)
            << "two non-shared targets for one session";
    }
    for (auto& entry : plain) {
        std::sort(entry.second.second.begin(), entry.second.second.end());
    }
    EXPECT_EQ(got_plain, plain) << name;
    EXPECT_EQ(got_shared, groups.size()) << name;
}

TEST(SubscriptionIndex, RandomDifferentialAgainstBruteForce) {
    std::mt19937 rng(20261128);
    subscription_index index;
    std::vector<std::shared_ptr<session_handle>> sessions;
    for (std::uint64_t id = 1; id <= 12; ++id) {
        sessions.push_back(make_session(id, id % 3 != 0));
    }
    std::vector<reference_sub> subs;
    std::uint32_t next_identifier = 1;
    for (int round = 0; round < 4000; ++round) {
        const int op = std::uniform_int_distribution<int>(0, 9)(rng);
        const std::uint64_t session = std::uniform_int_distribution<std::uint64_t>(1, 12)(rng);
        if (op < 5) {
            reference_sub sub{random_filter(rng), session, {}};
            sub.options.max_qos = static_cast<std::uint8_t>(std::uniform_int_distribution<int>(0, 2)(rng));
            sub.options.no_local = std::uniform_int_distribution<int>(0, 3)(rng) == 0;
            sub.options.subscription_identifier = (round % 2 == 0) ? next_identifier++ : 0;
            const auto existing = std::find_if(subs.begin(), subs.end(), [&](const reference_sub& s) {
                return s.session == session && s.filter == sub.filter;
            });
            const auto result = index.subscribe(sub.filter, sessions[session - 1], sub.options);
            if (existing == subs.end()) {
                EXPECT_EQ(result, subscription_index::subscribe_result::added);
                subs.push_back(sub);
            } else {
                EXPECT_EQ(result, subscription_index::subscribe_result::replaced);
                existing->options = sub.options;
            }
        } else if (op < 8 && !subs.empty()) {
            const std::size_t victim = std::uniform_int_distribution<std::size_t>(0, subs.size() - 1)(rng);
            EXPECT_TRUE(index.unsubscribe(subs[victim].filter, subs[victim].session));
            subs.erase(subs.begin() + static_cast<std::ptrdiff_t>(victim));
        } else if (op == 8) {
            const auto expected = static_cast<std::size_t>(std::count_if(
                subs.begin(), subs.end(), [&](const reference_sub& s) { return s.session == session; }));
            EXPECT_EQ(index.remove_session(session), expected);
            std::erase_if(subs, [&](const reference_sub& s) { return s.session == session; });
        } else {
            EXPECT_FALSE(index.unsubscribe(random_filter(rng) + "/never", session));
        }
        ASSERT_EQ(index.subscription_count(), subs.size());
        for (int probe = 0; probe < 3; ++probe) {
            const std::uint64_t publisher = std::uniform_int_distribution<std::uint64_t>(0, 12)(rng);
            check_against_reference(index, subs, random_topic(rng), publisher);
        }
        if (::testing::Test::HasFailure()) {
            FAIL() << "stopped at round " << round;
        }
    }
    for (std::uint64_t id = 1; id <= 12; ++id) {
        index.remove_session(id);
    }
    EXPECT_EQ(index.subscription_count(), 0U);
    EXPECT_EQ(index.node_count(), 1U);
}

}  // namespace
}  // namespace tollgate::broker
