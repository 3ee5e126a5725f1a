// Rough decode/encode throughput of the codec, for the report (not a test, not a benchmark suite).
// Usage: mqtt_codec_speed [iterations]
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>

#include <tollgate/mqtt/mqtt.hpp>

using namespace tollgate::mqtt;

namespace {

// Process CPU time, not wall time: the build machine is shared, and CPU time is what the codec costs.
using cpu_time = std::clock_t;
cpu_time now() {
    return std::clock();
}
double seconds_since(cpu_time start) {
    return static_cast<double>(now() - start) / CLOCKS_PER_SEC;
}

void measure(const char* label, const publish& p, protocol_version v, long iterations) {
    std::vector<std::uint8_t> wire;
    encode(p, v, wire);

    auto start = now();
    std::size_t checksum = 0;
    frame_reader reader(1U << 20);  // one per connection
    for (long i = 0; i < iterations; ++i) {
        reader.feed(wire);
        auto f = std::get<frame>(reader.next());
        auto decoded = decode(v, f);
        checksum += std::get<publish>(std::get<packet>(decoded)).payload.size();
    }
    const double decode_s = seconds_since(start);

    start = now();
    std::vector<std::uint8_t> out;
    for (long i = 0; i < iterations; ++i) {
        out.clear();
        encode_publish_header(p, v, out);
        checksum += out.size();
    }
    const double header_s = seconds_since(start);

    start = now();
    for (long i = 0; i < iterations; ++i) {
        out.clear();
        encode(p, v, out);
        checksum += out.size();
    }
    const double encode_s = seconds_since(start);

    std::printf(
        "%-28s %6zu B  frame+decode %8.0f ns (%7.0f MB/s)  encode %6.0f ns  header-only %5.0f ns  [%zu]\n",
        label, wire.size(), decode_s * 1e9 / static_cast<double>(iterations),
        static_cast<double>(wire.size()) * static_cast<double>(iterations) / decode_s / 1e6,
        encode_s * 1e9 / static_cast<double>(iterations), header_s * 1e9 / static_cast<double>(iterations),
        checksum % 10);
}

}  // namespace

int main(int argc, char** argv) {
    const long iterations = argc > 1 ? std::atol(argv[1]) : 200000;
    publish small{"sensors/building-1/floor-3/temp",
                  tollgate::common::shared_bytes::copy_of(std::string(64, 'x')),
                  1,
                  false,
                  false,
                  42,
                  {}};
    measure("PUBLISH 64 B payload v3.1.1", small, protocol_version::v311, iterations);
    measure("PUBLISH 64 B payload v5", small, protocol_version::v5, iterations);
    publish rich = small;
    rich.properties.message_expiry_interval = 60;
    rich.properties.content_type = "application/json";
    rich.properties.user_properties = {{"trace", "0123456789abcdef"}, {"tenant", "acme"}};
    measure("PUBLISH 64 B + props v5", rich, protocol_version::v5, iterations);
    publish big = small;
    big.payload = tollgate::common::shared_bytes::copy_of(std::string(16384, 'y'));
    measure("PUBLISH 16 KiB payload v5", big, protocol_version::v5, iterations / 4);
    return 0;
}
