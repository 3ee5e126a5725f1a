#pragma once
// The scope grammar that maps OAuth 2.0 scopes to MQTT topic permissions (docs/auth.md):
//
//   scope-token  = "mqtt:" action ":" pattern
//   action       = "pub" / "sub" / "all"
//   pattern      = 1*( literal / pct-encoded / placeholder )
//   placeholder  = "{client_id}" / "{sub}" / "{username}" / "{claim:" NAME "}"
//   pct-encoded  = "%" HEXDIG HEXDIG     ; any byte RFC 6749 §3.3 forbids (space, '"', '\', non-ASCII,
//                                        ; '%' itself, and literal '{' '}')
//
// A scope is parsed once into a scope_pattern (literal byte runs and placeholders), then compiled per
// session by substituting the placeholders with values known at authentication time. A substitution
// value that is empty or contains '+', '#', '/' or U+0000 drops that grant (CVE-2017-7650: a client id
// "#" must never widen a pattern into a wildcard). The compiled filter must be a valid MQTT topic
// filter; otherwise the grant is dropped. Scopes not starting with "mqtt:" are ignored.
//
// The structured permissions claim (default name "mqtt_permissions") carries policies too large for
// scope strings: a JSON array of {"action": "pub"|"sub"|"all", "filter": pattern}. A pattern uses
// the same placeholders and percent-decoding as a scope (so a literal '%', '{' or '}' is written
// %25, %7B, %7D) but may hold any other character, since JSON strings are not limited to the
// RFC 6749 scope characters. An entry that is not such an object (unknown members included: a
// future "effect":"deny" must not be read as an allow), or whose pattern does not parse, is dropped
// and reported like a bad scope. Entries are compiled after the scopes, under the same max_grants.
//
// Errors are values (parse_error), never exceptions; inputs are bounded (max_scope_bytes,
// max_permission_entries, max_filter_bytes).
// Thread-safety: pure functions; a permission_set is immutable after compile and may be shared.
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/fwd.hpp>

namespace tollgate::auth {

enum class grant_action { publish, subscribe, both };

enum class scope_error {
    not_mqtt = 1,     ///< does not start with "mqtt:" (not an error for a token: ignored)
    bad_action,       ///< action is not pub, sub or all
    empty_pattern,    ///< nothing after the action
    too_long,         ///< longer than limits
    bad_character,    ///< a byte RFC 6749 scope-token forbids (space, '"', '\', control, non-ASCII)
    bad_percent,      ///< '%' not followed by two hex digits
    bad_placeholder,  ///< '{' without a known placeholder name and closing '}' (or a stray '}')
};

std::string_view to_string(scope_error e) noexcept;

struct scope_limits {
    std::size_t max_scope_bytes = 1024;  ///< one scope token
    std::size_t max_grants = 256;        ///< grants kept per session (more are dropped)
    /// Name of the structured permissions claim; empty: the claim is not read.
    std::string permissions_claim = "mqtt_permissions";
    std::size_t max_permission_entries = 256;  ///< entries read from the claim (later ones dropped)
    std::size_t max_filter_bytes = 1024;       ///< one structured entry's filter pattern
};

/// One piece of a pattern: a literal (already percent-decoded) or a placeholder.
struct pattern_part {
    enum class kind { literal, client_id, subject, username, claim } what = kind::literal;
    std::string text;  ///< literal bytes, or the claim name for kind::claim
};

struct scope_pattern {
    grant_action action = grant_action::both;
    std::vector<pattern_part> parts;
    std::string source;  ///< the scope token as written (for explanations)
};

/// Parses one scope token. Never throws on any input.
struct parse_result {
    std::optional<scope_pattern> pattern;
    scope_error error{};
};
parse_result parse_scope(std::string_view scope, const scope_limits& limits = {});

/// Parses one topic pattern (the part of a scope after "mqtt:<action>:", or a structured entry's
/// filter): percent-decoding and placeholders, any other byte literal. Never throws.
parse_result parse_pattern(std::string_view pattern, grant_action action, const scope_limits& limits = {});

/// Reasons why something was not compiled into a grant: (scope text or "<claim>[i]", why).
using dropped_list = std::vector<std::pair<std::string, std::string>>;

/// Parses the structured permissions claim (`claim` is its value; `name` labels the entries as
/// "name[i]" in `dropped` and in scope_pattern::source, which is "name[i] <action> <filter>").
/// A value that is not an array drops the whole claim. At most limits.max_permission_entries
/// entries are read. Never throws.
std::vector<scope_pattern> parse_permissions_claim(const boost::json::value& claim, std::string_view name,
                                                   const scope_limits& limits = {},
                                                   dropped_list* dropped = nullptr);

/// Values for placeholder substitution, known at authentication time.
struct substitution_values {
    std::string client_id;
    std::string subject;
    std::optional<std::string> username;
    /// Claim lookup for {claim:NAME}: the value of a top-level string claim, or nullopt.
    std::function<std::optional<std::string>(std::string_view)> claim;
};

/// Why a value may not be substituted: empty, or contains '+', '#', '/', or NUL.
bool is_safe_substitution(std::string_view value) noexcept;

/// Does filter `allowed` cover filter `requested`: is every topic `requested` can match also
/// matched by `allowed`? Both must be valid, non-shared topic filters. Honours [MQTT-4.7.2-1]
/// (a leading wildcard does not match '$' topics).
bool filter_covers(std::string_view allowed, std::string_view requested) noexcept;

struct grant {
    grant_action action = grant_action::both;
    std::string filter;  ///< compiled topic filter
    std::string source;  ///< the scope token it came from
};

struct decision {
    bool allow = false;
    std::string rule;    ///< the granting scope, or "default deny" / why
    std::string reason;  ///< human-readable
};

/// The compiled permissions of one session. Default deny.
class permission_set {
  public:
    /// Compiles scope tokens with the session's values. Scopes that do not parse, that are not mqtt
    /// scopes, whose substitution is unsafe or whose result is not a valid filter are skipped and
    /// reported in `dropped` (scope text and why) when given.
    static permission_set compile(const std::vector<std::string>& scopes, const substitution_values& values,
                                  const scope_limits& limits = {},
                                  std::vector<std::pair<std::string, std::string>>* dropped = nullptr);

    /// As above, then also the structured claim limits.permissions_claim of `claims` (the token's
    /// verified claims), when present and the name is not empty. Its entries are labelled
    /// "<claim>[i]" in `dropped` and in grant::source.
    static permission_set compile(const std::vector<std::string>& scopes, const boost::json::object& claims,
                                  const substitution_values& values, const scope_limits& limits = {},
                                  dropped_list* dropped = nullptr);

    /// PUBLISH to a topic name: some publish grant's filter must match it.
    [[nodiscard]] decision check_publish(std::string_view topic) const;
    /// SUBSCRIBE to a filter ("$share/g/f" judged on f): some subscribe grant must cover it.
    [[nodiscard]] decision check_subscribe(std::string_view filter) const;

    /// The same decisions without building strings (the per-message path): the first grant that
    /// allows, or nullptr (default deny; check_publish / check_subscribe say why).
    [[nodiscard]] const grant* find_publish(std::string_view topic) const noexcept;
    [[nodiscard]] const grant* find_subscribe(std::string_view filter) const noexcept;

    [[nodiscard]] const std::vector<grant>& grants() const noexcept { return grants_; }

  private:
    void add(const scope_pattern& pattern, const std::string& label, const substitution_values& values,
             const scope_limits& limits, dropped_list* dropped);

    std::vector<grant> grants_;
};

}  // namespace tollgate::auth
