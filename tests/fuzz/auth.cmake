# libFuzzer targets for libs/auth (included by tests/fuzz/CMakeLists.txt in the fuzz build).
# fuzz_auth_scope: the scope grammar, placeholder substitution and filter coverage invariants.
tollgate_fuzz_target(fuzz_auth_scope
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/fuzz_auth_scope.cpp
  DEPS tollgate::auth
  CORPUS ${CMAKE_CURRENT_LIST_DIR}/corpus/auth_scope
  SECONDS 20)
# fuzz_auth_policy: policy rules (compile, filters_overlap soundness and symmetry, deny precedence).
tollgate_fuzz_target(fuzz_auth_policy
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/fuzz_auth_policy.cpp
  DEPS tollgate::auth
  CORPUS ${CMAKE_CURRENT_LIST_DIR}/corpus/auth_policy
  SECONDS 20)
# fuzz_auth_responses: introspection responses (RFC 7662) and issuer metadata (RFC 8414).
tollgate_fuzz_target(fuzz_auth_responses
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/fuzz_auth_responses.cpp
  DEPS tollgate::auth
  CORPUS ${CMAKE_CURRENT_LIST_DIR}/corpus/auth_responses
  SECONDS 20)
# fuzz_auth_text: the structured permissions claim, LDAP escaping and rule values, audit records.
tollgate_fuzz_target(fuzz_auth_text
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/fuzz_auth_text.cpp
  DEPS tollgate::auth
  CORPUS ${CMAKE_CURRENT_LIST_DIR}/corpus/auth_text
  SECONDS 20)
