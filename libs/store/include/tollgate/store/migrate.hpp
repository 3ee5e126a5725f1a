#pragma once
// Schema migrations per component ("oauth", "broker", ...), recorded in the table
//   tollgate_schema(component TEXT PRIMARY KEY, version INTEGER NOT NULL)
#include <span>
#include <string>
#include <string_view>

#include <tollgate/store/database.hpp>

namespace tollgate::store {

/// One schema step. The SQL may hold several `;`-separated statements, without parameters.
/// An empty postgres_sql means the sqlite_sql is portable and used on both backends.
struct migration {
    int version;
    std::string name;
    std::string sqlite_sql;
    std::string postgres_sql;
};

/// Brings `component`'s schema up to the last step: applies, in order and each in its own
/// transaction together with the update of its recorded version, every step whose version is
/// above the recorded one (0 when none is recorded). Re-running is a no-op. Safe against
/// concurrent migrators of the same database (SQLite: the write lock; PostgreSQL: a
/// transaction-scoped advisory lock), each step is applied once.
/// Throws std::invalid_argument if versions are not strictly increasing and positive;
/// store::error (kind::other) if the database records a version newer than the last step (code
/// older than the data: refuse rather than corrupt); store::error from a failing step, whose
/// transaction is rolled back, leaving the earlier steps applied. The caller must not be inside
/// a transaction.
void migrate(database& db, std::string_view component, std::span<const migration> steps);

/// The recorded version of a component's schema, 0 if none (or no tollgate_schema table).
int schema_version(database& db, std::string_view component);

}  // namespace tollgate::store
