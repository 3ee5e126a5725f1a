#pragma once
// The retained-message store: at most one message per topic name ([MQTT-3.3.1-5]), found by topic
// filter when a subscription is made.
//
// Layout. A trie keyed by topic-name levels (names have no wildcards, so every node has only exact
// children: an unordered_map<std::string, std::unique_ptr<node>> with a transparent hash, looked
// up with string_views). A node holds the retained message of the topic that ends there, if any.
// Messages with an expiry are also indexed in a multimap ordered by expires_at, so
// purge_expired(now) costs O(expired x log n) instead of a scan.
//
// Matching a filter walks it level by level: an exact level follows one child, '+' every child,
// '#' the whole subtree below (and the node itself: "sport/#" matches "sport"). Cost:
// O(levels) for a filter without wildcards; with wildcards, O(nodes in the part of the trie the
// filter covers), never a scan of unrelated topics. At the first level, '+' and '#' skip children
// whose level starts with '$' [MQTT-4.7.2-1]. The walk uses an explicit stack (no recursion).
// Nodes left with neither a message nor children are freed, up to the root, so set/clear churn
// leaves nothing behind.
//
// Memory: one node (~120 bytes plus the level text) per distinct topic prefix; the messages are
// shared_ptrs to the broker's immutable messages (no copy).
//
// Thread-safety: none. One store belongs to one thread; all calls on that thread.
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <string_view>
#include <vector>

#include <tollgate/broker/message.hpp>
#include <tollgate/common/clock.hpp>

namespace tollgate::broker {

class retained_store {
  public:
    retained_store();
    ~retained_store();
    retained_store(const retained_store&) = delete;
    retained_store& operator=(const retained_store&) = delete;
    retained_store(retained_store&&) noexcept;
    retained_store& operator=(retained_store&&) noexcept;

    /// Stores msg under msg->topic, replacing any message retained there; an empty payload instead
    /// clears that topic ([MQTT-3.3.1-6], [MQTT-3.3.1-7]). A null msg is ignored.
    void set(std::shared_ptr<const message> msg);

    /// Removes the message retained on `topic`; false if there was none.
    bool clear(std::string_view topic);

    /// Appends the retained messages whose topic matches `filter` (a validated non-shared topic
    /// filter). Messages whose expires_at <= now are skipped and removed. '$' topics are not matched
    /// by a filter starting with '+' or '#' [MQTT-4.7.2-1]. Order: unspecified.
    void match(std::string_view filter, common::steady_time now,
               std::vector<std::shared_ptr<const message>>& out);

    /// The message retained on exactly `topic`, or null (expiry not considered).
    [[nodiscard]] std::shared_ptr<const message> find(std::string_view topic) const;

    [[nodiscard]] std::size_t size() const noexcept { return size_; }

    /// Removes every message whose expires_at <= now; returns how many.
    std::size_t purge_expired(common::steady_time now);

    /// Calls fn for every retained message (for persistence). fn must not modify the store.
    void for_each(const std::function<void(const std::shared_ptr<const message>&)>& fn) const;

    /// Trie nodes currently allocated, root included (1 when empty). For tests of pruning.
    [[nodiscard]] std::size_t node_count() const noexcept { return node_count_; }

    struct node;  // internal, defined in the .cpp

  private:
    struct frame {
        node* at;
        std::size_t level;
    };
    using expiry_index = std::multimap<common::steady_time, node*>;

    void erase_message(node* n);
    void prune_upward(node* n);
    void take_if_live(node* n, common::steady_time now, std::vector<std::shared_ptr<const message>>& out);
    void collect_subtree(node* n, bool skip_dollar, common::steady_time now,
                         std::vector<std::shared_ptr<const message>>& out);

    std::unique_ptr<node> root_;
    expiry_index expiries_;
    std::size_t size_ = 0;
    std::size_t node_count_ = 0;
    std::vector<std::string_view> levels_scratch_;
    std::vector<frame> stack_scratch_;
    std::vector<node*> expired_scratch_;
};

}  // namespace tollgate::broker
