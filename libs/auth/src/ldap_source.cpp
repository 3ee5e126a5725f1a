// ldap_source: the connection pool and the searches (see ldap_source.hpp).
#include <algorithm>
#include <cctype>
#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <unordered_set>

#include <tollgate/auth/ldap_source.hpp>
#include <tollgate/common/log.hpp>

#include "ldap_source_connect.hpp"
#include "ldap_source_detail.hpp"

namespace tollgate::auth {
namespace {

using detail::describe;
using detail::ldap_failure;
using detail::ldap_ptr;
using detail::to_timeval;

struct message_closer {
    void operator()(LDAPMessage* m) const noexcept { ldap_msgfree(m); }
};
using message_ptr = std::unique_ptr<LDAPMessage, message_closer>;

/// The rule values of one entry, with its DN.
struct entry_rules {
    std::string dn;
    std::vector<std::string> values;
};

class ldap_source final : public policy_source {
  public:
    explicit ldap_source(ldap_config config) : config_(std::move(config)) {
        name_ = config_.label.empty() ? std::string("ldap") : "ldap " + config_.label;
        if (config_.user_base_dn.empty()) {
            config_.user_base_dn = config_.base_dn;
        }
        if (config_.group_base_dn.empty()) {
            config_.group_base_dn = config_.base_dn;
        }
        if (config_.url.rfind("ldaps://", 0) == 0) {
            config_.tls = ldap_tls::ldaps;
        }
    }

    std::string_view name() const override { return name_; }

    std::vector<policy_rule> load(const broker::principal& who) override {
        const std::string_view user = identity_of(who);
        if (user.empty()) {
            return {};  // nobody to look up: no rules from this source
        }
        lease first = acquire(false);
        const bool reused = first.reused;
        try {
            return load_on(std::move(first), who, user);
        } catch (const ldap_failure& e) {
            if (!reused) {
                throw;
            }
            // The server may have closed an idle connection or restarted: once more, freshly bound.
            log_->info("ldap: retrying on a fresh connection after: {}", e.what());
        }
        return load_on(acquire(true), who, user);
    }

  private:
    struct lease {
        ldap_ptr ld;
        bool reused = false;
    };

    std::string_view identity_of(const broker::principal& who) const noexcept {
        switch (config_.identity) {
            case ldap_identity::username:
                return who.username ? std::string_view(*who.username) : std::string_view();
            case ldap_identity::subject:
                return who.subject;
            case ldap_identity::client_id:
                return who.client_id;
        }
        return {};
    }

    /// An idle connection (reused) or a fresh one, waiting (bounded) while max_connections are busy.
    lease acquire(bool fresh_only) {
        {
            std::unique_lock lock(mutex_);
            const auto wait = config_.connect_timeout + config_.operation_timeout;
            if (!slot_free_.wait_for(lock, wait, [&] {
                    return (!fresh_only && !idle_.empty()) || open_ < config_.max_connections;
                })) {
                throw ldap_failure("ldap: every connection is busy");
            }
            if (!fresh_only && !idle_.empty()) {
                lease out{std::move(idle_.back()), true};
                idle_.pop_back();
                return out;
            }
            ++open_;
        }
        try {
            return lease{connect(), false};
        } catch (...) {
            std::lock_guard lock(mutex_);
            --open_;
            slot_free_.notify_one();
            throw;
        }
    }

    /// Loads on a leased connection, which goes back to the pool afterwards unless the connection
    /// itself failed (ldap_failure).
    std::vector<policy_rule> load_on(lease held, const broker::principal& who, std::string_view user) {
        try {
            auto rules = load_with(held.ld.get(), who, user);
            release(std::move(held.ld));
            return rules;
        } catch (const ldap_failure&) {
            discard(std::move(held.ld));
            throw;
        } catch (...) {
            release(std::move(held.ld));  // an answer we refuse (too many entries): the connection is fine
            throw;
        }
    }

    void release(ldap_ptr ld) {
        std::lock_guard lock(mutex_);
        idle_.push_back(std::move(ld));
        slot_free_.notify_one();
    }

    void discard(ldap_ptr ld) {
        ld.reset();
        std::lock_guard lock(mutex_);
        --open_;
        slot_free_.notify_one();
    }

    ldap_ptr connect() const { return detail::open_ldap_connection(config_); }

    /// Runs one subtree search for the rule attribute; at most `limit` entries, more is an error.
    std::vector<entry_rules> search(LDAP* ld, const std::string& base, const std::string& filter,
                                    std::size_t limit, std::string_view what) const {
        std::string attribute = config_.rule_attribute;
        char* attrs[] = {attribute.data(), nullptr};
        timeval tv = to_timeval(config_.operation_timeout);
        LDAPMessage* raw = nullptr;
        const int rc = ldap_search_ext_s(ld, base.c_str(), LDAP_SCOPE_SUBTREE, filter.c_str(), attrs, 0,
                                         nullptr, nullptr, &tv, static_cast<int>(limit + 1), &raw);
        message_ptr result(raw);
        if (rc == LDAP_SIZELIMIT_EXCEEDED) {
            throw std::runtime_error("ldap: " + std::string(what) + " search found more than " +
                                     std::to_string(limit) + " entries");
        }
        if (rc == LDAP_NO_SUCH_OBJECT) {
            return {};  // the base itself is absent: nothing below it
        }
        if (rc != LDAP_SUCCESS) {
            throw ldap_failure(describe(ld, "ldap: " + std::string(what) + " search", rc));
        }
        std::vector<entry_rules> out;
        for (LDAPMessage* e = ldap_first_entry(ld, result.get()); e != nullptr; e = ldap_next_entry(ld, e)) {
            if (out.size() == limit) {
                throw std::runtime_error("ldap: " + std::string(what) + " search found more than " +
                                         std::to_string(limit) + " entries");
            }
            entry_rules entry;
            if (char* dn = ldap_get_dn(ld, e); dn != nullptr) {
                entry.dn = dn;
                ldap_memfree(dn);
            }
            if (berval** values = ldap_get_values_len(ld, e, attribute.c_str()); values != nullptr) {
                for (berval** v = values; *v != nullptr; ++v) {
                    entry.values.emplace_back((*v)->bv_val, (*v)->bv_len);
                }
                ldap_value_free_len(values);
            }
            out.push_back(std::move(entry));
        }
        return out;
    }

    std::vector<policy_rule> load_with(LDAP* ld, const broker::principal& who, std::string_view user) const {
        const std::string_view username = who.username ? std::string_view(*who.username) : std::string_view();
        std::vector<std::pair<std::string_view, std::string_view>> values = {
            {"user", user}, {"username", username}, {"sub", who.subject}, {"client_id", who.client_id}};
        std::string filter;
        if (detail::expand_ldap_filter(config_.user_filter, values, filter) !=
            detail::ldap_expand_status::ok) {
            return {};  // a value the filter needs is absent: no user
        }
        auto users = search(ld, config_.user_base_dn, filter, 1, "user");
        if (users.empty()) {
            return {};
        }
        std::vector<entry_rules> entries = std::move(users);
        if (!config_.group_filter.empty()) {
            const std::string user_dn = entries.front().dn;
            append_groups(ld, values, user_dn, entries);
        }
        return to_rules(entries);
    }

    using placeholder_values = std::vector<std::pair<std::string_view, std::string_view>>;

    /// The key under which a reached DN is remembered (DNs compare case-insensitively for the
    /// attribute types groups are named by; a DN the server spells two ways is only visited twice).
    static std::string dn_key(std::string_view dn) {
        std::string key(dn);
        std::transform(key.begin(), key.end(), key.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        return key;
    }

    /// Nested groups, breadth first. Level 1: the groups whose group_filter matches the user's DN;
    /// level n + 1: the groups matching a group first reached at level n. `reached` holds the key of
    /// the user's DN and of every group found, so each group is followed once and a cycle ends where
    /// it comes back. Bounded by max_group_depth levels (plus one search that must find nothing new)
    /// and max_groups groups; a group beyond either is an error, since its rules (a deny among them)
    /// would otherwise be missed. A filter without {dn} cannot nest: one level only.
    void append_groups(LDAP* ld, const placeholder_values& values, const std::string& user_dn,
                       std::vector<entry_rules>& entries) const {
        const bool nests = config_.group_filter.find("{dn}") != std::string::npos;
        std::unordered_set<std::string> reached{dn_key(user_dn)};
        std::vector<std::string> frontier{user_dn};
        std::size_t groups = 0;
        for (std::size_t level = 1; !frontier.empty(); ++level) {
            std::vector<std::string> next;
            for (auto& group : search_groups_of(ld, values, frontier)) {
                if (!reached.insert(dn_key(group.dn)).second) {
                    continue;  // reached already: through a cycle or a second path
                }
                if (level > config_.max_group_depth) {
                    throw std::runtime_error("ldap: group " + group.dn +
                                             " is nested deeper than max_group_depth (" +
                                             std::to_string(config_.max_group_depth) + ")");
                }
                if (++groups > config_.max_groups) {
                    throw std::runtime_error("ldap: more than " + std::to_string(config_.max_groups) +
                                             " groups for one user");
                }
                next.push_back(group.dn);
                entries.push_back(std::move(group));
            }
            if (!nests) {
                break;
            }
            frontier = std::move(next);
        }
    }

    /// The groups whose group_filter matches any of `members` ({dn}), up to 32 members OR-ed per
    /// search. A placeholder whose value is absent: no groups.
    std::vector<entry_rules> search_groups_of(LDAP* ld, const placeholder_values& values,
                                              const std::vector<std::string>& members) const {
        constexpr std::size_t batch = 32;
        std::vector<entry_rules> out;
        std::string one;
        for (std::size_t first = 0; first < members.size(); first += batch) {
            const std::size_t last = std::min(members.size(), first + batch);
            std::string filter = last - first > 1 ? "(|" : "";
            for (std::size_t i = first; i < last; ++i) {
                placeholder_values with_dn = values;
                with_dn.emplace_back("dn", members[i]);
                if (detail::expand_ldap_filter(config_.group_filter, with_dn, one) !=
                    detail::ldap_expand_status::ok) {
                    return {};
                }
                filter += one;
            }
            if (last - first > 1) {
                filter += ')';
            }
            for (auto& group : search(ld, config_.group_base_dn, filter, config_.max_groups, "group")) {
                out.push_back(std::move(group));
            }
        }
        return out;
    }

    std::vector<policy_rule> to_rules(const std::vector<entry_rules>& entries) const {
        std::vector<policy_rule> rules;
        std::size_t seen = 0;
        for (const auto& entry : entries) {
            for (const auto& value : entry.values) {
                if (++seen > config_.max_rules) {
                    throw std::runtime_error("ldap: more than " + std::to_string(config_.max_rules) +
                                             " rule values for one user");
                }
                if (value.size() > config_.max_rule_bytes) {
                    log_->warn("ldap: {} value of {} skipped: longer than {} bytes", config_.rule_attribute,
                               entry.dn, config_.max_rule_bytes);
                    continue;
                }
                std::string why;
                if (auto rule = parse_ldap_rule(value, "ldap " + entry.dn, &why)) {
                    rules.push_back(std::move(*rule));
                } else {
                    log_->warn("ldap: {} value '{}' of {} skipped: {}", config_.rule_attribute, value,
                               entry.dn, why);
                }
            }
        }
        return rules;
    }

    ldap_config config_;
    std::string name_;
    std::shared_ptr<spdlog::logger> log_ = common::logger("auth");
    std::mutex mutex_;
    std::condition_variable slot_free_;
    std::vector<ldap_ptr> idle_;  ///< bound connections ready for a load
    std::size_t open_ = 0;        ///< idle + in use
};

}  // namespace

std::unique_ptr<policy_source> make_ldap_source(ldap_config config) {
    if (auto bad = validate_ldap_config(config)) {
        throw std::invalid_argument("ldap source: " + *bad);
    }
    return std::make_unique<ldap_source>(std::move(config));
}

}  // namespace tollgate::auth
