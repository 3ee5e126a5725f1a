#pragma once
// Internals of ldap_source shared by its two .cpp files (not installed, not public).
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tollgate::auth::detail {

enum class ldap_expand_status { ok, unknown_placeholder, empty_value };

/// Replaces each "{name}" of an LDAP filter template by the RFC 4515-escaped value of `name` in
/// `values`. A '{' always starts a placeholder. unknown_placeholder: a name not in `values` or an
/// unterminated '{'; empty_value: a used placeholder's value is empty (the caller gives up).
ldap_expand_status expand_ldap_filter(
    std::string_view templ, const std::vector<std::pair<std::string_view, std::string_view>>& values,
    std::string& out);

/// Is this a syntactically plausible filter: "(" ... ")" with balanced parentheses (escaped ones
/// excluded) and well-formed "\XX" escapes. The server has the final word.
bool ldap_filter_balanced(std::string_view filter) noexcept;

}  // namespace tollgate::auth::detail
