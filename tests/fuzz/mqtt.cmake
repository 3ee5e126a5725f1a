# MQTT codec fuzz target (owned with libs/mqtt). Seeds: corpus/mqtt_codec, written by mqtt_corpus_gen.
tollgate_fuzz_target(fuzz_mqtt_codec SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/fuzz_mqtt_codec.cpp DEPS tollgate::mqtt
                     CORPUS ${CMAKE_CURRENT_SOURCE_DIR}/corpus/mqtt_codec SECONDS 30)
