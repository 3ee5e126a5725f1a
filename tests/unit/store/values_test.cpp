// Value round-trips and portable result typing, on both backends.
#include <cmath>
#include <limits>

#include <tollgate/common/secret.hpp>

#include "backend_fixture.hpp"

namespace tollgate::store::test {
namespace {

void make_table(database& db, const char* blob_type) {
    db.execute_script(std::string("CREATE TABLE v (id INTEGER PRIMARY KEY, i BIGINT, r DOUBLE PRECISION, "
                                  "s TEXT, b ") +
                      blob_type + ")");
}

TEST_P(store_backend, every_value_type_round_trips_through_a_table) {
    make_table(*db_, blob_type());
    const blob bytes{0x00, 0x01, 0xff, 0x00, 0x7f, 0x80};
    EXPECT_EQ(db_->execute("INSERT INTO v (id, i, r, s, b) VALUES (?, ?, ?, ?, ?)",
                           {std::int64_t{1}, std::numeric_limits<std::int64_t>::max(), 0.1, "text", bytes}),
              1);
    db_->execute("INSERT INTO v (id, i, r, s, b) VALUES (?, ?, ?, ?, ?)",
                 {std::int64_t{2}, std::numeric_limits<std::int64_t>::min(), -1e300, "", blob{}});
    db_->execute("INSERT INTO v (id, i, r, s, b) VALUES (?, ?, ?, ?, ?)",
                 {std::int64_t{3}, value{}, value{}, value{}, value{}});

    auto rows = db_->query("SELECT id, i, r, s, b FROM v ORDER BY id");
    ASSERT_EQ(rows.size(), 3U);
    EXPECT_EQ(rows[0].integer(1), std::numeric_limits<std::int64_t>::max());
    EXPECT_EQ(rows[0].real(2), 0.1);
    EXPECT_EQ(rows[0].text(3), "text");
    EXPECT_EQ(rows[0].bytes(4), bytes);
    EXPECT_EQ(rows[1].integer(1), std::numeric_limits<std::int64_t>::min());
    EXPECT_EQ(rows[1].real(2), -1e300);
    EXPECT_EQ(rows[1].text(3), "");
    EXPECT_EQ(rows[1].bytes(4), blob{});  // an empty blob is not NULL
    EXPECT_FALSE(rows[1].is_null(4));
    for (std::size_t c = 1; c < 5; ++c) {
        EXPECT_TRUE(rows[2].is_null(c)) << c;
    }
    EXPECT_EQ(rows[2].opt_integer(1), std::nullopt);
    EXPECT_EQ(rows[2].opt_text(3), std::nullopt);
    EXPECT_EQ(rows[0].opt_integer(1), std::numeric_limits<std::int64_t>::max());
    EXPECT_EQ(rows[0].column_name(3), "s");
    EXPECT_EQ(rows[0].index_of("b"), 4U);
}

TEST_P(store_backend, parameters_come_back_unchanged_from_a_bare_select) {
    const blob bytes{0, 0, 42};
    auto rows = db_->query("SELECT ?, ?, ?, ?, ?", {std::int64_t{-7}, 2.5, "x", bytes, value{}});
    ASSERT_EQ(rows.size(), 1U);
    EXPECT_EQ(rows[0].at(0), value{std::int64_t{-7}});
    EXPECT_EQ(rows[0].at(1), value{2.5});
    EXPECT_EQ(rows[0].at(2), value{std::string("x")});
    EXPECT_EQ(rows[0].at(3), value{bytes});
    EXPECT_TRUE(rows[0].is_null(4));
}

TEST_P(store_backend, optional_filters_with_a_cast_null_parameter_work_on_both_backends) {
    // The documented form for "? IS NULL" (database.hpp): PostgreSQL needs the parameter's type.
    db_->execute_script("CREATE TABLE f (name TEXT, n INTEGER)");
    db_->execute("INSERT INTO f (name, n) VALUES (?, ?)", {"a", std::int64_t{1}});
    db_->execute("INSERT INTO f (name, n) VALUES (?, ?)", {"b", std::int64_t{2}});
    const char* sql = "SELECT COUNT(*) FROM f WHERE (CAST(? AS TEXT) IS NULL OR name = ?)";
    EXPECT_EQ(db_->query(sql, {value{}, value{}})[0].integer(0), 2);
    EXPECT_EQ(db_->query(sql, {"b", "b"})[0].integer(0), 1);
    // Typed parameters (blob, integer) need no cast; to_blob keeps NUL bytes.
    const blob b = to_blob(std::string_view("\0\xff", 2));
    ASSERT_EQ(b.size(), 2U);
    auto rows = db_->query("SELECT ? IS NULL, ? = ?, ? IS NULL", {b, b, b, std::int64_t{3}});
    EXPECT_EQ(rows[0].integer(0), 0);
    EXPECT_EQ(rows[0].integer(1), 1);
    EXPECT_EQ(rows[0].integer(2), 0);
}

TEST_P(store_backend, doubles_round_trip_exactly) {
    db_->execute_script("CREATE TABLE d (x DOUBLE PRECISION)");
    const double values[] = {0.1, 1.0 / 3.0, 5e-324, 1.7976931348623157e308, -2.5, 0.0, 123456789.123456789};
    for (double d : values) {
        db_->execute("INSERT INTO d (x) VALUES (?)", {d});
    }
    auto rows = db_->query("SELECT x FROM d");
    ASSERT_EQ(rows.size(), std::size(values));
    for (std::size_t i = 0; i < rows.size(); ++i) {
        EXPECT_EQ(rows[i].real(0), values[i]);
    }
}

TEST_P(store_backend, large_blob_with_every_byte_value_and_nuls_round_trips) {
    blob big = common::random_bytes(4 * 1024 * 1024);
    for (std::size_t i = 0; i < 256; ++i) {
        big[i] = static_cast<std::uint8_t>(i);
    }
    big[1000] = 0;
    big.back() = 0;
    db_->execute_script(std::string("CREATE TABLE b (k INTEGER PRIMARY KEY, data ") + blob_type() + ")");
    db_->execute("INSERT INTO b (k, data) VALUES (?, ?)", {std::int64_t{1}, big});
    auto rows = db_->query("SELECT data, length(data) FROM b WHERE k = ?", {std::int64_t{1}});
    ASSERT_EQ(rows.size(), 1U);
    EXPECT_EQ(rows[0].integer(1), static_cast<std::int64_t>(big.size()));
    EXPECT_TRUE(rows[0].bytes(0) == big);
    // A blob also works as a lookup key (token hashes are stored this way).
    EXPECT_EQ(db_->query("SELECT k FROM b WHERE data = ?", {big}).size(), 1U);
}

TEST_P(store_backend, unicode_text_round_trips) {
    const std::string text =
        "h\xc3\xa9llo w\xc3\xb6rld \xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e \xf0\x9f\x9a\x80 \xe2\x80\xae";
    db_->execute_script("CREATE TABLE u (s TEXT)");
    db_->execute("INSERT INTO u (s) VALUES (?)", {text});
    auto rows = db_->query("SELECT s, s = ? FROM u", {text});
    ASSERT_EQ(rows.size(), 1U);
    EXPECT_EQ(rows[0].text(0), text);
    EXPECT_EQ(rows[0].integer(1), 1);
}

TEST_P(store_backend, question_marks_inside_literals_identifiers_and_comments_are_not_placeholders) {
    auto rows = db_->query(
        "SELECT '?' AS \"a?\", ? AS p, 'it''s ?' AS q -- a comment? yes\n"
        ", /* ? */ 'x' AS c",
        {"param"});
    ASSERT_EQ(rows.size(), 1U);
    EXPECT_EQ(rows[0].text(0), "?");
    EXPECT_EQ(rows[0].column_name(0), "a?");
    EXPECT_EQ(rows[0].text(1), "param");
    EXPECT_EQ(rows[0].text(2), "it's ?");
    EXPECT_EQ(rows[0].text(3), "x");
}

TEST_P(store_backend, integers_booleans_and_aggregates_come_back_as_int64) {
    db_->execute_script("CREATE TABLE n (x INTEGER, y SMALLINT)");
    db_->execute("INSERT INTO n (x, y) VALUES (?, ?)", {std::int64_t{2}, std::int64_t{3}});
    db_->execute("INSERT INTO n (x, y) VALUES (?, ?)", {std::int64_t{5}, std::int64_t{4}});
    auto rows = db_->query("SELECT COUNT(*), SUM(x), MAX(y), 1 = 1, 1 = 0, MIN(x) FROM n WHERE x = ?",
                           {std::int64_t{5}});
    ASSERT_EQ(rows.size(), 1U);
    EXPECT_EQ(rows[0].at(0), value{std::int64_t{1}});
    EXPECT_EQ(rows[0].at(1), value{std::int64_t{5}});
    EXPECT_EQ(rows[0].at(2), value{std::int64_t{4}});
    EXPECT_EQ(rows[0].at(3), value{std::int64_t{1}});
    EXPECT_EQ(rows[0].at(4), value{std::int64_t{0}});
    EXPECT_EQ(rows[0].at(5), value{std::int64_t{5}});
    auto real = db_->query("SELECT 1.5, 2.0");
    EXPECT_EQ(real[0].at(0), value{1.5});
    EXPECT_EQ(real[0].at(1), value{2.0});
}

TEST_P(store_backend, row_accessors_check_the_type) {
    auto rows = db_->query("SELECT 'text', NULL");
    ASSERT_EQ(rows.size(), 1U);
    try {
        (void)rows[0].integer(0);
        FAIL() << "integer() of a text column must throw";
    } catch (const error& e) {
        EXPECT_EQ(e.what_kind(), error::kind::other);
    }
    EXPECT_THROW((void)rows[0].text(1), error);
    EXPECT_THROW((void)rows[0].at(2), std::out_of_range);
    EXPECT_EQ(rows[0].opt_bytes(1), std::nullopt);
}

TEST_P(store_backend, sql_injection_attempts_stay_data) {
    db_->execute_script("CREATE TABLE users (name TEXT NOT NULL)");
    const std::string evil = "x'); DROP TABLE users; --";
    db_->execute("INSERT INTO users (name) VALUES (?)", {evil});
    db_->execute("INSERT INTO users (name) VALUES (?)", {"alice"});
    EXPECT_TRUE(db_->query("SELECT name FROM users WHERE name = ?", {"' OR '1'='1"}).empty());
    EXPECT_TRUE(db_->query("SELECT name FROM users WHERE name = ?", {"alice' --"}).empty());
    auto rows = db_->query("SELECT name FROM users WHERE name = ?", {evil});
    ASSERT_EQ(rows.size(), 1U);
    EXPECT_EQ(rows[0].text(0), evil);
    // A `?` inside a parameter value is data too.
    EXPECT_EQ(db_->query("SELECT ?", {"?"})[0].text(0), "?");
    EXPECT_EQ(db_->query("SELECT COUNT(*) FROM users")[0].integer(0), 2);
}

TEST_P(store_backend, execute_counts_changed_rows_only) {
    db_->execute_script("CREATE TABLE c (k INTEGER PRIMARY KEY, v INTEGER)");
    for (std::int64_t k = 1; k <= 3; ++k) {
        EXPECT_EQ(db_->execute("INSERT INTO c (k, v) VALUES (?, 0)", {k}), 1);
    }
    EXPECT_EQ(db_->execute("UPDATE c SET v = 1 WHERE k >= ?", {std::int64_t{2}}), 2);
    EXPECT_EQ(db_->execute("SELECT * FROM c"), 0);
    EXPECT_EQ(db_->execute("CREATE TABLE c2 (x INTEGER)"), 0);
    EXPECT_EQ(db_->execute("UPDATE c SET v = 2 WHERE k = ?", {std::int64_t{99}}), 0);
    EXPECT_EQ(db_->execute("DELETE FROM c"), 3);
    auto returned =
        db_->query("INSERT INTO c (k, v) VALUES (?, ?) RETURNING k", {std::int64_t{7}, std::int64_t{0}});
    ASSERT_EQ(returned.size(), 1U);
    EXPECT_EQ(returned[0].integer(0), 7);
}

TEST_P(store_backend, the_statement_cache_serves_repeated_and_many_distinct_statements) {
    db_->execute_script("CREATE TABLE s (k INTEGER PRIMARY KEY, v TEXT)");
    // More distinct statements than the default cache holds (64), each repeated.
    for (int round = 0; round < 3; ++round) {
        for (std::int64_t k = 0; k < 100; ++k) {
            const std::string sql = "SELECT ? + " + std::to_string(k);
            EXPECT_EQ(db_->query(sql, {std::int64_t{round}})[0].integer(0), round + k);
        }
    }
    // A schema change after a statement was cached is picked up.
    EXPECT_EQ(db_->query("SELECT COUNT(*) FROM s")[0].integer(0), 0);
    db_->execute_script("DROP TABLE s; CREATE TABLE s (k INTEGER PRIMARY KEY, v TEXT, w TEXT)");
    db_->execute("INSERT INTO s (k, v, w) VALUES (1, 'a', 'b')");
    EXPECT_EQ(db_->query("SELECT COUNT(*) FROM s")[0].integer(0), 1);
}

}  // namespace
}  // namespace tollgate::store::test
