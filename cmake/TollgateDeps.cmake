# Every external dependency is a Debian 12 package (scripts/install-deps).
find_package(Threads REQUIRED)
find_package(OpenSSL 3 REQUIRED)
# CMake 3.25's FindBoost predates Boost 1.81 and would warn on every configure that it may miss
# component dependencies (json and url need none beyond what is linked; the build proves it).
set(Boost_NO_WARN_NEW_VERSIONS ON)
find_package(Boost 1.81 EXACT REQUIRED COMPONENTS json url)
find_package(fmt REQUIRED)
find_package(spdlog REQUIRED)
find_package(SQLite3 REQUIRED)
find_package(PostgreSQL REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(TOMLPP REQUIRED IMPORTED_TARGET tomlplusplus)
pkg_check_modules(ARGON2 REQUIRED IMPORTED_TARGET libargon2)
find_package(CLI11 CONFIG REQUIRED)
find_library(LDAP_LIBRARY ldap REQUIRED)
find_library(LBER_LIBRARY lber REQUIRED)
if(TOLLGATE_TESTS)
  find_package(GTest REQUIRED)
endif()
if(TOLLGATE_BENCH)
  find_package(benchmark REQUIRED)
endif()
# Boost.Asio/Beast: C++20 coroutines, no deprecated names, standalone error codes.
add_library(tollgate_boost INTERFACE)
target_link_libraries(tollgate_boost INTERFACE Boost::headers Threads::Threads)
target_compile_definitions(tollgate_boost INTERFACE BOOST_ASIO_NO_DEPRECATED BOOST_BEAST_USE_STD_STRING_VIEW
                                                    BOOST_ASIO_DISABLE_BOOST_COROUTINE)
