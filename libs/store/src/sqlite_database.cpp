// SQLite backend over the sqlite3 C API.
//
// Statement cache: the token endpoint runs the same few statements over and over, so prepared
// statements are kept per connection in an LRU list keyed by SQL text (capacity from the URL,
// default 64; 0 disables; statements longer than 16 KiB are never cached, so the cache's memory
// stays bounded by capacity x 16 KiB plus SQLite's compiled programs). The map's keys are views
// into the list nodes, which never move.
// A statement is always reset and its bindings cleared before a call returns, so parameters are
// bound with SQLITE_STATIC (no copy of large blobs) and no cached statement holds a lock.
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <list>
#include <sys/stat.h>
#include <unistd.h>
#include <unordered_map>

#include <sqlite3.h>

#include <tollgate/common/log.hpp>

#include "detail.hpp"

namespace tollgate::store::detail {

namespace {

constexpr std::size_t max_cached_sql = 16 * 1024;

error::kind kind_of(int extended, bool preparing) {
    switch (extended & 0xff) {
        case SQLITE_CONSTRAINT:
            return error::kind::constraint;
        case SQLITE_BUSY:
        case SQLITE_LOCKED:
            return error::kind::busy;
        case SQLITE_CANTOPEN:
        case SQLITE_NOTADB:
            return error::kind::connection;
        case SQLITE_RANGE:
            return error::kind::syntax;
        case SQLITE_ERROR:
            return preparing ? error::kind::syntax : error::kind::other;
        default:
            return error::kind::other;
    }
}

// Makes sure a new database file starts as 0600: SQLite would create it with the umask, and its
// -wal and -shm files copy the main file's mode. An existing file keeps its mode; a warning says
// so when others can read it.
/// Creates the database file with mode 0600 when it does not exist yet; warns when an existing one is
/// readable by others. An existing file is only stat()ed, never opened: closing any descriptor of a
/// file drops every POSIX lock this process holds on it, SQLite's included, so an open()+close()
/// while other connections of the pool hold locks would break their locking (sqlite.org
/// howtocorrupt.html §2.2; seen as "disk I/O error" when a new pooled connection opened while
/// another process wrote the file).
void create_private_file(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0) {
        if ((st.st_mode & 0077) != 0) {
            common::logger("store")->warn(
                "sqlite: {} is accessible to other users (mode {:o}); chmod 600 is advised", path,
                st.st_mode & 0777);
        }
        return;
    }
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        if (errno == EEXIST) {
            return;  // created by someone else meanwhile: SQLite opens it
        }
        throw error(error::kind::connection,
                    "sqlite: cannot create or open " + path + ": " + std::strerror(errno));
    }
    ::close(fd);
}

class sqlite_database final : public database {
  public:
    explicit sqlite_database(const sqlite_options& o);
    ~sqlite_database() override;

    dialect kind() const override { return dialect::sqlite; }
    std::int64_t execute(std::string_view sql, std::span<const value> params) override;
    std::vector<row> query(std::string_view sql, std::span<const value> params) override;
    void execute_script(std::string_view sql) override;
    void begin() override;
    void commit() override;
    void rollback() override;
    bool in_transaction() const override { return sqlite3_get_autocommit(db_) == 0; }
    bool healthy() const override { return db_ != nullptr; }
    std::size_t cached_statements() const noexcept override { return lru_.size(); }

  private:
    struct cached {
        std::string sql;
        sqlite3_stmt* stmt;
    };

    // A statement in use: reset and unbound on destruction; finalized unless cached.
    class active {
      public:
        active(sqlite3_stmt* s, bool owned) : stmt_(s), owned_(owned) {}
        active(const active&) = delete;
        active& operator=(const active&) = delete;
        ~active() {
            sqlite3_reset(stmt_);
            sqlite3_clear_bindings(stmt_);
            if (owned_) {
                sqlite3_finalize(stmt_);
            }
        }
        sqlite3_stmt* get() const { return stmt_; }

      private:
        sqlite3_stmt* stmt_;
        bool owned_;
    };

    [[noreturn]] void fail(std::string_view sql, bool preparing, int rc = 0) const;
    sqlite3_stmt* prepare_one(std::string_view sql, bool persistent);
    active statement(std::string_view sql);
    void bind(sqlite3_stmt* stmt, std::string_view sql, std::span<const value> params);
    // Steps to completion; appends rows to `out` when non-null.
    void run(sqlite3_stmt* stmt, std::string_view sql, std::vector<row>* out);
    void simple(std::string_view sql);

    sqlite3* db_ = nullptr;
    std::size_t cache_capacity_;
    std::list<cached> lru_;  // most recently used first
    std::unordered_map<std::string_view, std::list<cached>::iterator> cache_;
};

sqlite_database::sqlite_database(const sqlite_options& o) : cache_capacity_(o.statement_cache) {
    const bool memory = o.path == ":memory:";
    if (!memory) {
        create_private_file(o.path);
    }
    int rc = sqlite3_open_v2(o.path.c_str(), &db_,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
    if (rc != SQLITE_OK) {
        std::string msg = db_ != nullptr ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
        sqlite3_close(db_);
        db_ = nullptr;
        throw error(error::kind::connection, "sqlite: cannot open " + o.path + ": " + msg,
                    "sqlite:" + std::to_string(rc));
    }
    try {
        sqlite3_extended_result_codes(db_, 1);
        sqlite3_busy_timeout(db_, o.busy_timeout_ms);
        sqlite3_db_config(db_, SQLITE_DBCONFIG_DEFENSIVE, 1, nullptr);
        auto mode = query("PRAGMA journal_mode=WAL", {});
        const std::string expected = memory ? "memory" : "wal";
        if (mode.empty() || mode[0].text(0) != expected) {
            throw error(error::kind::connection, "sqlite: cannot switch " + o.path + " to WAL mode");
        }
        execute_script("PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; PRAGMA trusted_schema=OFF;");
    } catch (...) {
        for (auto& c : lru_) {
            sqlite3_finalize(c.stmt);
        }
        sqlite3_close(db_);
        throw;
    }
}

sqlite_database::~sqlite_database() {
    for (auto& c : lru_) {
        sqlite3_finalize(c.stmt);
    }
    if (sqlite3_close(db_) != SQLITE_OK) {
        common::logger("store")->warn("sqlite: close failed: {}", sqlite3_errmsg(db_));
    }
}

void sqlite_database::fail(std::string_view sql, bool preparing, int rc) const {
    int ext = rc != 0 ? rc : sqlite3_extended_errcode(db_);
    std::string msg =
        rc != 0 && rc != sqlite3_extended_errcode(db_) ? sqlite3_errstr(rc) : sqlite3_errmsg(db_);
    throw error(kind_of(ext, preparing), "sqlite: " + msg + " (in: " + sql_excerpt(sql) + ")",
                "sqlite:" + std::to_string(ext));
}

sqlite3_stmt* sqlite_database::prepare_one(std::string_view sql, bool persistent) {
    sqlite3_stmt* stmt = nullptr;
    const char* tail = nullptr;
    int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                                persistent ? SQLITE_PREPARE_PERSISTENT : 0, &stmt, &tail);
    if (rc != SQLITE_OK) {
        fail(sql, true);
    }
    if (stmt == nullptr) {
        throw error(error::kind::syntax, "sqlite: empty statement");
    }
    std::string_view rest(tail, static_cast<std::size_t>(sql.data() + sql.size() - tail));
    sqlite3_stmt* extra = nullptr;
    rc = sqlite3_prepare_v2(db_, rest.data(), static_cast<int>(rest.size()), &extra, nullptr);
    if (rc != SQLITE_OK || extra != nullptr) {
        sqlite3_finalize(extra);
        sqlite3_finalize(stmt);
        throw error(error::kind::syntax,
                    "sqlite: more than one statement (use execute_script) (in: " + sql_excerpt(sql) + ")");
    }
    return stmt;
}

sqlite_database::active sqlite_database::statement(std::string_view sql) {
    if (cache_capacity_ == 0 || sql.size() > max_cached_sql) {
        return {prepare_one(sql, false), true};
    }
    if (auto it = cache_.find(sql); it != cache_.end()) {
        lru_.splice(lru_.begin(), lru_, it->second);
        return {it->second->stmt, false};
    }
    sqlite3_stmt* stmt = prepare_one(sql, true);
    if (lru_.size() >= cache_capacity_) {
        cache_.erase(lru_.back().sql);
        sqlite3_finalize(lru_.back().stmt);
        lru_.pop_back();
    }
    lru_.push_front(cached{std::string(sql), stmt});
    cache_.emplace(lru_.front().sql, lru_.begin());
    return {stmt, false};
}

void sqlite_database::bind(sqlite3_stmt* stmt, std::string_view sql, std::span<const value> params) {
    check_text_parameters(params);
    const auto expected = static_cast<std::size_t>(sqlite3_bind_parameter_count(stmt));
    if (expected != params.size()) {
        throw error(error::kind::syntax, "sqlite: statement has " + std::to_string(expected) +
                                             " placeholders but " + std::to_string(params.size()) +
                                             " parameters were given (in: " + sql_excerpt(sql) + ")");
    }
    for (std::size_t i = 0; i < params.size(); ++i) {
        const int n = static_cast<int>(i + 1);
        const value& v = params[i];
        int rc = SQLITE_OK;
        if (const auto* p = std::get_if<std::int64_t>(&v)) {
            rc = sqlite3_bind_int64(stmt, n, *p);
        } else if (const auto* d = std::get_if<double>(&v)) {
            rc = sqlite3_bind_double(stmt, n, *d);
        } else if (const auto* s = std::get_if<std::string>(&v)) {
            rc = sqlite3_bind_text64(stmt, n, s->data(), s->size(), SQLITE_STATIC, SQLITE_UTF8);
        } else if (const auto* b = std::get_if<blob>(&v)) {
            rc = b->empty() ? sqlite3_bind_zeroblob(stmt, n, 0)
                            : sqlite3_bind_blob64(stmt, n, b->data(), b->size(), SQLITE_STATIC);
        } else {
            rc = sqlite3_bind_null(stmt, n);
        }
        if (rc != SQLITE_OK) {
            fail(sql, false, rc);
        }
    }
}

value column_value(sqlite3_stmt* stmt, int c) {
    switch (sqlite3_column_type(stmt, c)) {
        case SQLITE_INTEGER:
            return std::int64_t{sqlite3_column_int64(stmt, c)};
        case SQLITE_FLOAT:
            return sqlite3_column_double(stmt, c);
        case SQLITE_TEXT: {
            const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt, c));
            return std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(stmt, c)));
        }
        case SQLITE_BLOB: {
            const auto* p = static_cast<const std::uint8_t*>(sqlite3_column_blob(stmt, c));
            const auto n = static_cast<std::size_t>(sqlite3_column_bytes(stmt, c));
            return p == nullptr ? blob{} : blob(p, p + n);
        }
        default:
            return std::monostate{};
    }
}

void sqlite_database::run(sqlite3_stmt* stmt, std::string_view sql, std::vector<row>* out) {
    std::shared_ptr<std::vector<std::string>> names;
    const int columns = sqlite3_column_count(stmt);
    if (out != nullptr) {
        names = std::make_shared<std::vector<std::string>>();
        for (int c = 0; c < columns; ++c) {
            const char* n = sqlite3_column_name(stmt, c);
            names->emplace_back(n != nullptr ? n : "");
        }
    }
    for (;;) {
        int rc = sqlite3_step(stmt);
        if (rc == SQLITE_DONE) {
            return;
        }
        if (rc != SQLITE_ROW) {
            fail(sql, false);
        }
        if (out != nullptr) {
            std::vector<value> values;
            values.reserve(static_cast<std::size_t>(columns));
            for (int c = 0; c < columns; ++c) {
                values.push_back(column_value(stmt, c));
            }
            out->emplace_back(std::move(values), names);
        }
    }
}

std::int64_t sqlite_database::execute(std::string_view sql, std::span<const value> params) {
    active a = statement(sql);
    bind(a.get(), sql, params);
    const sqlite3_int64 before = sqlite3_total_changes64(db_);
    run(a.get(), sql, nullptr);
    // Only a statement that changed rows reports them; sqlite3_changes64 alone would repeat the
    // count of an earlier INSERT/UPDATE/DELETE after DDL or a SELECT.
    return sqlite3_total_changes64(db_) != before ? sqlite3_changes64(db_) : 0;
}

std::vector<row> sqlite_database::query(std::string_view sql, std::span<const value> params) {
    active a = statement(sql);
    bind(a.get(), sql, params);
    std::vector<row> rows;
    run(a.get(), sql, &rows);
    return rows;
}

void sqlite_database::execute_script(std::string_view sql) {
    std::string text(sql);
    char* err = nullptr;
    int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &err);
    if (rc != SQLITE_OK) {
        std::string msg = err != nullptr ? err : sqlite3_errstr(rc);
        sqlite3_free(err);
        int ext = sqlite3_extended_errcode(db_);
        throw error(kind_of(ext, true), "sqlite: " + msg + " (in: " + sql_excerpt(sql) + ")",
                    "sqlite:" + std::to_string(ext));
    }
}

void sqlite_database::simple(std::string_view sql) {
    active a = statement(sql);
    run(a.get(), sql, nullptr);
}

void sqlite_database::begin() {
    if (in_transaction()) {
        throw error(error::kind::other, "sqlite: begin() inside a transaction (nesting is not supported)");
    }
    simple("BEGIN IMMEDIATE");
}

void sqlite_database::commit() {
    if (!in_transaction()) {
        throw error(error::kind::other, "sqlite: commit() without a transaction");
    }
    simple("COMMIT");
}

void sqlite_database::rollback() {
    if (in_transaction()) {
        simple("ROLLBACK");
    }
}

}  // namespace

std::unique_ptr<database> open_sqlite(const sqlite_options& options) {
    return std::make_unique<sqlite_database>(options);
}

}  // namespace tollgate::store::detail
