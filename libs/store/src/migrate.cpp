#include <stdexcept>

#include <tollgate/common/log.hpp>
#include <tollgate/store/migrate.hpp>

namespace tollgate::store {

namespace {

// Key of the PostgreSQL advisory lock that serialises migrators (any 64-bit constant; this one
// spells "tollgate").
constexpr std::int64_t migration_lock_key = 0x746f6c6c67617465;

bool schema_table_exists(database& db) {
    if (db.kind() == dialect::postgres) {
        return db.query("SELECT to_regclass('tollgate_schema') IS NOT NULL")[0].integer(0) != 0;
    }
    return !db.query("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'tollgate_schema'").empty();
}

int read_version(database& db, std::string_view component) {
    auto rows = db.query("SELECT version FROM tollgate_schema WHERE component = ?", {std::string(component)});
    return rows.empty() ? 0 : static_cast<int>(rows[0].integer(0));
}

void validate(std::span<const migration> steps) {
    int previous = 0;
    for (const auto& s : steps) {
        if (s.version <= previous) {
            throw std::invalid_argument("migrate: step versions must be positive and strictly increasing (" +
                                        s.name + ")");
        }
        previous = s.version;
    }
}

}  // namespace

int schema_version(database& db, std::string_view component) {
    return schema_table_exists(db) ? read_version(db, component) : 0;
}

void migrate(database& db, std::string_view component, std::span<const migration> steps) {
    validate(steps);
    if (db.in_transaction()) {
        throw error(error::kind::other, "migrate: called inside a transaction");
    }
    const int last = steps.empty() ? 0 : steps.back().version;
    const std::string name(component);
    for (;;) {
        transaction tx(db);
        if (db.kind() == dialect::postgres) {
            db.execute("SELECT pg_advisory_xact_lock(?)", {migration_lock_key});
        }
        if (!schema_table_exists(db)) {  // checked first: a role without CREATE can still migrate data
            db.execute_script(
                "CREATE TABLE IF NOT EXISTS tollgate_schema (component TEXT PRIMARY KEY, version INTEGER NOT "
                "NULL)");
        }
        const int current = read_version(db, name);
        if (current > last) {
            throw error(error::kind::other, "migrate: the database's '" + name + "' schema is version " +
                                                std::to_string(current) +
                                                ", newer than this program knows (" + std::to_string(last) +
                                                "); refusing to use it");
        }
        const migration* next = nullptr;
        for (const auto& s : steps) {
            if (s.version > current) {
                next = &s;
                break;
            }
        }
        if (next == nullptr) {
            tx.commit();
            return;
        }
        const std::string& sql = db.kind() == dialect::postgres && !next->postgres_sql.empty()
                                     ? next->postgres_sql
                                     : next->sqlite_sql;
        db.execute_script(sql);
        if (db.execute("UPDATE tollgate_schema SET version = ? WHERE component = ?",
                       {std::int64_t{next->version}, name}) == 0) {
            db.execute("INSERT INTO tollgate_schema (component, version) VALUES (?, ?)",
                       {name, std::int64_t{next->version}});
        }
        tx.commit();
        common::logger("store")->info("schema '{}' migrated to version {} ({})", name, next->version,
                                      next->name);
    }
}

}  // namespace tollgate::store
