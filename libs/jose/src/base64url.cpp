#include <array>

#include <tollgate/jose/base64url.hpp>

namespace tollgate::jose {
namespace {

constexpr std::string_view alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

constexpr std::array<std::int8_t, 256> make_table() {
    std::array<std::int8_t, 256> t{};
    for (auto& v : t) {
        v = -1;
    }
    for (std::size_t i = 0; i < alphabet.size(); ++i) {
        t[static_cast<unsigned char>(alphabet[i])] = static_cast<std::int8_t>(i);
    }
    return t;
}

constexpr std::array<std::int8_t, 256> table = make_table();

template <class Out>
bool decode_into(std::string_view text, Out& out) {
    const std::size_t n = text.size();
    if (n % 4 == 1) {
        return false;
    }
    const std::size_t start = out.size();
    const std::size_t full = n / 4;
    const std::size_t rest = n % 4;  // 0, 2 or 3 characters -> 0, 1 or 2 bytes
    out.resize(start + full * 3 + (rest == 0 ? 0 : rest - 1));
    auto* dst = out.data() + start;
    const auto* src = reinterpret_cast<const unsigned char*>(text.data());
    using byte_t = typename Out::value_type;
    for (std::size_t i = 0; i < full; ++i, src += 4, dst += 3) {
        const std::int32_t a = table[src[0]];
        const std::int32_t b = table[src[1]];
        const std::int32_t c = table[src[2]];
        const std::int32_t d = table[src[3]];
        if ((a | b | c | d) < 0) {
            out.resize(start);
            return false;
        }
        const auto v = static_cast<std::uint32_t>((a << 18) | (b << 12) | (c << 6) | d);
        dst[0] = static_cast<byte_t>(v >> 16);
        dst[1] = static_cast<byte_t>((v >> 8) & 0xFF);
        dst[2] = static_cast<byte_t>(v & 0xFF);
    }
    if (rest != 0) {
        const std::int32_t a = table[src[0]];
        const std::int32_t b = table[src[1]];
        const std::int32_t c = rest == 3 ? table[src[2]] : 0;
        // Unused low bits of the last character must be zero (canonical encoding, RFC 4648 §3.5).
        const bool canonical = rest == 2 ? (b & 0x0F) == 0 : (c & 0x03) == 0;
        if ((a | b | c) < 0 || !canonical) {
            out.resize(start);
            return false;
        }
        const auto v = static_cast<std::uint32_t>((a << 18) | (b << 12) | (c << 6));
        dst[0] = static_cast<byte_t>(v >> 16);
        if (rest == 3) {
            dst[1] = static_cast<byte_t>((v >> 8) & 0xFF);
        }
    }
    return true;
}

template <class In>
std::string encode(const In* data, std::size_t size) {
    std::string out;
    out.reserve((size + 2) / 3 * 4);
    std::size_t i = 0;
    for (; i + 3 <= size; i += 3) {
        const std::uint32_t v = (static_cast<std::uint32_t>(static_cast<std::uint8_t>(data[i])) << 16) |
                                (static_cast<std::uint32_t>(static_cast<std::uint8_t>(data[i + 1])) << 8) |
                                static_cast<std::uint32_t>(static_cast<std::uint8_t>(data[i + 2]));
        out.push_back(alphabet[(v >> 18) & 63]);
        out.push_back(alphabet[(v >> 12) & 63]);
        out.push_back(alphabet[(v >> 6) & 63]);
        out.push_back(alphabet[v & 63]);
    }
    const std::size_t rest = size - i;
    if (rest == 1) {
        const std::uint32_t v = static_cast<std::uint32_t>(static_cast<std::uint8_t>(data[i])) << 16;
        out.push_back(alphabet[(v >> 18) & 63]);
        out.push_back(alphabet[(v >> 12) & 63]);
    } else if (rest == 2) {
        const std::uint32_t v = (static_cast<std::uint32_t>(static_cast<std::uint8_t>(data[i])) << 16) |
                                (static_cast<std::uint32_t>(static_cast<std::uint8_t>(data[i + 1])) << 8);
        out.push_back(alphabet[(v >> 18) & 63]);
        out.push_back(alphabet[(v >> 12) & 63]);
        out.push_back(alphabet[(v >> 6) & 63]);
    }
    return out;
}

}  // namespace

std::string base64url_encode(std::span<const std::uint8_t> data) {
    return encode(data.data(), data.size());
}

std::string base64url_encode(std::string_view data) {
    return encode(data.data(), data.size());
}

result<std::vector<std::uint8_t>> base64url_decode(std::string_view text) {
    std::vector<std::uint8_t> out;
    if (!decode_into(text, out)) {
        return errc::bad_base64;
    }
    return out;
}

result<std::string> base64url_decode_string(std::string_view text) {
    std::string out;
    if (!decode_into(text, out)) {
        return errc::bad_base64;
    }
    return out;
}

bool base64url_decode_append(std::string_view text, std::string& out) {
    return decode_into(text, out);
}

}  // namespace tollgate::jose
