#pragma once
// One database connection (SQLite or PostgreSQL) behind one small interface.
//
// Portable SQL rules (what the tests check on both backends):
//  - placeholders are `?`; PostgreSQL's are rewritten to $1..$n outside string literals, quoted
//    identifiers, dollar-quoted strings and comments. Parameters are always bound, never
//    interpolated into the SQL text. The number of `?` must equal the number of parameters.
//  - results: integers (any width, and booleans as 0/1) come back as int64, floating point as
//    double, text types as std::string, bytea/BLOB as blob, NULL as std::monostate. PostgreSQL
//    NUMERIC becomes int64 when it has no fractional part and fits, else double; any other
//    PostgreSQL type (timestamps, uuid, json...) comes back as its text form.
//  - `INSERT ... RETURNING` works on both (SQLite >= 3.35); there is no last_insert_id.
//  - PostgreSQL's `?`-operators on jsonb cannot be written (the `?` would become a parameter).
//  - text and NULL parameters are sent to PostgreSQL with their type left open, like a quoted
//    literal (so they coerce to the column's type); where nothing gives a type, as in a bare
//    `? IS NULL`, write `CAST(? AS TEXT) IS NULL` (SQLite accepts it too).
//  - a text parameter containing a NUL character is rejected on both backends (kind::other): it
//    cannot be sent to PostgreSQL as text. Use a blob for arbitrary bytes.
//  - after an error inside a transaction, roll back: PostgreSQL aborts the transaction, SQLite
//    keeps it open with the failed statement undone.
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <tollgate/store/value.hpp>

namespace tollgate::store {

enum class dialect { sqlite, postgres };

/// One connection. NOT thread-safe: use it from one thread at a time (share connections between
/// threads through store::pool). Every operation either completes or throws store::error.
/// A connection that reports !healthy() (PostgreSQL connection lost) stays unusable; open a new
/// one (the pool does this on its own).
class database {
  public:
    virtual ~database();
    database() = default;
    database(const database&) = delete;
    database& operator=(const database&) = delete;

    virtual dialect kind() const = 0;

    /// Runs one statement; returns the number of rows it inserted, updated or deleted (0 for
    /// anything else; rows changed by triggers or cascades are not counted). A SELECT is run to
    /// completion and its rows discarded. More than one statement in `sql` is an error
    /// (kind::syntax); use execute_script for that.
    virtual std::int64_t execute(std::string_view sql, std::span<const value> params) = 0;
    std::int64_t execute(std::string_view sql, std::initializer_list<value> params = {}) {
        return execute(sql, std::span<const value>(params.begin(), params.size()));
    }

    /// Runs one statement and returns all its rows (empty for a statement without a result).
    virtual std::vector<row> query(std::string_view sql, std::span<const value> params) = 0;
    std::vector<row> query(std::string_view sql, std::initializer_list<value> params = {}) {
        return query(sql, std::span<const value>(params.begin(), params.size()));
    }

    /// Runs several `;`-separated statements without parameters or results (schema scripts,
    /// migrations).
    virtual void execute_script(std::string_view sql) = 0;

    /// Transactions. begin() on SQLite is BEGIN IMMEDIATE (takes the write lock at once, so a
    /// transaction never fails half-way with an unretryable lock upgrade). Nesting is an error
    /// (kind::other). commit() of a PostgreSQL transaction that an earlier statement aborted
    /// rolls back and throws (kind::other) instead of silently reporting success. rollback()
    /// without a transaction is a no-op.
    virtual void begin() = 0;
    virtual void commit() = 0;
    virtual void rollback() = 0;
    virtual bool in_transaction() const = 0;

    /// False once the connection is known to be broken (PostgreSQL: connection lost).
    virtual bool healthy() const = 0;

    /// Prepared statements currently cached by this connection (SQLite; always 0 on
    /// PostgreSQL, which sends each statement with its parameters). For diagnostics and tests.
    virtual std::size_t cached_statements() const noexcept { return 0; }
};

/// Runs `work` inside a transaction on `db` and commits. If a statement or the commit fails with
/// kind::busy (lock timeout, serialization failure, deadlock), rolls back and runs `work` again,
/// up to `attempts` runs in all, after a short random back-off (below 2^run ms, at most 64 ms);
/// `work` must therefore have no side effects outside the database.
/// Any other error rolls back and propagates at once, as does the last busy error.
void run_transaction(database& db, const std::function<void(database&)>& work, int attempts = 3);

/// RAII transaction: begins in the constructor; rolls back in the destructor unless commit()
/// succeeded. Errors from the destructor's rollback are swallowed (the connection's own state
/// is then reported by healthy()).
class transaction {
  public:
    explicit transaction(database& db);
    transaction(const transaction&) = delete;
    transaction& operator=(const transaction&) = delete;
    ~transaction();

    /// Commits; throws store::error on failure (the destructor then rolls back).
    void commit();

  private:
    database& db_;
    bool done_ = false;
};

/// Opens a connection. URLs:
///   sqlite:/abs/path.db   sqlite:relative.db   sqlite:///abs/path.db   sqlite::memory:
///     optional query: ?busy_timeout_ms=N (default 5000) &statement_cache=N (default 64)
///     The file is created with mode 0600 if missing. The connection runs with
///     journal_mode=WAL, synchronous=NORMAL (durable against process crashes; a power loss can
///     lose the last transactions but never corrupts), foreign_keys=ON, the busy timeout above,
///     and SQLite's defensive mode.
///   postgresql://user[:password]@host[:port]/db[?param=...]   (or postgres://...)
///     any libpq URI; connect_timeout defaults to 10 s, client_encoding is UTF8.
/// Throws std::invalid_argument for an unknown scheme or a bad option, store::error
/// (kind::connection) if the database cannot be opened. Messages carry the redacted URL.
std::unique_ptr<database> open(const std::string& url);

/// The URL with any password removed (user:secret@ -> user:***@, password=... -> password=***),
/// for logs and error messages.
std::string redact_url(std::string_view url);

/// PostgreSQL placeholder rewriting, exposed for tests: `?` outside '...', E'...', "...",
/// $tag$...$tag$, -- and /* */ comments becomes $1, $2, ...
struct rewritten_sql {
    std::string text;
    std::size_t parameters = 0;
};
rewritten_sql rewrite_placeholders(std::string_view sql);

}  // namespace tollgate::store
