// libFuzzer target for the MQTT codec. Input: a selector byte, then a byte stream.
//   selector bit 0: 0 = MQTT 3.1.1, 1 = MQTT 5.0
//   selector bit 1: the first frame goes through decode_connect() (the CONNECT path), which then
//                   fixes the version for the rest of the stream when it succeeds
//   selector bits 2-3: how the stream is fed (whole, byte by byte, 7-byte chunks, 64-byte chunks)
// Properties checked (abort on violation):
//   - framing and decoding never crash, never read out of bounds (ASan), never throw;
//   - decode → encode → decode gives an equal packet, encoded_size() equals the encoding's size, and
//     encode_publish_header() + payload equals encode() for PUBLISH.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>

#include <tollgate/mqtt/mqtt.hpp>

using namespace tollgate::mqtt;

namespace {

[[noreturn]] void fail(const char* what) {
    std::fprintf(stderr, "fuzz_mqtt_codec: %s\n", what);
    std::abort();
}

void check_round_trip(const packet& p, protocol_version v) {
    std::vector<std::uint8_t> wire;
    encode(p, v, wire);
    if (encoded_size(p, v) != wire.size()) {
        fail("encoded_size differs from the encoding");
    }
    if (const auto* pub = std::get_if<publish>(&p)) {
        std::vector<std::uint8_t> split;
        encode_publish_header(*pub, v, split);
        split.insert(split.end(), pub->payload.data(), pub->payload.data() + pub->payload.size());
        if (split != wire) {
            fail("encode_publish_header + payload differs from encode");
        }
    }
    frame_reader reader(268435460U);
    reader.feed(wire);
    auto next = reader.next();
    const auto* f = std::get_if<frame>(&next);
    if (f == nullptr || reader.buffered() != 0) {
        fail("re-encoded packet does not frame as exactly one packet");
    }
    auto again = decode(v, *f);
    const auto* decoded = std::get_if<packet>(&again);
    if (decoded == nullptr) {
        std::fprintf(stderr, "%s\n", std::get<decode_error>(again).message.c_str());
        fail("re-encoded packet does not decode");
    }
    if (!(*decoded == p)) {
        fail("decode -> encode -> decode changed the packet");
    }
}

std::size_t chunk_size(std::uint8_t selector, std::size_t total) {
    switch ((selector >> 2) & 0x03U) {
        case 1:
            return 1;
        case 2:
            return 7;
        case 3:
            return 64;
        default:
            return total == 0 ? 1 : total;
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) {
        return 0;
    }
    const std::uint8_t selector = data[0];
    protocol_version version = (selector & 0x01U) != 0 ? protocol_version::v5 : protocol_version::v311;
    bool expect_connect = (selector & 0x02U) != 0;
    const std::span<const std::uint8_t> stream(data + 1, size - 1);

    frame_reader reader(1U << 20);
    const std::size_t step = chunk_size(selector, stream.size());
    for (std::size_t offset = 0; offset < stream.size(); offset += step) {
        reader.feed(stream.subspan(offset, std::min(step, stream.size() - offset)));
        while (true) {
            auto next = reader.next();
            const auto* f = std::get_if<frame>(&next);
            if (f == nullptr) {
                if (std::holds_alternative<decode_error>(next)) {
                    return 0;
                }
                break;
            }
            if (expect_connect) {
                expect_connect = false;
                auto c = decode_connect(*f);
                if (auto* connected = std::get_if<connect>(&c)) {
                    version = connected->protocol_version;
                    check_round_trip(*connected, version);
                }
                continue;
            }
            auto result = decode(version, *f);
            if (const auto* p = std::get_if<packet>(&result)) {
                check_round_trip(*p, version);
            }
        }
    }
    if (reader.buffered() > stream.size()) {
        fail("reader holds more bytes than it was given");
    }
    return 0;
}
