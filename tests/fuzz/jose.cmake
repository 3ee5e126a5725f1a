# libFuzzer targets for libs/jose (included by tests/fuzz/CMakeLists.txt in the fuzz build).
tollgate_fuzz_target(fuzz_jose_jws
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/fuzz_jose_jws.cpp
  DEPS tollgate::jose
  CORPUS ${CMAKE_CURRENT_LIST_DIR}/corpus/jose_jws
  SECONDS 20)
tollgate_fuzz_target(fuzz_jose_jwks
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/fuzz_jose_jwks.cpp
  DEPS tollgate::jose
  CORPUS ${CMAKE_CURRENT_LIST_DIR}/corpus/jose_jwks
  SECONDS 20)
