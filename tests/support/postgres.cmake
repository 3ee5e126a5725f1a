# A real PostgreSQL server as a ctest fixture (tests/support/pg-server).
#
#   include(${PROJECT_SOURCE_DIR}/tests/support/postgres.cmake)
#   tollgate_requires_postgres(<test>...)   # or set the two properties below by hand:
#     FIXTURES_REQUIRED postgres
#     ENVIRONMENT TOLLGATE_TEST_PG_URL_FILE=${TOLLGATE_PG_URL_FILE}
#   (with gtest_discover_tests, pass both in its PROPERTIES; tests/unit/store does.)
#
# The test then reads the connection URL (postgresql://tollgate@127.0.0.1:<port>/tollgate_test,
# trust auth) from the file named by $TOLLGATE_TEST_PG_URL_FILE. The server runs in
# ${CMAKE_BINARY_DIR}/pg-test from the postgres.start test to the postgres.stop test.

# Set on every include (before the guard), so each including directory sees the variables.
set(TOLLGATE_PG_TEST_DIR ${CMAKE_BINARY_DIR}/pg-test)
set(TOLLGATE_PG_URL_FILE ${TOLLGATE_PG_TEST_DIR}/url)

# The fixture tests and the helper are defined once per build.
include_guard(GLOBAL)

add_test(NAME postgres.start COMMAND ${PROJECT_SOURCE_DIR}/tests/support/pg-server start ${TOLLGATE_PG_TEST_DIR})
set_tests_properties(postgres.start PROPERTIES FIXTURES_SETUP postgres LABELS "postgres" TIMEOUT 180)
add_test(NAME postgres.stop COMMAND ${PROJECT_SOURCE_DIR}/tests/support/pg-server stop ${TOLLGATE_PG_TEST_DIR})
set_tests_properties(postgres.stop PROPERTIES FIXTURES_CLEANUP postgres LABELS "postgres" TIMEOUT 120)

function(tollgate_requires_postgres)
  set_tests_properties(${ARGN} PROPERTIES FIXTURES_REQUIRED postgres
                       ENVIRONMENT_MODIFICATION "TOLLGATE_TEST_PG_URL_FILE=set:${TOLLGATE_PG_URL_FILE}")
endfunction()
