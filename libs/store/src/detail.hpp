#pragma once
// Internal: backend constructors and helpers shared by the backends.
#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include <tollgate/store/database.hpp>

namespace tollgate::store::detail {

struct sqlite_options {
    std::string path;  ///< file path or ":memory:"
    int busy_timeout_ms = 5000;
    std::size_t statement_cache = 64;
};

/// Parses the part of a sqlite URL after "sqlite:". Throws std::invalid_argument.
sqlite_options parse_sqlite_url(std::string_view rest);

std::unique_ptr<database> open_sqlite(const sqlite_options& options);
std::unique_ptr<database> open_postgres(const std::string& url);

/// Throws store::error (kind::other) if a text parameter holds a NUL character.
void check_text_parameters(std::span<const value> params);

/// The SQL text for an error message: one line, at most 120 characters. Never parameters.
std::string sql_excerpt(std::string_view sql);

}  // namespace tollgate::store::detail
