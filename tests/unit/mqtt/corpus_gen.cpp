// Writes the fuzz seed corpus: one file per sample packet and version, plus a few multi-packet
// streams. File format (tests/fuzz/fuzz_mqtt_codec.cpp): a selector byte (bit 0: 0 = 3.1.1, 1 = 5.0;
// bit 1: the first frame goes through decode_connect, which then sets the version) and the stream.
// Usage: mqtt_corpus_gen <output-dir>
#include <cstdio>
#include <fstream>
#include <string>

#include "test_support.hpp"

using namespace tollgate::mqtt;

namespace {

void write_file(const std::string& path, std::uint8_t selector, const test::bytes& stream) {
    std::ofstream out(path, std::ios::binary);
    out.put(static_cast<char>(selector));
    out.write(reinterpret_cast<const char*>(stream.data()), static_cast<std::streamsize>(stream.size()));
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s <output-dir>\n", argv[0]);
        return 2;
    }
    const std::string dir = argv[1];
    int files = 0;
    for (const auto v : {protocol_version::v311, protocol_version::v5}) {
        const std::string tag = v == protocol_version::v5 ? "v5" : "v311";
        const auto selector = static_cast<std::uint8_t>(v == protocol_version::v5 ? 1 : 0);
        int index = 0;
        test::bytes session;
        for (const packet& p : test::sample_packets(v)) {
            const test::bytes wire = test::encode_bytes(p, v);
            const bool is_connect = std::holds_alternative<connect>(p);
            const std::string name =
                dir + "/" + tag + "-" + std::to_string(index++) + "-" + std::string(to_string(type_of(p)));
            write_file(name, static_cast<std::uint8_t>(selector | (is_connect ? 2 : 0)), wire);
            ++files;
            if (!is_connect || session.empty()) {
                session.insert(session.end(), wire.begin(), wire.end());
            }
        }
        // A whole session in one stream: CONNECT first, then every other packet.
        write_file(dir + "/" + tag + "-session", static_cast<std::uint8_t>(selector | 2), session);
        ++files;
    }
    std::printf("wrote %d files to %s\n", files, dir.c_str());
    return 0;
}
