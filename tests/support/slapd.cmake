# A real OpenLDAP server (slapd) as a ctest fixture (tests/support/slapd-server).
#
#   include(${PROJECT_SOURCE_DIR}/tests/support/slapd.cmake)
#   tollgate_requires_slapd(<test>...)   # or set the two properties below by hand:
#     FIXTURES_REQUIRED slapd
#     ENVIRONMENT TOLLGATE_TEST_LDAP_DIR=${TOLLGATE_SLAPD_TEST_DIR}
#   (with gtest_discover_tests, pass both in its PROPERTIES.)
#
# The test reads, from the directory named by $TOLLGATE_TEST_LDAP_DIR: `url` (ldap://127.0.0.1:<port>,
# StartTLS available), `url-ldaps` and `ca.pem`. Credentials are fixed (see slapd-server): root DN
# cn=admin,dc=tollgate,dc=test / admin-test-secret, service account
# cn=tollgate,ou=services,dc=tollgate,dc=test / tollgate-test-secret. The server runs in
# ${CMAKE_BINARY_DIR}/slapd-test from the slapd.start test to the slapd.stop test.

# Set on every include (before the guard), so each including directory sees the variable.
set(TOLLGATE_SLAPD_TEST_DIR ${CMAKE_BINARY_DIR}/slapd-test)

# The fixture tests and the helper are defined once per build.
include_guard(GLOBAL)

add_test(NAME slapd.start COMMAND ${PROJECT_SOURCE_DIR}/tests/support/slapd-server start ${TOLLGATE_SLAPD_TEST_DIR})
set_tests_properties(slapd.start PROPERTIES FIXTURES_SETUP slapd LABELS "slapd" TIMEOUT 120)
add_test(NAME slapd.stop COMMAND ${PROJECT_SOURCE_DIR}/tests/support/slapd-server stop ${TOLLGATE_SLAPD_TEST_DIR})
set_tests_properties(slapd.stop PROPERTIES FIXTURES_CLEANUP slapd LABELS "slapd" TIMEOUT 60)

function(tollgate_requires_slapd)
  set_tests_properties(${ARGN} PROPERTIES FIXTURES_REQUIRED slapd
                       ENVIRONMENT_MODIFICATION "TOLLGATE_TEST_LDAP_DIR=set:${TOLLGATE_SLAPD_TEST_DIR}")
endfunction()
