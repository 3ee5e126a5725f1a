# The broker's routing structures (subscription trie, shared subscriptions, retained store).
# Included from tests/unit/broker/CMakeLists.txt.
tollgate_unit_test(broker_routing_tests SOURCES ${CMAKE_CURRENT_LIST_DIR}/subscription_index_test.cpp
                   ${CMAKE_CURRENT_LIST_DIR}/retained_store_test.cpp DEPS tollgate::broker)
