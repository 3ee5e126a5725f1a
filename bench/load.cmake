# mqtt_load: the load generator scripts/run-bench uses against tollgate and Mosquitto alike.
add_executable(mqtt_load ${CMAKE_CURRENT_SOURCE_DIR}/mqtt_load.cpp)
target_link_libraries(mqtt_load PRIVATE tollgate::mqtt tollgate_boost)
tollgate_warnings(mqtt_load)
# g++ 12 reports a false mismatched-new-delete on Asio's coroutine frames (its awaitable frame
# allocator pairs operator new/delete correctly).
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  target_compile_options(mqtt_load PRIVATE -Wno-mismatched-new-delete)
endif()
