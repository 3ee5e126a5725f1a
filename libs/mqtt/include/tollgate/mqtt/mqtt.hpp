#pragma once
// The whole MQTT codec: packets, properties, reason codes, framing, decode/encode, topic rules.
#include <tollgate/mqtt/codec.hpp>
#include <tollgate/mqtt/frame_reader.hpp>
#include <tollgate/mqtt/packets.hpp>
#include <tollgate/mqtt/properties.hpp>
#include <tollgate/mqtt/reason_code.hpp>
#include <tollgate/mqtt/topic.hpp>
