#include <functional>
#include <string>
#include <unordered_map>

#include <tollgate/broker/retained_store.hpp>
#include <tollgate/broker/topic.hpp>

namespace tollgate::broker {

namespace {

// Frame level meaning "take this node and everything below it" (a '#' was reached).
constexpr std::size_t whole_subtree = static_cast<std::size_t>(-1);

}  // namespace

struct retained_store::node {
    node* parent = nullptr;
    std::string_view key;  // views the key of this node in parent->children
    std::unordered_map<std::string, std::unique_ptr<node>, topic::level_hash, std::equal_to<>> children;
    std::shared_ptr<const message> msg;
    bool has_expiry = false;
    expiry_index::iterator expiry;  // valid when has_expiry

    [[nodiscard]] bool unused() const noexcept { return !msg && children.empty(); }
};

namespace {

void destroy_tree(std::unique_ptr<retained_store::node> root) {
    std::vector<std::unique_ptr<retained_store::node>> pending;
    pending.push_back(std::move(root));
    while (!pending.empty()) {
        std::unique_ptr<retained_store::node> n = std::move(pending.back());
        pending.pop_back();
        if (!n) {
            continue;
        }
        for (auto& entry : n->children) {
            pending.push_back(std::move(entry.second));
        }
    }
}

}  // namespace

retained_store::retained_store() : node_count_(1) {}

retained_store::~retained_store() {
    destroy_tree(std::move(root_));
}

retained_store::retained_store(retained_store&& other) noexcept
    : root_(std::move(other.root_))
    , expiries_(std::move(other.expiries_))
    , size_(std::exchange(other.size_, 0))
    , node_count_(std::exchange(other.node_count_, 1)) {
    other.expiries_.clear();
}

retained_store& retained_store::operator=(retained_store&& other) noexcept {
    if (this != &other) {
        destroy_tree(std::move(root_));
        root_ = std::move(other.root_);
        expiries_ = std::move(other.expiries_);
        other.expiries_.clear();
        size_ = std::exchange(other.size_, 0);
        node_count_ = std::exchange(other.node_count_, 1);
    }
    return *this;
}

void retained_store::set(std::shared_ptr<const message> msg) {
    if (!msg) {
        return;
    }
    if (msg->payload.empty()) {  // [MQTT-3.3.1-6], [MQTT-3.3.1-7]
        clear(msg->topic);
        return;
    }
    if (!root_) {
        root_ = std::make_unique<node>();
    }
    node* at = root_.get();
    topic::for_each_level(msg->topic, [&](std::string_view level) {
        auto found = at->children.find(level);
        if (found == at->children.end()) {
            found = at->children.try_emplace(std::string(level), std::make_unique<node>()).first;
            found->second->parent = at;
            found->second->key = found->first;
            ++node_count_;
        }
        at = found->second.get();
    });
    if (at->msg) {
        erase_message(at);
    }
    if (msg->expires_at) {
        at->expiry = expiries_.emplace(*msg->expires_at, at);
        at->has_expiry = true;
    }
    at->msg = std::move(msg);
    ++size_;
}

void retained_store::erase_message(node* n) {
    if (n->has_expiry) {
        expiries_.erase(n->expiry);
        n->has_expiry = false;
    }
    n->msg.reset();
    --size_;
}

void retained_store::prune_upward(node* n) {
    while (n != nullptr && n->parent != nullptr && n->unused()) {
        node* parent = n->parent;
        parent->children.erase(parent->children.find(n->key));
        --node_count_;
        n = parent;
    }
}

namespace {

retained_store::node* find_node(retained_store::node* root, std::string_view topic_name) {
    retained_store::node* at = root;
    topic::for_each_level(topic_name, [&](std::string_view level) {
        if (at == nullptr) {
            return;
        }
        const auto found = at->children.find(level);
        at = found == at->children.end() ? nullptr : found->second.get();
    });
    return at;
}

}  // namespace

bool retained_store::clear(std::string_view topic_name) {
    node* n = find_node(root_.get(), topic_name);
    if (n == nullptr || !n->msg) {
        return false;
    }
    erase_message(n);
    prune_upward(n);
    return true;
}

std::shared_ptr<const message> retained_store::find(std::string_view topic_name) const {
    const node* n = find_node(root_.get(), topic_name);
    return n == nullptr ? nullptr : n->msg;
}

void retained_store::take_if_live(node* n, common::steady_time now,
                                  std::vector<std::shared_ptr<const message>>& out) {
    if (!n->msg) {
        return;
    }
    if (n->msg->expires_at && *n->msg->expires_at <= now) {
        expired_scratch_.push_back(n);
        return;
    }
    out.push_back(n->msg);
}

void retained_store::match(std::string_view filter, common::steady_time now,
                           std::vector<std::shared_ptr<const message>>& out) {
    if (!root_ || size_ == 0) {
        return;
    }
    topic::split_levels(filter, levels_scratch_);
    const std::size_t depth = levels_scratch_.size();
    expired_scratch_.clear();
    stack_scratch_.clear();
    stack_scratch_.push_back(frame{root_.get(), 0});
    while (!stack_scratch_.empty()) {
        const frame f = stack_scratch_.back();
        stack_scratch_.pop_back();
        node* n = f.at;
        if (f.level == whole_subtree) {
            take_if_live(n, now, out);
            for (auto& entry : n->children) {
                stack_scratch_.push_back(frame{entry.second.get(), whole_subtree});
            }
            continue;
        }
        if (f.level == depth) {
            take_if_live(n, now, out);
            continue;
        }
        const std::string_view level = levels_scratch_[f.level];
        const bool skip_dollar = f.level == 0;  // [MQTT-4.7.2-1]
        if (level == "#") {
            take_if_live(n, now, out);  // "sport/#" matches "sport" (the root holds no message)
            for (auto& entry : n->children) {
                if (!(skip_dollar && topic::is_dollar_topic(entry.first))) {
                    stack_scratch_.push_back(frame{entry.second.get(), whole_subtree});
                }
            }
        } else if (level == "+") {
            for (auto& entry : n->children) {
                if (!(skip_dollar && topic::is_dollar_topic(entry.first))) {
                    stack_scratch_.push_back(frame{entry.second.get(), f.level + 1});
                }
            }
        } else if (const auto found = n->children.find(level); found != n->children.end()) {
            stack_scratch_.push_back(frame{found->second.get(), f.level + 1});
        }
    }
    // Each node is reached by at most one path of the filter, so no node is listed twice; removing
    // one never prunes another that is still listed (a listed node still holds its message).
    for (node* expired : expired_scratch_) {
        erase_message(expired);
        prune_upward(expired);
    }
    expired_scratch_.clear();
}

std::size_t retained_store::purge_expired(common::steady_time now) {
    std::size_t purged = 0;
    while (!expiries_.empty() && expiries_.begin()->first <= now) {
        node* n = expiries_.begin()->second;
        erase_message(n);
        prune_upward(n);
        ++purged;
    }
    return purged;
}

void retained_store::for_each(const std::function<void(const std::shared_ptr<const message>&)>& fn) const {
    if (!root_) {
        return;
    }
    std::vector<const node*> pending{root_.get()};
    while (!pending.empty()) {
        const node* n = pending.back();
        pending.pop_back();
        if (n->msg) {
            fn(n->msg);
        }
        for (const auto& entry : n->children) {
            pending.push_back(entry.second.get());
        }
    }
}

}  // namespace tollgate::broker
