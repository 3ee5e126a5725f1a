# Micro-benchmarks of the subscription trie and the retained store (docs/benchmarks.md).
add_executable(routing_bench ${CMAKE_CURRENT_LIST_DIR}/routing_bench.cpp)
target_link_libraries(routing_bench PRIVATE benchmark::benchmark tollgate::broker)
tollgate_warnings(routing_bench)
