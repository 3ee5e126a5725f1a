# MQTT codec fuzz targets (owned with libs/mqtt).
# fuzz_mqtt_codec: framing + decode, decode -> encode -> decode round trip. Seeds: corpus/mqtt_codec,
# written by mqtt_corpus_gen (tests/unit/mqtt) plus a few hand-made hostile streams.
tollgate_fuzz_target(fuzz_mqtt_codec SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/fuzz_mqtt_codec.cpp DEPS tollgate::mqtt
                     CORPUS ${CMAKE_CURRENT_SOURCE_DIR}/corpus/mqtt_codec SECONDS 30)
# fuzz_mqtt_topic: UTF-8 rules against a reference decoder, topic name/filter/matching invariants.
tollgate_fuzz_target(fuzz_mqtt_topic SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/fuzz_mqtt_topic.cpp DEPS tollgate::mqtt
                     CORPUS ${CMAKE_CURRENT_SOURCE_DIR}/corpus/mqtt_topic SECONDS 20)
