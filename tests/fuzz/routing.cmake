# Fuzz target for the broker's routing structures (subscription trie, retained store).
tollgate_fuzz_target(fuzz_topic_tree SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/fuzz_topic_tree.cpp DEPS tollgate::broker
                     CORPUS ${CMAKE_CURRENT_SOURCE_DIR}/corpus/topic_tree SECONDS 20)
