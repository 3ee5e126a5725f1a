#pragma once
// The subscription index: which sessions receive a PUBLISH on a given topic name.
//
// Layout. A trie keyed by topic-filter levels. Every node has
//   - `children`: exact levels, an unordered_map<std::string, std::unique_ptr<node>> with a
//     transparent hash, so a lookup takes the std::string_view of a topic level without allocating;
//   - `plus` and `hash`: the '+' and '#' children, held apart so a match never hashes a wildcard;
//   - `subscribers`: a dense vector of slots {session_handle*, session id, options} for the
//     non-shared subscriptions whose filter ends at this node (the hot data match() reads);
//   - `groups`: the $share groups on this filter, each a dense vector of slots plus a round-robin
//     cursor.
// Beside the trie, a per-session reverse index maps session id -> (filter as given -> record). A
// record knows its node, its group (shared only) and its slot's position in that dense vector;
// removal swaps the last slot into the hole and fixes that slot's record, so unsubscribe is
// O(levels of the filter) and remove_session is O(its subscriptions x levels), never a trie scan.
// A node left with no subscriptions, groups or children is freed, and so on up to the root, so
// subscribe/unsubscribe churn leaves no residue (the CVE-2024-8376 class of unbounded growth).
//
// Matching a topic of L levels visits, per level, the exact child, the '+' child and the '#'
// child: O(nodes visited + matching subscriptions), independent of the total number of
// subscriptions. It splits the topic into string_views kept in a reusable buffer and walks the
// trie with an explicit stack (no recursion, so no stack overflow on deep topics). Non-shared
// subscriptions of one session are merged into a single target (highest QoS, every subscription
// identifier) in O(1) per hit: each session owns an index into a dense array of {match stamp,
// output position} (8 bytes per session, so it stays in cache) instead of a hash set per match.
// Nodes visited are at most 2^L in theory ('+' and exact branches) but in practice a few per
// level. Shared groups: one target per group; the member is picked by a per-group cursor that
// walks the members in order, skipping (at O(members) worst case) those not connected; when none
// is connected the next member in turn is picked anyway (its session queues the message).
// Removing a member moves the last one into its place, which may shift one turn of the rotation.
//
// Memory: one node per distinct filter prefix (~200 bytes plus the level text), one slot
// (40 bytes) plus one record (~100 bytes plus the filter text) per subscription; 8 bytes of merge
// state per session.
//
// Thread-safety: none. One index belongs to one thread (a worker); all calls on that thread.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <tollgate/broker/session_handle.hpp>

namespace tollgate::broker {

/// The options of one SUBSCRIBE entry (MQTT 5 §3.8.3.1; MQTT 3.1.1 uses max_qos only).
struct subscription_options {
    std::uint8_t max_qos = 0;
    bool no_local = false;
    bool retain_as_published = false;
    std::uint8_t retain_handling = 0;
    std::uint32_t subscription_identifier = 0;  ///< 0 = none

    friend bool operator==(const subscription_options&, const subscription_options&) = default;
};

/// One session that should receive a message, as match() reports it.
struct delivery_target {
    session_handle* subscriber = nullptr;  ///< valid until the next mutation of the index on this thread
    std::uint8_t qos = 0;                  ///< granted max QoS (caller takes min with message QoS)
    bool retain_as_published = false;      ///< true if any merged subscription asked for it
    bool shared = false;                   ///< chosen from a $share group
    /// Every non-zero subscription identifier of the matching subscriptions of that session
    /// (non-shared merged, [MQTT-3.3.4-3]); for a shared target, that subscription's identifier.
    std::vector<std::uint32_t> subscription_identifiers;
};

class subscription_index {
  public:
    enum class subscribe_result { added, replaced };

    subscription_index();
    ~subscription_index();
    subscription_index(const subscription_index&) = delete;
    subscription_index& operator=(const subscription_index&) = delete;
    subscription_index(subscription_index&&) noexcept;
    subscription_index& operator=(subscription_index&&) noexcept;

    /// Adds a subscription of `who` on `filter`, a validated topic filter or
    /// "$share/<group>/<filter>". A shared subscription is distinct from the plain one on the same
    /// filter. If this session already has exactly this filter (same group, if shared), its options
    /// (and handle) are replaced and `replaced` is returned [MQTT-3.8.4-3]. Keeps a shared_ptr to
    /// `who`. A null `who` is ignored (returns added, stores nothing). Throws only std::bad_alloc.
    subscribe_result subscribe(std::string_view filter, const std::shared_ptr<session_handle>& who,
                               const subscription_options& options);

    /// Removes the subscription of `session_id` on `filter` exactly as subscribed (for a shared
    /// filter: only that group membership). Returns false if there was none. Prunes empty nodes.
    bool unsubscribe(std::string_view filter, std::uint64_t session_id);

    /// Drops every subscription of the session; returns how many. O(its subscriptions).
    std::size_t remove_session(std::uint64_t session_id);

    /// Appends to `out` the targets for a PUBLISH on `topic` (a valid topic name).
    /// Non-shared: one target per session even with overlapping subscriptions (highest QoS, every
    /// subscription identifier; [MQTT-3.3.4-2], [MQTT-3.3.4-3]); subscriptions with No Local of
    /// `publisher_session_id` are skipped [MQTT-3.8.3-3]. Shared: one target per group, chosen
    /// round-robin among members, preferring those whose handle->connected is true ([MQTT-4.8.2]).
    /// '$' topics are not matched by filters beginning with '+' or '#' [MQTT-4.7.2-1].
    /// Not const: advances round-robin cursors. Allocates only for `out` growth and identifiers.
    void match(std::string_view topic, std::uint64_t publisher_session_id, std::vector<delivery_target>& out);

    [[nodiscard]] std::size_t subscription_count() const noexcept { return subscription_count_; }
    [[nodiscard]] std::size_t session_subscription_count(std::uint64_t session_id) const;
    /// Every subscription of a session (for persistence/inspection): (filter as given, options).
    [[nodiscard]] std::vector<std::pair<std::string, subscription_options>> subscriptions_of(
        std::uint64_t session_id) const;

    /// Trie nodes currently allocated, root included (1 when empty). For tests of pruning.
    [[nodiscard]] std::size_t node_count() const noexcept { return node_count_; }

    // Internal types, defined in the .cpp.
    struct node;
    struct sub_slot;
    struct shared_group;
    struct record;
    struct session_subs;

  private:
    struct frame {
        node* at;
        std::size_t level;
    };
    // Per-session scratch for merging overlapping subscriptions within one match(), kept in a dense
    // array (indexed by session_subs::merge_slot) so the check stays in cache.
    struct merge_state {
        std::uint32_t stamp = 0;  // match_stamp_ of the last match() that emitted a target for it
        std::uint32_t out_index = 0;
    };

    node* find_or_create_path(std::string_view filter);
    void prune_upward(node* n);
    void remove_record(record& rec);
    void release_session(std::uint64_t session_id);
    void collect_node(node& n, std::uint64_t publisher, std::size_t out_base,
                      std::vector<delivery_target>& out);

    std::unique_ptr<node> root_;
    std::unordered_map<std::uint64_t, std::unique_ptr<session_subs>> sessions_;
    std::size_t subscription_count_ = 0;
    std::size_t node_count_ = 0;
    std::uint32_t match_stamp_ = 0;
    std::vector<merge_state> merge_;                ///< one per session with subscriptions
    std::vector<std::uint32_t> free_merge_slots_;   ///< reusable indexes into merge_
    std::vector<std::string_view> levels_scratch_;  ///< reused by match(): no allocation once warm
    std::vector<frame> stack_scratch_;              ///< reused by match()
};

}  // namespace tollgate::broker
