#include "backend_fixture.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdlib.h>

#include <tollgate/common/secret.hpp>

namespace tollgate::store::test {

void store_backend::SetUp() {
    if (GetParam() == dialect::sqlite) {
        std::string templ = (std::filesystem::temp_directory_path() / "tollgate-store-XXXXXX").string();
        ASSERT_NE(mkdtemp(templ.data()), nullptr);
        dir_ = templ;
        url_ = "sqlite:" + dir_ + "/test.db";
    } else {
        std::string base = postgres_base_url();
        ASSERT_FALSE(base.empty());
        admin_ = open(base);
        schema_ = "t_" + common::to_hex(common::random_bytes(6));
        admin_->execute_script("CREATE SCHEMA " + schema_);
        url_ =
            base + (base.find('?') == std::string::npos ? "?" : "&") + "options=-csearch_path%3D" + schema_;
    }
    db_ = open(url_);
}

void store_backend::TearDown() {
    db_.reset();
    if (admin_) {
        admin_->execute_script("DROP SCHEMA " + schema_ + " CASCADE");
    }
    if (!dir_.empty()) {
        std::filesystem::remove_all(dir_);
    }
}

INSTANTIATE_TEST_SUITE_P(backend, store_backend, ::testing::Values(dialect::sqlite, dialect::postgres),
                         [](const ::testing::TestParamInfo<dialect>& param_info) {
                             return std::string(param_info.param == dialect::sqlite ? "sqlite" : "postgres");
                         });

}  // namespace tollgate::store::test
