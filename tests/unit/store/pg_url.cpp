// The URL of the PostgreSQL test server (tests/support/postgres.cmake), shared by every test target
// that runs against it (store_tests, policy_tests). Declared in backend_fixture.hpp.
#include <cstdlib>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

namespace tollgate::store::test {

std::string postgres_base_url() {
    const char* file = std::getenv("TOLLGATE_TEST_PG_URL_FILE");
    if (file == nullptr || *file == '\0') {
        ADD_FAILURE() << "PostgreSQL fixture missing: TOLLGATE_TEST_PG_URL_FILE is not set "
                         "(run through ctest, which starts tests/support/pg-server)";
        return {};
    }
    std::ifstream in(file);
    std::string url;
    std::getline(in, url);
    if (url.empty()) {
        ADD_FAILURE() << "PostgreSQL fixture missing: no URL in " << file;
    }
    return url;
}

}  // namespace tollgate::store::test
