#pragma once
// file_source: static policy rules from a TOML file (docs/auth.md "Static rule file").
//
//   [[rule]]
//   effect = "deny"                     # allow | deny                       (required)
//   action = "pub"                      # pub | sub | all                    (required)
//   filter = "devices/{client_id}/cmd"  # topic filter, placeholders allowed (required)
//   username = "alice"                  # optional; absent or "*": any principal
//   client_id = "*"                     # optional; absent or "*": any
//   sub = "*"                           # optional; absent or "*": any
//
// A rule applies to a principal when each of username / client_id / sub is absent, "*", or equal to
// the principal's value (a rule naming a username never applies to a CONNECT without one). Top-level
// keys other than `rule`, and unknown keys inside a rule, are errors.
//
// The file is read and checked when the source is made: every error names the file and the key
// ("acl.toml: rule[2].effect: must be \"allow\" or \"deny\" (got \"permit\")"). reload() (SIGHUP)
// reads it again: a file that fails any check leaves the current rules in place (a bad edit never
// empties the policy). Limits: 4 MiB, 100000 rules.
//
// Design: the parsed rules are an immutable vector behind a shared_ptr; load() takes a copy of the
// pointer under a mutex and filters outside it, reload() parses outside the mutex and swaps the
// pointer, so a load running during a reload sees the old or the new rules, never a mix.
//
// Thread-safety: load(), reload() and rule_count() may be called from any number of threads at
// once (reloads are serialized among themselves).
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <tollgate/auth/policy_source.hpp>

namespace tollgate::auth {

/// What a reload did, for the one log line per reload (never holds rule contents).
struct file_reload_result {
    bool ok = false;       ///< false: the file could not be read or failed a check; old rules kept
    bool changed = false;  ///< ok and the file's content differs from the one loaded before
    std::size_t rules_before = 0;
    std::size_t rules_after = 0;  ///< == rules_before when !ok
    std::string error;            ///< !ok: names the file, line or rule and key
};

class file_source final : public policy_source {
  public:
    static constexpr std::size_t max_file_bytes = 4 * 1024 * 1024;
    static constexpr std::size_t max_rules = 100'000;

    /// Reads and parses `path`. Throws std::invalid_argument naming the file and the key.
    static file_source from_file(const std::string& path, std::string label = {});
    /// Parses TOML text; `origin` prefixes error messages. Throws std::invalid_argument.
    static file_source parse(std::string_view text, const std::string& origin, std::string label = {});

    std::string_view name() const override { return name_; }
    /// The rules that apply to `who`, in file order. Never throws.
    std::vector<policy_rule> load(const broker::principal& who) override;

    [[nodiscard]] std::size_t rule_count() const;
    /// The file given to from_file ("" when made by parse()).
    [[nodiscard]] const std::string& path() const noexcept { return path_; }

    /// Reads and checks the file again; on success the new rules replace the old ones at once, on
    /// any error the old rules stay and the result says why. Never throws. A source made by parse()
    /// has no file: the result is an error.
    file_reload_result reload();

  private:
    struct entry {
        std::optional<std::string> username;  ///< nullopt: any
        std::optional<std::string> client_id;
        std::optional<std::string> subject;
        policy_rule rule;
    };
    using rule_list = std::vector<entry>;
    struct shared_state {
        std::mutex mutex;      ///< guards rules and digest
        std::mutex reloading;  ///< held for a whole reload(): reloads do not interleave
        std::shared_ptr<const rule_list> rules;
        std::vector<std::uint8_t> digest;  ///< SHA-256 of the text the rules came from
    };
    static rule_list parse_rules(std::string_view text, const std::string& origin, const std::string& name);
    static std::string read_text(const std::string& path);

    std::shared_ptr<shared_state> state_ = std::make_shared<shared_state>();
    std::string name_;
    std::string path_;
};

}  // namespace tollgate::auth
