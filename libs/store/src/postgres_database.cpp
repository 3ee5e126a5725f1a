// PostgreSQL backend over libpq: PQexecParams with `?` rewritten to $n, text-format parameters
// (bytea in binary format) and text-format results converted by column type (database.hpp).
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>

#include <libpq-fe.h>

#include <tollgate/common/log.hpp>

#include "detail.hpp"

namespace tollgate::store::detail {

namespace {

// Type OIDs from PostgreSQL's catalog (pg_type.dat); stable across versions.
constexpr Oid bool_oid = 16;
constexpr Oid bytea_oid = 17;
constexpr Oid int8_oid = 20;
constexpr Oid int2_oid = 21;
constexpr Oid int4_oid = 23;
constexpr Oid oid_oid = 26;
constexpr Oid float4_oid = 700;
constexpr Oid float8_oid = 701;
constexpr Oid numeric_oid = 1700;

struct result_deleter {
    void operator()(PGresult* r) const noexcept { PQclear(r); }
};
using result_ptr = std::unique_ptr<PGresult, result_deleter>;

error::kind kind_of_state(std::string_view state) {
    if (state.starts_with("23")) {
        return error::kind::constraint;
    }
    if (state == "40001" || state == "40P01" || state == "55P03" || state == "57014") {
        return error::kind::busy;  // serialization, deadlock, lock not available, statement timeout
    }
    if (state.starts_with("08") || state == "57P01" || state == "57P02" || state == "57P03") {
        return error::kind::connection;
    }
    if (state.starts_with("42")) {
        return error::kind::syntax;
    }
    return error::kind::other;
}

bool parse_int64(const char* s, std::size_t n, std::int64_t& out) {
    auto [p, ec] = std::from_chars(s, s + n, out);
    return ec == std::errc{} && p == s + n;
}

double parse_double(const char* s) {
    // float8out/numeric_out spell non-finite values NaN, Infinity, -Infinity; strtod reads them.
    return std::strtod(s, nullptr);
}

value to_value(const PGresult* r, int row, int col) {
    if (PQgetisnull(r, row, col) != 0) {
        return std::monostate{};
    }
    const char* s = PQgetvalue(r, row, col);
    const auto n = static_cast<std::size_t>(PQgetlength(r, row, col));
    switch (PQftype(r, col)) {
        case bool_oid:
            return std::int64_t{s[0] == 't' ? 1 : 0};
        case int2_oid:
        case int4_oid:
        case int8_oid:
        case oid_oid: {
            std::int64_t v = 0;
            if (parse_int64(s, n, v)) {
                return v;
            }
            return std::string(s, n);
        }
        case float4_oid:
        case float8_oid:
            return parse_double(s);
        case numeric_oid: {
            std::int64_t v = 0;
            if (parse_int64(s, n, v)) {
                return v;
            }
            return parse_double(s);
        }
        case bytea_oid: {
            std::size_t len = 0;
            unsigned char* raw = PQunescapeBytea(reinterpret_cast<const unsigned char*>(s), &len);
            if (raw == nullptr) {
                throw error(error::kind::other, "postgres: cannot decode a bytea value (out of memory)");
            }
            blob b(raw, raw + len);
            PQfreemem(raw);
            return b;
        }
        default:
            return std::string(s, n);
    }
}

void on_notice(void* /*arg*/, const char* message) {
    std::string_view m(message);
    while (!m.empty() && m.back() == '\n') {
        m.remove_suffix(1);
    }
    common::logger("store")->debug("postgres: {}", m);
}

class postgres_database final : public database {
  public:
    explicit postgres_database(const std::string& url);
    ~postgres_database() override { PQfinish(conn_); }

    dialect kind() const override { return dialect::postgres; }
    std::int64_t execute(std::string_view sql, std::span<const value> params) override;
    std::vector<row> query(std::string_view sql, std::span<const value> params) override;
    void execute_script(std::string_view sql) override;
    void begin() override;
    void commit() override;
    void rollback() override;
    bool in_transaction() const override;
    bool healthy() const override { return PQstatus(conn_) == CONNECTION_OK; }

  private:
    result_ptr run(std::string_view sql, std::span<const value> params);
    void check(const PGresult* r, std::string_view sql) const;
    [[noreturn]] void fail(const PGresult* r, std::string_view sql) const;

    PGconn* conn_ = nullptr;
};

postgres_database::postgres_database(const std::string& url) {
    // Keywords before dbname are defaults: the URL (expanded from dbname) overrides them.
    const char* keys[] = {"connect_timeout", "client_encoding", "fallback_application_name", "dbname",
                          nullptr};
    const char* vals[] = {"10", "UTF8", "tollgate", url.c_str(), nullptr};
    conn_ = PQconnectdbParams(keys, vals, 1);
    if (conn_ == nullptr) {
        throw error(error::kind::connection, "postgres: cannot allocate a connection");
    }
    if (PQstatus(conn_) != CONNECTION_OK) {
        std::string msg = PQerrorMessage(conn_);
        while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) {
            msg.pop_back();
        }
        PQfinish(conn_);
        throw error(error::kind::connection, "postgres: cannot connect to " + redact_url(url) + ": " + msg);
    }
    PQsetNoticeProcessor(conn_, on_notice, nullptr);
}

void postgres_database::fail(const PGresult* r, std::string_view sql) const {
    const char* state = r != nullptr ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
    const char* primary = r != nullptr ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : nullptr;
    std::string code = state != nullptr ? state : "";
    error::kind k = kind_of_state(code);
    std::string msg;
    if (code.starts_with("22")) {
        // Data exceptions quote the offending input ("invalid input syntax for type bigint:
        // "..."") and inputs are parameters, which may be secrets: name the column only.
        msg = "data exception";
        if (const char* column = PQresultErrorField(r, PG_DIAG_COLUMN_NAME)) {
            msg += std::string(" in column ") + column;
        }
    } else if (primary != nullptr) {
        msg = primary;  // DETAIL, which quotes key values, is deliberately left out
    } else {
        msg = PQerrorMessage(conn_);
        while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) {
            msg.pop_back();
        }
    }
    if (PQstatus(conn_) != CONNECTION_OK) {
        k = error::kind::connection;
    }
    if (!code.empty()) {
        msg += " [SQLSTATE " + code + "]";
    }
    throw error(k, "postgres: " + msg + " (in: " + sql_excerpt(sql) + ")", code);
}

void postgres_database::check(const PGresult* r, std::string_view sql) const {
    if (r == nullptr) {
        fail(nullptr, sql);
    }
    switch (PQresultStatus(r)) {
        case PGRES_COMMAND_OK:
        case PGRES_TUPLES_OK:
            return;
        case PGRES_EMPTY_QUERY:
            throw error(error::kind::syntax, "postgres: empty statement");
        default:
            fail(r, sql);
    }
}

result_ptr postgres_database::run(std::string_view sql, std::span<const value> params) {
    rewritten_sql rw = rewrite_placeholders(sql);
    if (rw.parameters != params.size()) {
        throw error(error::kind::syntax, "postgres: statement has " + std::to_string(rw.parameters) +
                                             " placeholders but " + std::to_string(params.size()) +
                                             " parameters were given (in: " + sql_excerpt(sql) + ")");
    }
    check_text_parameters(params);
    const std::size_t n = params.size();
    std::vector<Oid> types(n, 0);
    std::vector<const char*> values(n, nullptr);
    std::vector<int> lengths(n, 0);
    std::vector<int> formats(n, 0);
    std::vector<std::string> numbers(n);  // text form of numeric parameters
    static const char empty = 0;
    for (std::size_t i = 0; i < n; ++i) {
        const value& v = params[i];
        if (const auto* p = std::get_if<std::int64_t>(&v)) {
            types[i] = int8_oid;
            numbers[i] = std::to_string(*p);
            values[i] = numbers[i].c_str();
        } else if (const auto* d = std::get_if<double>(&v)) {
            types[i] = float8_oid;
            if (std::isnan(*d)) {
                numbers[i] = "NaN";
            } else if (std::isinf(*d)) {
                numbers[i] = *d > 0 ? "Infinity" : "-Infinity";
            } else {
                char buf[64];
                auto res = std::to_chars(buf, buf + sizeof buf, *d);
                numbers[i].assign(buf, res.ptr);
            }
            values[i] = numbers[i].c_str();
        } else if (const auto* s = std::get_if<std::string>(&v)) {
            values[i] = s->c_str();  // type left unknown, as for a quoted literal
        } else if (const auto* b = std::get_if<blob>(&v)) {
            if (b->size() > static_cast<std::size_t>(INT32_MAX)) {
                throw error(error::kind::other, "postgres: blob parameter too large");
            }
            types[i] = bytea_oid;
            values[i] = b->empty() ? &empty : reinterpret_cast<const char*>(b->data());
            lengths[i] = static_cast<int>(b->size());
            formats[i] = 1;
        }
    }
    const std::string text = std::move(rw.text);
    result_ptr r(PQexecParams(conn_, text.c_str(), static_cast<int>(n), types.data(), values.data(),
                              lengths.data(), formats.data(), 0));
    check(r.get(), sql);
    return r;
}

std::int64_t postgres_database::execute(std::string_view sql, std::span<const value> params) {
    result_ptr r = run(sql, params);
    std::string_view status = PQcmdStatus(r.get());
    status = status.substr(0, status.find(' '));
    if (status != "INSERT" && status != "UPDATE" && status != "DELETE" && status != "MERGE") {
        return 0;
    }
    std::string_view count = PQcmdTuples(r.get());
    std::int64_t v = 0;
    return parse_int64(count.data(), count.size(), v) ? v : 0;
}

std::vector<row> postgres_database::query(std::string_view sql, std::span<const value> params) {
    result_ptr r = run(sql, params);
    const int rows = PQntuples(r.get());
    const int cols = PQnfields(r.get());
    auto names = std::make_shared<std::vector<std::string>>();
    for (int c = 0; c < cols; ++c) {
        names->emplace_back(PQfname(r.get(), c));
    }
    std::vector<row> out;
    out.reserve(static_cast<std::size_t>(rows));
    for (int i = 0; i < rows; ++i) {
        std::vector<value> values;
        values.reserve(static_cast<std::size_t>(cols));
        for (int c = 0; c < cols; ++c) {
            values.push_back(to_value(r.get(), i, c));
        }
        out.emplace_back(std::move(values), names);
    }
    return out;
}

void postgres_database::execute_script(std::string_view sql) {
    std::string text(sql);
    result_ptr r(PQexec(conn_, text.c_str()));
    check(r.get(), sql);
}

bool postgres_database::in_transaction() const {
    switch (PQtransactionStatus(conn_)) {
        case PQTRANS_INTRANS:
        case PQTRANS_INERROR:
        case PQTRANS_ACTIVE:
            return true;
        default:
            return false;
    }
}

void postgres_database::begin() {
    if (in_transaction()) {
        throw error(error::kind::other, "postgres: begin() inside a transaction (nesting is not supported)");
    }
    execute_script("BEGIN");
}

void postgres_database::commit() {
    const auto status = PQtransactionStatus(conn_);
    if (status == PQTRANS_INERROR) {
        // COMMIT would silently roll back and report "ROLLBACK": make the failure explicit.
        execute_script("ROLLBACK");
        throw error(error::kind::other,
                    "postgres: commit() of a transaction aborted by an earlier error; rolled back");
    }
    if (status != PQTRANS_INTRANS) {
        throw error(error::kind::other, "postgres: commit() without a transaction");
    }
    result_ptr r(PQexec(conn_, "COMMIT"));
    check(r.get(), "COMMIT");
    if (std::string_view(PQcmdStatus(r.get())) == "ROLLBACK") {
        throw error(error::kind::other, "postgres: the transaction was rolled back at commit");
    }
}

void postgres_database::rollback() {
    const auto status = PQtransactionStatus(conn_);
    if (status == PQTRANS_INTRANS || status == PQTRANS_INERROR) {
        execute_script("ROLLBACK");
    }
}

}  // namespace

std::unique_ptr<database> open_postgres(const std::string& url) {
    return std::make_unique<postgres_database>(url);
}

}  // namespace tollgate::store::detail
