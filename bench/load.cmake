# Load generators and helpers that drive a running server from outside (scripts/run-bench,
# bench/*.sh). Included by bench/CMakeLists.txt.
#   mqtt_load     MQTT publish/subscribe loads (tollgate vs Mosquitto; with tokens: authz on vs off)
#   connect_load  CONNECT + token authentication per second, cold or cached tokens
#   token_mint    pre-minted access tokens + their public JWKS for connect_load / mqtt_load
#   http_load     keep-alive HTTP/1.1 closed-loop load (token endpoint: tollgate vs oidc-provider)
#   bench_support what they share besides the MQTT client (bench_support.hpp); mqtt_connection.hpp
#                 is the MQTT client of mqtt_load and connect_load
add_library(bench_support STATIC ${CMAKE_CURRENT_LIST_DIR}/bench_support.cpp)
tollgate_warnings(bench_support)
add_executable(mqtt_load ${CMAKE_CURRENT_LIST_DIR}/mqtt_load.cpp)
target_link_libraries(mqtt_load PRIVATE bench_support tollgate::mqtt tollgate_boost)
tollgate_warnings(mqtt_load)
add_executable(connect_load ${CMAKE_CURRENT_LIST_DIR}/connect_load.cpp)
target_link_libraries(connect_load PRIVATE bench_support tollgate::mqtt tollgate_boost)
tollgate_warnings(connect_load)
add_executable(token_mint ${CMAKE_CURRENT_LIST_DIR}/token_mint.cpp)
target_link_libraries(token_mint PRIVATE bench_support tollgate::jose tollgate::common Boost::json)
tollgate_warnings(token_mint)
add_executable(http_load ${CMAKE_CURRENT_LIST_DIR}/http_load.cpp)
target_link_libraries(http_load PRIVATE bench_support tollgate_boost)
tollgate_warnings(http_load)
# g++ 12 reports a false mismatched-new-delete on Asio's coroutine frames (its awaitable frame
# allocator pairs operator new/delete correctly).
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  target_compile_options(mqtt_load PRIVATE -Wno-mismatched-new-delete)
  target_compile_options(connect_load PRIVATE -Wno-mismatched-new-delete)
  target_compile_options(http_load PRIVATE -Wno-mismatched-new-delete)
endif()
