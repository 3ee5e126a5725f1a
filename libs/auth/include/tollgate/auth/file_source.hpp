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
// The file is read and checked once, when the source is made: every error names the file and the
// key ("acl.toml: rule[2].effect: must be \"allow\" or \"deny\" (got \"permit\")"). It is not
// re-read while the broker runs (restart to change it). Limits: 4 MiB, 100000 rules.
//
// Thread-safety: immutable after construction; load() may run on any number of threads at once.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <tollgate/auth/policy_source.hpp>

namespace tollgate::auth {

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

    [[nodiscard]] std::size_t rule_count() const noexcept { return rules_.size(); }

  private:
    struct entry {
        std::optional<std::string> username;  ///< nullopt: any
        std::optional<std::string> client_id;
        std::optional<std::string> subject;
        policy_rule rule;
    };
    std::vector<entry> rules_;
    std::string name_;
};

}  // namespace tollgate::auth
