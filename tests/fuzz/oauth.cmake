# libFuzzer targets for the authorization server's parsers of untrusted input.
if(TARGET tollgate::oauth)
  tollgate_fuzz_target(fuzz_oauth_form SOURCES ${CMAKE_CURRENT_LIST_DIR}/fuzz_oauth_form.cpp
                       DEPS tollgate::oauth CORPUS ${CMAKE_CURRENT_LIST_DIR}/corpus/oauth_form)
  tollgate_fuzz_target(fuzz_oauth_basic SOURCES ${CMAKE_CURRENT_LIST_DIR}/fuzz_oauth_basic.cpp
                       DEPS tollgate::oauth CORPUS ${CMAKE_CURRENT_LIST_DIR}/corpus/oauth_basic)
  tollgate_fuzz_target(fuzz_oauth_params SOURCES ${CMAKE_CURRENT_LIST_DIR}/fuzz_oauth_params.cpp
                       DEPS tollgate::oauth CORPUS ${CMAKE_CURRENT_LIST_DIR}/corpus/oauth_params)
endif()
