# tollgate_library(<name> SOURCES ... DEPS ...): a library under libs/<name> with the target
# tollgate_<name>, alias tollgate::<name>, public include dir libs/<name>/include.
function(tollgate_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(tollgate_${name} STATIC ${ARG_SOURCES})
  add_library(tollgate::${name} ALIAS tollgate_${name})
  target_include_directories(tollgate_${name} PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/include
                                              PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/src)
  target_link_libraries(tollgate_${name} PUBLIC ${ARG_DEPS} PRIVATE ${ARG_PRIVATE_DEPS})
  tollgate_warnings(tollgate_${name})
endfunction()

# tollgate_unit_test(<name> SOURCES ... DEPS ...): a GoogleTest executable registered with ctest
# under the label "unit".
function(tollgate_unit_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;LABELS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gmock GTest::gtest_main)
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/tests/support)
  tollgate_warnings(${name})
  # gtest_discover_tests flattens list-valued PROPERTIES: escape the separators of the label list.
  set(labels unit ${ARG_LABELS})
  string(REPLACE ";" "\\;" labels "${labels}")
  gtest_discover_tests(${name} DISCOVERY_MODE PRE_TEST PROPERTIES LABELS "${labels}")
endfunction()

# tollgate_fuzz_target(<name> SOURCES ... DEPS ... CORPUS dir): a libFuzzer executable, plus a short
# ctest run over its seed corpus (label "fuzz").
function(tollgate_fuzz_target name)
  cmake_parse_arguments(ARG "" "CORPUS;SECONDS" "SOURCES;DEPS" ${ARGN})
  if(NOT ARG_SECONDS)
    set(ARG_SECONDS 20)
  endif()
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS})
  target_link_options(${name} PRIVATE -fsanitize=fuzzer)
  tollgate_warnings(${name})
  set(work ${CMAKE_CURRENT_BINARY_DIR}/${name}-corpus)
  add_test(NAME fuzz.${name}
           COMMAND ${CMAKE_COMMAND} -E env ASAN_OPTIONS=detect_leaks=1
                   ${PROJECT_SOURCE_DIR}/scripts/run-fuzz $<TARGET_FILE:${name}> ${ARG_CORPUS} ${work} ${ARG_SECONDS})
  set_tests_properties(fuzz.${name} PROPERTIES LABELS fuzz TIMEOUT 600)
endfunction()
