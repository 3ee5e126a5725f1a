# jose_bench: full JWT verification per algorithm (libs/jose). Included by bench/CMakeLists.txt.
add_executable(jose_bench ${CMAKE_CURRENT_LIST_DIR}/jose_bench.cpp)
target_link_libraries(jose_bench PRIVATE benchmark::benchmark tollgate::jose)
tollgate_warnings(jose_bench)
