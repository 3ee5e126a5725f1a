// Tests of the retained-message store: one message per topic ([MQTT-3.3.1-5]), clearing by an
// empty payload ([MQTT-3.3.1-6], [MQTT-3.3.1-7]), wildcard lookup (§4.7) with the '$' rule
// ([MQTT-4.7.2-1]), message expiry (§3.3.2.3.3), pruning, and a random differential test against a
// brute-force reference written here.
#include <algorithm>
#include <chrono>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include <tollgate/broker/retained_store.hpp>

namespace tollgate::broker {
namespace {

using namespace std::chrono_literals;

std::vector<std::string> split(std::string_view text) {
    std::vector<std::string> levels(1);
    for (const char c : text) {
        if (c == '/') {
            levels.emplace_back();
        } else {
            levels.back().push_back(c);
        }
    }
    return levels;
}

// Reference: §4.7 rules, plainly.
bool reference_matches(std::string_view filter, std::string_view name) {
    if (!name.empty() && name[0] == '$' && !filter.empty() && (filter[0] == '+' || filter[0] == '#')) {
        return false;
    }
    const auto f = split(filter);
    const auto n = split(name);
    for (std::size_t i = 0; i < f.size(); ++i) {
        if (f[i] == "#") {
            return true;
        }
        if (i >= n.size() || (f[i] != "+" && f[i] != n[i])) {
            return false;
        }
    }
    return f.size() == n.size();
}

const common::steady_time t0{std::chrono::seconds{1000}};

std::shared_ptr<const message> make_message(std::string topic_name, std::string_view payload = "p",
                                            std::optional<common::steady_time> expires_at = std::nullopt) {
    auto msg = std::make_shared<message>();
    msg->topic = std::move(topic_name);
    msg->payload = common::shared_bytes::copy_of(payload);
    msg->retain = true;
    msg->expires_at = expires_at;
    return msg;
}

std::set<std::string> match_topics(retained_store& store, std::string_view filter,
                                   common::steady_time now = t0) {
    std::vector<std::shared_ptr<const message>> out;
    store.match(filter, now, out);
    std::set<std::string> topics;
    for (const auto& m : out) {
        EXPECT_TRUE(topics.insert(m->topic).second) << "duplicate " << m->topic;
    }
    return topics;
}

TEST(RetainedStore, SetReplacesAndFinds) {
    // [MQTT-3.3.1-5] the Server MUST replace any existing retained message for this topic.
    retained_store store;
    store.set(make_message("a/b", "one"));
    store.set(make_message("a/b", "two"));
    store.set(make_message("a", "three"));
    EXPECT_EQ(store.size(), 2U);
    ASSERT_NE(store.find("a/b"), nullptr);
    EXPECT_EQ(store.find("a/b")->payload.as_string_view(), "two");
    EXPECT_EQ(store.find("a/c"), nullptr);
    EXPECT_EQ(store.find("a/b/c"), nullptr);
    store.set(nullptr);
    EXPECT_EQ(store.size(), 2U);
}

TEST(RetainedStore, EmptyPayloadClearsAndIsNotStored) {
    // [MQTT-3.3.1-6] a zero-byte payload removes the retained message; [MQTT-3.3.1-7] and is not
    // itself stored.
    retained_store store;
    store.set(make_message("a/b"));
    store.set(make_message("a/b", ""));
    EXPECT_EQ(store.size(), 0U);
    EXPECT_EQ(store.find("a/b"), nullptr);
    store.set(make_message("x", ""));
    EXPECT_EQ(store.size(), 0U);
    EXPECT_TRUE(match_topics(store, "#").empty());
    EXPECT_EQ(store.node_count(), 1U);
}

TEST(RetainedStore, ClearRemovesOnlyThatTopic) {
    retained_store store;
    store.set(make_message("a"));
    store.set(make_message("a/b"));
    EXPECT_FALSE(store.clear("a/b/c"));
    EXPECT_FALSE(store.clear("b"));
    EXPECT_TRUE(store.clear("a"));
    EXPECT_FALSE(store.clear("a"));
    EXPECT_EQ(store.size(), 1U);
    EXPECT_EQ(match_topics(store, "a/#"), (std::set<std::string>{"a/b"}));
    EXPECT_TRUE(store.clear("a/b"));
    EXPECT_EQ(store.node_count(), 1U);
}

TEST(RetainedStore, WildcardMatchTable) {
    const std::vector<std::string> topics = {
        "sport",
        "sport/",
        "sport/tennis",
        "sport/tennis/player1",
        "sport/tennis/player1/ranking",
        "/finance",
        "finance",
        "a//b",
        "a/b",
        "$SYS",
        "$SYS/monitor",
        "$SYS/monitor/Clients",
        "a/$b",
        "Accounts",
    };
    struct row {
        const char* filter;
        std::set<std::string> expected;
        const char* rule;
    };
    const std::vector<row> rows = {
        {"sport/#",
         {"sport", "sport/", "sport/tennis", "sport/tennis/player1", "sport/tennis/player1/ranking"},
         "§4.7.1.2 'sport/#' includes 'sport'"},
        {"sport/tennis/+", {"sport/tennis/player1"}, "§4.7.1.3 one level"},
        {"sport/+", {"sport/", "sport/tennis"}, "§4.7.1.3 'sport/+' matches 'sport/' not 'sport'"},
        {"+/+", {"sport/", "sport/tennis", "/finance", "a/b", "a/$b"}, "§4.7.1.3 '+/+' matches '/finance'"},
        {"+", {"sport", "finance", "Accounts"}, "§4.7.1.3 '+' does not match '/finance' or '$SYS'"},
        {"/+", {"/finance"}, "§4.7.1.3"},
        {"a/+/b", {"a//b"}, "§4.7.3 empty level"},
        {"ACCOUNTS", {}, "§4.7.3 case-sensitive"},
        {"#",
         {"sport", "sport/", "sport/tennis", "sport/tennis/player1", "sport/tennis/player1/ranking",
          "/finance", "finance", "a//b", "a/b", "a/$b", "Accounts"},
         "[MQTT-4.7.2-1] '#' does not return '$' topics"},
        {"+/monitor/Clients", {}, "[MQTT-4.7.2-1]"},
        {"$SYS/#", {"$SYS", "$SYS/monitor", "$SYS/monitor/Clients"}, "§4.7.2"},
        {"$SYS/monitor/+", {"$SYS/monitor/Clients"}, "§4.7.2"},
        {"a/+", {"a/b", "a/$b"}, "[MQTT-4.7.2-1] only the first level"},
        {"sport/tennis/player1", {"sport/tennis/player1"}, "exact"},
        {"nothing/#", {}, "no such subtree"},
    };
    retained_store store;
    for (const auto& t : topics) {
        store.set(make_message(t));
    }
    EXPECT_EQ(store.size(), topics.size());
    for (const row& r : rows) {
        SCOPED_TRACE(std::string(r.filter) + " " + r.rule);
        EXPECT_EQ(match_topics(store, r.filter), r.expected);
        std::set<std::string> reference;
        for (const auto& t : topics) {
            if (reference_matches(r.filter, t)) {
                reference.insert(t);
            }
        }
        EXPECT_EQ(reference, r.expected);
    }
}

TEST(RetainedStore, ExpiredMessagesAreSkippedAndDropped) {
    // §3.3.2.3.3: once the Message Expiry Interval has passed the message is not delivered.
    retained_store store;
    store.set(make_message("e/soon", "p", t0 + 10s));
    store.set(make_message("e/later", "p", t0 + 60s));
    store.set(make_message("e/never"));
    const std::size_t nodes = store.node_count();
    EXPECT_EQ(match_topics(store, "e/#", t0 + 9s), (std::set<std::string>{"e/soon", "e/later", "e/never"}));
    EXPECT_EQ(match_topics(store, "e/#", t0 + 10s), (std::set<std::string>{"e/later", "e/never"}));
    EXPECT_EQ(store.size(), 2U);
    EXPECT_EQ(store.node_count(), nodes - 1);
    EXPECT_EQ(store.find("e/soon"), nullptr);
    EXPECT_EQ(match_topics(store, "e/later", t0 + 61s), (std::set<std::string>{}));
    EXPECT_EQ(store.size(), 1U);
    EXPECT_EQ(store.purge_expired(t0 + 1000s), 0U);
}

TEST(RetainedStore, PurgeExpiredUsesTheExpiryOrder) {
    retained_store store;
    for (int i = 0; i < 100; ++i) {
        store.set(make_message("p/" + std::to_string(i), "x", t0 + std::chrono::seconds{i}));
    }
    store.set(make_message("p/forever"));
    // Replacing a message replaces its expiry: p/5 no longer expires.
    store.set(make_message("p/5"));
    // A replacement with a later expiry moves it.
    store.set(make_message("p/6", "x", t0 + 500s));
    EXPECT_EQ(store.purge_expired(t0), 1U);         // p/0 (expires_at <= now)
    EXPECT_EQ(store.purge_expired(t0 + 49s), 47U);  // 1..49 without 5 and 6
    EXPECT_EQ(store.size(), 101U - 48U);
    EXPECT_EQ(store.purge_expired(t0 + 499s), 50U);
    EXPECT_EQ(match_topics(store, "p/+", t0 + 499s), (std::set<std::string>{"p/5", "p/6", "p/forever"}));
    EXPECT_EQ(store.purge_expired(t0 + 500s), 1U);
    EXPECT_EQ(store.size(), 2U);
    store.clear("p/5");
    store.clear("p/forever");
    EXPECT_EQ(store.node_count(), 1U);
}

TEST(RetainedStore, ForEachVisitsEveryMessageOnce) {
    retained_store store;
    std::set<std::string> expected;
    for (int i = 0; i < 50; ++i) {
        const std::string t = "f/" + std::to_string(i % 7) + "/" + std::to_string(i);
        store.set(make_message(t));
        expected.insert(t);
    }
    store.set(make_message("$SYS/x"));
    expected.insert("$SYS/x");
    std::multiset<std::string> seen;
    store.for_each([&](const std::shared_ptr<const message>& m) { seen.insert(m->topic); });
    EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()), expected);
    EXPECT_EQ(seen.size(), expected.size());
}

TEST(RetainedStore, NoGrowthUnderSetClearChurn) {
    retained_store store;
    for (int i = 0; i < 5000; ++i) {
        const std::string t = "churn/" + std::to_string(i) + "/deep/er";
        store.set(make_message(t));
        store.set(make_message(t, ""));
        ASSERT_EQ(store.node_count(), 1U);
        store.set(make_message(t, "x", t0 + 1s));
        ASSERT_EQ(store.purge_expired(t0 + 1s), 1U);
        ASSERT_EQ(store.node_count(), 1U);
    }
    EXPECT_EQ(store.size(), 0U);
}

TEST(RetainedStore, MessagesAreSharedNotCopied) {
    retained_store store;
    auto msg = make_message("s");
    store.set(msg);
    std::vector<std::shared_ptr<const message>> out;
    store.match("s", t0, out);
    ASSERT_EQ(out.size(), 1U);
    EXPECT_EQ(out[0].get(), msg.get());
}

TEST(RetainedStore, OddAndDeepInputNeverCrashes) {
    retained_store store;
    std::string deep;
    for (int i = 0; i < 200000; ++i) {
        deep += i == 0 ? "d" : "/d";
    }
    store.set(make_message(deep));
    for (const char* t : {"", "/", "//", "$", "#", "+"}) {
        store.set(make_message(t));
    }
    EXPECT_EQ(match_topics(store, deep).size(), 1U);
    EXPECT_EQ(match_topics(store, "d/#").size(), 1U);
    for (const char* f : {"", "/", "#/#", "a/#/b", "++", "+/+/+"}) {
        std::vector<std::shared_ptr<const message>> out;
        store.match(f, t0, out);
    }
    EXPECT_EQ(store.size(), 7U);
    // The 200k-level trie is freed at scope end without recursion.
}

TEST(RetainedStore, MoveLeavesAnEmptyUsableStore) {
    retained_store store;
    store.set(make_message("a", "x", t0 + 1s));
    retained_store moved(std::move(store));
    EXPECT_EQ(moved.size(), 1U);
    EXPECT_EQ(store.size(), 0U);  // NOLINT(bugprone-use-after-move): documented state
    EXPECT_TRUE(match_topics(store, "#").empty());
    EXPECT_EQ(store.purge_expired(t0 + 10s), 0U);
    store.set(make_message("b"));
    moved = std::move(store);
    EXPECT_EQ(moved.size(), 1U);
    EXPECT_EQ(moved.purge_expired(t0 + 10s), 0U);
}

TEST(RetainedStore, RandomDifferentialAgainstBruteForce) {
    std::mt19937 rng(1128);
    static const char* const name_levels[] = {"a", "b", "", "$x", "c"};
    static const char* const filter_levels[] = {"a", "b", "", "$x", "+"};
    auto pick = [&](auto& table) {
        return std::string(table[std::uniform_int_distribution<std::size_t>(0, std::size(table) - 1)(rng)]);
    };
    auto random_name = [&] {
        std::string name = pick(name_levels);
        for (int i = std::uniform_int_distribution<int>(0, 3)(rng); i > 0; --i) {
            name += "/" + pick(name_levels);
        }
        return name;
    };
    auto random_filter = [&] {
        const int depth = std::uniform_int_distribution<int>(1, 4)(rng);
        std::string filter;
        for (int i = 0; i < depth; ++i) {
            filter += (i ? "/" : "");
            filter += (i == depth - 1 && std::uniform_int_distribution<int>(0, 3)(rng) == 0)
                          ? "#"
                          : pick(filter_levels);
        }
        return filter;
    };
    retained_store store;
    std::map<std::string, std::optional<common::steady_time>> reference;  // topic -> expiry
    common::steady_time now = t0;
    for (int round = 0; round < 2000; ++round) {
        const int op = std::uniform_int_distribution<int>(0, 9)(rng);
        if (op < 5) {
            const std::string name = random_name();
            std::optional<common::steady_time> expiry;
            if (std::uniform_int_distribution<int>(0, 2)(rng) == 0) {
                expiry = now + std::chrono::seconds{std::uniform_int_distribution<int>(1, 20)(rng)};
            }
            store.set(make_message(name, "v", expiry));
            reference[name] = expiry;
        } else if (op < 7) {
            const std::string name = random_name();
            EXPECT_EQ(store.clear(name), reference.erase(name) == 1);
        } else if (op == 7) {
            now += std::chrono::seconds{std::uniform_int_distribution<int>(0, 5)(rng)};
        } else if (op == 8) {
            std::size_t expected = 0;
            std::erase_if(reference, [&](const auto& entry) {
                const bool gone = entry.second && *entry.second <= now;
                expected += gone ? 1 : 0;
                return gone;
            });
            EXPECT_EQ(store.purge_expired(now), expected);
        }
        const std::string filter = random_filter();
        std::set<std::string> expected;
        std::erase_if(reference, [&](const auto& entry) {
            if (!reference_matches(filter, entry.first)) {
                return false;
            }
            if (entry.second && *entry.second <= now) {
                return true;  // match() drops it
            }
            expected.insert(entry.first);
            return false;
        });
        ASSERT_EQ(match_topics(store, filter, now), expected) << filter << " round " << round;
        ASSERT_EQ(store.size(), reference.size()) << filter << " round " << round;
    }
    for (const auto& entry : reference) {
        store.clear(entry.first);
    }
    EXPECT_EQ(store.node_count(), 1U);
}

}  // namespace
}  // namespace tollgate::broker
