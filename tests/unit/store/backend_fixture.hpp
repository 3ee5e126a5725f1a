#pragma once
// The fixture of the one backend-parameterised suite: every TEST_P(store_backend, ...) runs on
// SQLite (a fresh file in a temporary directory) and on PostgreSQL (a fresh schema in the server
// that the ctest fixture `postgres` started; its URL is in the file named by
// $TOLLGATE_TEST_PG_URL_FILE). Without that file the PostgreSQL instances FAIL, never skip.
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include <tollgate/store/store.hpp>

namespace tollgate::store::test {

class store_backend : public ::testing::TestWithParam<dialect> {
  protected:
    void SetUp() override;
    void TearDown() override;

    /// URL of this test's private database (SQLite file or PostgreSQL schema).
    const std::string& url() const { return url_; }
    /// A second connection to the same database.
    std::unique_ptr<database> reopen() const { return open(url_); }
    bool pg() const { return GetParam() == dialect::postgres; }
    /// Column type for bytes: BLOB or BYTEA.
    const char* blob_type() const { return pg() ? "BYTEA" : "BLOB"; }

    std::unique_ptr<database> db_;

  private:
    std::string url_;
    std::string dir_;                  // SQLite
    std::string schema_;               // PostgreSQL
    std::unique_ptr<database> admin_;  // PostgreSQL: creates and drops the schema
};

/// The URL of the PostgreSQL test server; empty (with a test failure recorded) if missing.
std::string postgres_base_url();

}  // namespace tollgate::store::test
