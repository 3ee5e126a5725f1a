#pragma once
// Values, result rows and the error type of the store layer.
//
// A value is what crosses the boundary between C++ and SQL in either direction. The set is the
// intersection of what SQLite and PostgreSQL can both represent without loss:
//   NULL (std::monostate), 64-bit integer, double, UTF-8 text, bytes.
// Results are normalised so that the same portable SQL gives the same C++ values on both
// backends (see database.hpp for the PostgreSQL type mapping).
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace tollgate::store {

using blob = std::vector<std::uint8_t>;

/// A bound parameter or a result column. Text must be valid UTF-8 without NUL characters
/// (PostgreSQL rejects both; SQLite would store them, so do not rely on it). Blobs may hold any
/// bytes, NUL included.
using value = std::variant<std::monostate /*NULL*/, std::int64_t, double, std::string, blob>;

/// Converts bytes held in a string_view/string into a blob value (helper for call sites).
blob to_blob(std::string_view bytes);

/// Every failure reported by the database: connection, statement preparation, execution,
/// constraint violation, transaction state. The message names the backend's diagnostic and
/// (truncated) SQL text but never a parameter value: parameters may be secrets.
class error : public std::runtime_error {
  public:
    enum class kind {
        constraint,  ///< unique / primary key / foreign key / not null / check violation
        busy,        ///< lock timeout, serialization failure, deadlock: retrying may succeed
        connection,  ///< could not connect, or the connection was lost
        syntax,      ///< the SQL is wrong: syntax, unknown table/column, wrong parameter count
        other,
    };

    error(kind k, const std::string& message, std::string code = {});

    kind what_kind() const noexcept { return kind_; }
    /// Backend diagnostic code: the SQLSTATE on PostgreSQL ("23505"), "sqlite:<extended code>"
    /// on SQLite ("sqlite:2067"); empty when the error did not come from the backend.
    const std::string& code() const noexcept { return code_; }

  private:
    kind kind_;
    std::string code_;
};

/// Name of a kind, for messages and tests ("constraint", "busy", ...).
std::string_view to_string(error::kind k) noexcept;

/// One result row. Accessors check the index (std::out_of_range) and the type: asking for an
/// integer where the column holds text or NULL throws store::error (kind::other). The opt_*
/// accessors return nullopt for NULL. Column names are shared between the rows of one result.
class row {
  public:
    row() = default;
    row(std::vector<value> values, std::shared_ptr<const std::vector<std::string>> names);

    std::size_t size() const noexcept { return values_.size(); }
    const value& at(std::size_t i) const;
    /// Name of column i as reported by the backend.
    const std::string& column_name(std::size_t i) const;
    /// Index of the first column with this name; throws store::error (kind::other) if none.
    std::size_t index_of(std::string_view name) const;

    bool is_null(std::size_t i) const;
    std::int64_t integer(std::size_t i) const;
    double real(std::size_t i) const;  ///< an integer column is converted to double
    const std::string& text(std::size_t i) const;
    const blob& bytes(std::size_t i) const;

    std::optional<std::int64_t> opt_integer(std::size_t i) const;
    std::optional<double> opt_real(std::size_t i) const;
    std::optional<std::string> opt_text(std::size_t i) const;
    std::optional<blob> opt_bytes(std::size_t i) const;

  private:
    std::vector<value> values_;
    std::shared_ptr<const std::vector<std::string>> names_;
};

}  // namespace tollgate::store
