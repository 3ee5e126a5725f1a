// ldap_source: the connection pool and the searches (see ldap_source.hpp).
#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <sys/time.h>

#include <ldap.h>

#include <tollgate/auth/ldap_source.hpp>
#include <tollgate/common/log.hpp>

#include "ldap_source_detail.hpp"

namespace tollgate::auth {
namespace {

struct ldap_closer {
    void operator()(LDAP* ld) const noexcept { ldap_unbind_ext_s(ld, nullptr, nullptr); }
};
using ldap_ptr = std::unique_ptr<LDAP, ldap_closer>;

struct message_closer {
    void operator()(LDAPMessage* m) const noexcept { ldap_msgfree(m); }
};
using message_ptr = std::unique_ptr<LDAPMessage, message_closer>;

/// An LDAP failure: the text never holds the bind password (libldap's messages do not either).
class ldap_failure : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

timeval to_timeval(std::chrono::milliseconds ms) noexcept {
    timeval tv{};
    tv.tv_sec = static_cast<decltype(tv.tv_sec)>(ms.count() / 1000);
    tv.tv_usec = static_cast<decltype(tv.tv_usec)>((ms.count() % 1000) * 1000);
    return tv;
}

/// "what: <libldap error> (<server diagnostic>)".
std::string describe(LDAP* ld, std::string_view what, int rc) {
    std::string out = std::string(what) + ": " + ldap_err2string(rc);
    char* diagnostic = nullptr;
    if (ld != nullptr && ldap_get_option(ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, &diagnostic) == LDAP_OPT_SUCCESS &&
        diagnostic != nullptr) {
        if (*diagnostic != '\0') {
            out += " (";
            out += diagnostic;
            out += ')';
        }
        ldap_memfree(diagnostic);
    }
    return out;
}

void set_option(LDAP* ld, int option, const void* value, std::string_view what) {
    const int rc = ldap_set_option(ld, option, value);
    if (rc != LDAP_OPT_SUCCESS) {
        throw ldap_failure(describe(ld, std::string("ldap: setting ") + std::string(what), rc));
    }
}

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

    /// A handle with its options set (no network I/O yet). libldap's global and TLS library
    /// initialisation happen here on first use, so handles are prepared one at a time.
    ldap_ptr prepare() const {
        static std::mutex prepare_mutex;
        std::lock_guard lock(prepare_mutex);
        LDAP* raw = nullptr;
        const int rc = ldap_initialize(&raw, config_.url.c_str());
        ldap_ptr ld(raw);
        if (rc != LDAP_SUCCESS || raw == nullptr) {
            throw ldap_failure(describe(nullptr, "ldap: bad URL", rc));
        }
        const int version = LDAP_VERSION3;
        set_option(raw, LDAP_OPT_PROTOCOL_VERSION, &version, "protocol version");
        set_option(raw, LDAP_OPT_REFERRALS, nullptr, "referrals off");  // never chase: no rebinding elsewhere
        const timeval connect_tv = to_timeval(config_.connect_timeout);
        const timeval op_tv = to_timeval(config_.operation_timeout);
        set_option(raw, LDAP_OPT_NETWORK_TIMEOUT, &connect_tv, "connect timeout");
        set_option(raw, LDAP_OPT_TIMEOUT, &op_tv, "operation timeout");
        if (config_.tls != ldap_tls::none) {
            const int demand = LDAP_OPT_X_TLS_DEMAND;
            set_option(raw, LDAP_OPT_X_TLS_REQUIRE_CERT, &demand, "TLS certificate check");
            const int tls12 = LDAP_OPT_X_TLS_PROTOCOL_TLS1_2;
            set_option(raw, LDAP_OPT_X_TLS_PROTOCOL_MIN, &tls12, "TLS minimum version");
            if (!config_.ca_file.empty()) {
                set_option(raw, LDAP_OPT_X_TLS_CACERTFILE, config_.ca_file.c_str(), "TLS CA file");
            }
            const int is_server = 0;  // a TLS context of this handle's own, with the options above
            set_option(raw, LDAP_OPT_X_TLS_NEWCTX, &is_server, "TLS context");
        }
        return ld;
    }

    /// A prepared handle, connected (StartTLS when configured) and bound.
    ldap_ptr connect() const {
        ldap_ptr ld = prepare();
        LDAP* raw = ld.get();
        int rc = LDAP_SUCCESS;
        if (config_.tls == ldap_tls::starttls) {
            rc = ldap_start_tls_s(raw, nullptr, nullptr);
            if (rc != LDAP_SUCCESS) {
                throw ldap_failure(describe(raw, "ldap: StartTLS to " + config_.url, rc));
            }
        }
        if (!config_.bind_dn.empty()) {
            berval password{};
            password.bv_len = static_cast<ber_len_t>(config_.bind_password.size());
            password.bv_val = const_cast<char*>(config_.bind_password.data());
            rc = ldap_sasl_bind_s(raw, config_.bind_dn.c_str(), LDAP_SASL_SIMPLE, &password, nullptr, nullptr,
                                  nullptr);
            if (rc != LDAP_SUCCESS) {
                throw ldap_failure(
                    describe(raw, "ldap: bind as " + config_.bind_dn + " to " + config_.url, rc));
            }
        }
        return ld;
    }

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
            values.emplace_back("dn", user_dn);
            if (detail::expand_ldap_filter(config_.group_filter, values, filter) ==
                detail::ldap_expand_status::ok) {
                auto groups = search(ld, config_.group_base_dn, filter, config_.max_groups, "group");
                for (auto& g : groups) {
                    entries.push_back(std::move(g));
                }
            }
        }
        return to_rules(entries);
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
