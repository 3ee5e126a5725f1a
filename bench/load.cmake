# mqtt_load: the load generator scripts/run-bench uses against tollgate and Mosquitto alike.
add_executable(mqtt_load ${CMAKE_CURRENT_SOURCE_DIR}/mqtt_load.cpp)
target_link_libraries(mqtt_load PRIVATE tollgate::mqtt tollgate_boost)
tollgate_warnings(mqtt_load)
