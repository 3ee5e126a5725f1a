#include <algorithm>
#include <functional>

#include <tollgate/broker/subscription_index.hpp>
#include <tollgate/broker/topic.hpp>

namespace tollgate::broker {

namespace {

template <typename Value>
using string_map = std::unordered_map<std::string, Value, topic::level_hash, std::equal_to<>>;

constexpr std::size_t no_index = static_cast<std::size_t>(-1);

}  // namespace

// One subscription as match() reads it: everything needed to emit a target, contiguous.
struct subscription_index::sub_slot {
    session_handle* handle;
    std::uint64_t session_id;
    subscription_index::record* rec;  // owner record, to fix its index after a swap-remove
    subscription_options options;
    std::uint32_t merge_slot;  // the session's index into subscription_index::merge_
};

struct subscription_index::shared_group {
    std::vector<subscription_index::sub_slot> members;
    std::size_t cursor = 0;  // next member to try (round-robin)
};

struct subscription_index::node {
    enum class kind : std::uint8_t { root, exact, plus, hash };

    node* parent = nullptr;
    kind how = kind::root;
    std::string_view key;  // exact: views the key of this node in parent->children
    string_map<std::unique_ptr<node>> children;
    std::unique_ptr<node> plus;
    std::unique_ptr<node> hash;
    std::vector<subscription_index::sub_slot> subscribers;
    string_map<shared_group> groups;

    [[nodiscard]] bool unused() const noexcept {
        return subscribers.empty() && groups.empty() && children.empty() && !plus && !hash;
    }
};

struct subscription_index::record {
    node* at = nullptr;
    shared_group* group = nullptr;  // null: a non-shared subscription
    std::string_view group_name;    // views the key of `group` in at->groups
    std::size_t index = no_index;   // position of this subscription's slot
    std::shared_ptr<session_handle> handle;
    subscription_options options;

    [[nodiscard]] std::vector<subscription_index::sub_slot>& slots() const noexcept {
        return group != nullptr ? group->members : at->subscribers;
    }
};

struct subscription_index::session_subs {
    string_map<record> by_filter;  // keyed by the filter exactly as subscribed
    std::uint32_t merge_slot = 0;  // index into subscription_index::merge_
};

namespace {

// Frees a trie without recursion (a filter may have thousands of levels).
void destroy_tree(std::unique_ptr<subscription_index::node> root) {
    std::vector<std::unique_ptr<subscription_index::node>> pending;
    pending.push_back(std::move(root));
    while (!pending.empty()) {
        std::unique_ptr<subscription_index::node> n = std::move(pending.back());
        pending.pop_back();
        if (!n) {
            continue;
        }
        for (auto& entry : n->children) {
            pending.push_back(std::move(entry.second));
        }
        pending.push_back(std::move(n->plus));
        pending.push_back(std::move(n->hash));
    }
}

}  // namespace

subscription_index::subscription_index() : node_count_(1) {}

subscription_index::~subscription_index() {
    destroy_tree(std::move(root_));
}

subscription_index::subscription_index(subscription_index&& other) noexcept
    : root_(std::move(other.root_))
    , sessions_(std::move(other.sessions_))
    , subscription_count_(std::exchange(other.subscription_count_, 0))
    , node_count_(std::exchange(other.node_count_, 1))
    , match_stamp_(other.match_stamp_)
    , merge_(std::move(other.merge_))
    , free_merge_slots_(std::move(other.free_merge_slots_)) {
    other.sessions_.clear();
    other.merge_.clear();
    other.free_merge_slots_.clear();
}

subscription_index& subscription_index::operator=(subscription_index&& other) noexcept {
    if (this != &other) {
        destroy_tree(std::move(root_));
        sessions_.clear();
        root_ = std::move(other.root_);
        sessions_ = std::move(other.sessions_);
        other.sessions_.clear();
        subscription_count_ = std::exchange(other.subscription_count_, 0);
        node_count_ = std::exchange(other.node_count_, 1);
        match_stamp_ = other.match_stamp_;
        merge_ = std::move(other.merge_);
        other.merge_.clear();
        free_merge_slots_ = std::move(other.free_merge_slots_);
        other.free_merge_slots_.clear();
    }
    return *this;
}

subscription_index::node* subscription_index::find_or_create_path(std::string_view filter) {
    if (!root_) {
        root_ = std::make_unique<node>();
    }
    node* at = root_.get();
    topic::for_each_level(filter, [&](std::string_view level) {
        std::unique_ptr<node>* slot = nullptr;
        node::kind how = node::kind::exact;
        if (level == "+") {
            slot = &at->plus;
            how = node::kind::plus;
        } else if (level == "#") {
            slot = &at->hash;
            how = node::kind::hash;
        } else {
            auto found = at->children.find(level);
            if (found == at->children.end()) {
                found = at->children.try_emplace(std::string(level)).first;
            }
            slot = &found->second;
        }
        if (!*slot) {
            auto child = std::make_unique<node>();
            child->parent = at;
            child->how = how;
            *slot = std::move(child);
            ++node_count_;
            if (how == node::kind::exact) {
                (*slot)->key = at->children.find(level)->first;
            }
        }
        at = slot->get();
    });
    return at;
}

void subscription_index::prune_upward(node* n) {
    while (n != nullptr && n->parent != nullptr && n->unused()) {
        node* parent = n->parent;
        switch (n->how) {
            case node::kind::plus:
                parent->plus.reset();
                break;
            case node::kind::hash:
                parent->hash.reset();
                break;
            case node::kind::exact:
            case node::kind::root:
                parent->children.erase(parent->children.find(n->key));
                break;
        }
        --node_count_;
        n = parent;
    }
}

subscription_index::subscribe_result subscription_index::subscribe(std::string_view filter,
                                                                   const std::shared_ptr<session_handle>& who,
                                                                   const subscription_options& options) {
    if (!who) {
        return subscribe_result::added;
    }
    auto& sess_ptr = sessions_[who->id];
    if (!sess_ptr) {
        auto fresh = std::make_unique<session_subs>();
        if (free_merge_slots_.empty()) {
            merge_.emplace_back();
            fresh->merge_slot = static_cast<std::uint32_t>(merge_.size() - 1);
        } else {
            fresh->merge_slot = free_merge_slots_.back();
            free_merge_slots_.pop_back();
        }
        sess_ptr = std::move(fresh);
    }
    session_subs& sess = *sess_ptr;
    if (auto existing = sess.by_filter.find(filter); existing != sess.by_filter.end()) {
        record& rec = existing->second;  // [MQTT-3.8.4-3]: replace, keep the subscription
        rec.handle = who;
        rec.options = options;
        subscription_index::sub_slot& slot = rec.slots()[rec.index];
        slot.handle = who.get();
        slot.options = options;
        return subscribe_result::replaced;
    }

    const topic::shared_filter parsed = topic::parse_shared(filter);
    node* at = find_or_create_path(parsed.filter);
    record& rec = sess.by_filter.try_emplace(std::string(filter)).first->second;
    rec.at = at;
    rec.handle = who;
    rec.options = options;
    try {
        if (parsed.is_shared) {
            auto group = at->groups.find(parsed.group);
            if (group == at->groups.end()) {
                group = at->groups.try_emplace(std::string(parsed.group)).first;
            }
            rec.group = &group->second;
            rec.group_name = group->first;
        }
        std::vector<subscription_index::sub_slot>& slots = rec.slots();
        slots.push_back(subscription_index::sub_slot{who.get(), who->id, &rec, options, sess.merge_slot});
        rec.index = slots.size() - 1;
    } catch (...) {
        if (rec.group != nullptr && rec.group->members.empty()) {
            at->groups.erase(at->groups.find(rec.group_name));
        }
        sess.by_filter.erase(sess.by_filter.find(filter));
        prune_upward(at);
        if (sess.by_filter.empty()) {
            release_session(who->id);
        }
        throw;
    }
    ++subscription_count_;
    return subscribe_result::added;
}

void subscription_index::release_session(std::uint64_t session_id) {
    const auto it = sessions_.find(session_id);
    merge_[it->second->merge_slot] = merge_state{};
    free_merge_slots_.push_back(it->second->merge_slot);
    sessions_.erase(it);
}

void subscription_index::remove_record(record& rec) {
    std::vector<subscription_index::sub_slot>& slots = rec.slots();
    if (rec.index + 1 != slots.size()) {
        slots[rec.index] = slots.back();
        slots[rec.index].rec->index = rec.index;
    }
    slots.pop_back();
    if (rec.group != nullptr && rec.group->members.empty()) {
        rec.at->groups.erase(rec.at->groups.find(rec.group_name));
        rec.group = nullptr;
    }
    --subscription_count_;
    prune_upward(rec.at);
    rec.at = nullptr;
}

bool subscription_index::unsubscribe(std::string_view filter, std::uint64_t session_id) {
    const auto sess_it = sessions_.find(session_id);
    if (sess_it == sessions_.end()) {
        return false;
    }
    session_subs& sess = *sess_it->second;
    const auto rec_it = sess.by_filter.find(filter);
    if (rec_it == sess.by_filter.end()) {
        return false;
    }
    remove_record(rec_it->second);
    sess.by_filter.erase(rec_it);
    if (sess.by_filter.empty()) {
        release_session(session_id);
    }
    return true;
}

std::size_t subscription_index::remove_session(std::uint64_t session_id) {
    const auto sess_it = sessions_.find(session_id);
    if (sess_it == sessions_.end()) {
        return 0;
    }
    session_subs& sess = *sess_it->second;
    const std::size_t removed = sess.by_filter.size();
    for (auto& entry : sess.by_filter) {
        remove_record(entry.second);
    }
    release_session(session_id);
    return removed;
}

void subscription_index::collect_node(node& n, std::uint64_t publisher, std::size_t out_base,
                                      std::vector<delivery_target>& out) {
    for (const subscription_index::sub_slot& s : n.subscribers) {
        if (s.options.no_local && s.session_id == publisher) {
            continue;  // [MQTT-3.8.3-3]
        }
        merge_state& merge = merge_[s.merge_slot];
        if (merge.stamp == match_stamp_) {  // overlapping subscription: merge [MQTT-3.3.4-2]
            delivery_target& t = out[out_base + merge.out_index];
            t.qos = std::max(t.qos, s.options.max_qos);
            t.retain_as_published = t.retain_as_published || s.options.retain_as_published;
            if (s.options.subscription_identifier != 0) {
                t.subscription_identifiers.push_back(s.options.subscription_identifier);  // [MQTT-3.3.4-4]
            }
            continue;
        }
        merge.stamp = match_stamp_;
        merge.out_index = static_cast<std::uint32_t>(out.size() - out_base);
        delivery_target& t = out.emplace_back();
        t.subscriber = s.handle;
        t.qos = s.options.max_qos;
        t.retain_as_published = s.options.retain_as_published;
        t.shared = false;
        if (s.options.subscription_identifier != 0) {
            t.subscription_identifiers.push_back(s.options.subscription_identifier);
        }
    }
    for (auto& entry : n.groups) {
        shared_group& g = entry.second;
        const std::size_t size = g.members.size();
        if (size == 0) {
            continue;
        }
        const std::size_t start = g.cursor % size;
        std::size_t chosen = no_index;
        std::size_t fallback = no_index;
        for (std::size_t i = 0; i < size; ++i) {
            const std::size_t k = (start + i) % size;
            const subscription_index::sub_slot& s = g.members[k];
            if (s.options.no_local && s.session_id == publisher) {
                continue;
            }
            if (s.handle->connected.load(std::memory_order_relaxed)) {
                chosen = k;
                break;
            }
            if (fallback == no_index) {
                fallback = k;
            }
        }
        if (chosen == no_index) {
            chosen = fallback;
        }
        if (chosen == no_index) {
            continue;
        }
        g.cursor = chosen + 1;
        const subscription_index::sub_slot& s = g.members[chosen];
        delivery_target& t = out.emplace_back();
        t.subscriber = s.handle;
        t.qos = s.options.max_qos;
        t.retain_as_published = s.options.retain_as_published;
        t.shared = true;
        if (s.options.subscription_identifier != 0) {
            t.subscription_identifiers.push_back(s.options.subscription_identifier);
        }
    }
}

void subscription_index::match(std::string_view topic_name, std::uint64_t publisher_session_id,
                               std::vector<delivery_target>& out) {
    if (!root_ || subscription_count_ == 0) {
        return;
    }
    topic::split_levels(topic_name, levels_scratch_);
    const std::size_t depth = levels_scratch_.size();
    const bool dollar = topic::is_dollar_topic(topic_name);
    if (++match_stamp_ == 0) {  // wrapped: forget every old stamp
        std::fill(merge_.begin(), merge_.end(), merge_state{});
        match_stamp_ = 1;
    }
    const std::size_t out_base = out.size();
    stack_scratch_.clear();
    stack_scratch_.push_back(frame{root_.get(), 0});
    while (!stack_scratch_.empty()) {
        const frame f = stack_scratch_.back();
        stack_scratch_.pop_back();
        node& n = *f.at;
        if (f.level == depth) {
            collect_node(n, publisher_session_id, out_base, out);
            if (n.hash) {  // "sport/#" matches "sport"
                collect_node(*n.hash, publisher_session_id, out_base, out);
            }
            continue;
        }
        const bool wildcards_allowed = f.level != 0 || !dollar;  // [MQTT-4.7.2-1]
        if (wildcards_allowed && n.hash) {
            collect_node(*n.hash, publisher_session_id, out_base, out);
        }
        if (wildcards_allowed && n.plus) {
            stack_scratch_.push_back(frame{n.plus.get(), f.level + 1});
        }
        if (!n.children.empty()) {
            if (auto child = n.children.find(levels_scratch_[f.level]); child != n.children.end()) {
                stack_scratch_.push_back(frame{child->second.get(), f.level + 1});
            }
        }
    }
}

std::size_t subscription_index::session_subscription_count(std::uint64_t session_id) const {
    const auto it = sessions_.find(session_id);
    return it == sessions_.end() ? 0 : it->second->by_filter.size();
}

std::vector<std::pair<std::string, subscription_options>> subscription_index::subscriptions_of(
    std::uint64_t session_id) const {
    std::vector<std::pair<std::string, subscription_options>> result;
    const auto it = sessions_.find(session_id);
    if (it == sessions_.end()) {
        return result;
    }
    result.reserve(it->second->by_filter.size());
    for (const auto& entry : it->second->by_filter) {
        result.emplace_back(entry.first, entry.second.options);
    }
    std::sort(result.begin(), result.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    return result;
}

}  // namespace tollgate::broker
