#pragma once
// Scopes (RFC 6749 §3.3): a space-delimited list of scope-tokens, each 1*( %x21 / %x23-5B / %x5D-7E ).
// parse_scope() validates and de-duplicates, keeping the first occurrence's order. describe_scope()
// turns a scope into words for the consent and device approval pages.
// Thread-safety: pure functions.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tollgate::oauth {

using scope_list = std::vector<std::string>;

/// nullopt if the text holds an invalid scope-token, two spaces in a row, or leading/trailing
/// spaces, or more than 64 tokens, or is longer than 4 KiB. Empty text gives an empty list.
std::optional<scope_list> parse_scope(std::string_view text);
/// Joined with single spaces.
std::string join_scope(const scope_list& scopes);
/// True when every element of requested is in allowed.
bool scope_subset(const scope_list& requested, const scope_list& allowed);
/// Plain-language text for one scope, e.g. "Publish to topics matching sensors/#".
std::string describe_scope(std::string_view scope);

}  // namespace tollgate::oauth
