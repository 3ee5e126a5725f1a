# oauth_bench: token endpoint throughput (libs/oauth), in process, no HTTP: client_credentials
# requests through authorization_server::handle() (client authentication, JWT signing, jti insert)
# on SQLite in a temporary data directory. Included by bench/CMakeLists.txt.
add_executable(oauth_bench ${CMAKE_CURRENT_LIST_DIR}/oauth_bench.cpp)
target_link_libraries(oauth_bench PRIVATE benchmark::benchmark tollgate::oauth tollgate::common)
tollgate_warnings(oauth_bench)
