#include "wire.hpp"

#include <algorithm>

#include <tollgate/mqtt/topic.hpp>

namespace tollgate::mqtt::detail {

bool reader::fail(reason_code code, std::string_view message) {
    if (!*error_) {
        *error_ = decode_error{code, std::string(message)};
    }
    return false;
}

bool reader::need(std::size_t n) {
    if (remaining() < n) {
        return fail(reason_code::malformed_packet, "field extends past the end of the packet");
    }
    return true;
}

bool reader::u8(std::uint8_t& out) {
    if (!need(1)) {
        return false;
    }
    out = buffer_->data()[pos_++];
    return true;
}

bool reader::u16(std::uint16_t& out) {
    if (!need(2)) {
        return false;
    }
    const std::uint8_t* p = buffer_->data() + pos_;
    out = static_cast<std::uint16_t>((p[0] << 8) | p[1]);
    pos_ += 2;
    return true;
}

bool reader::u32(std::uint32_t& out) {
    if (!need(4)) {
        return false;
    }
    const std::uint8_t* p = buffer_->data() + pos_;
    out = (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
    pos_ += 4;
    return true;
}

bool reader::vbi(std::uint32_t& out) {
    std::uint32_t value = 0;
    for (int i = 0; i < 4; ++i) {
        std::uint8_t b = 0;
        if (!u8(b)) {
            return false;
        }
        value |= std::uint32_t{b & 0x7FU} << (7 * i);
        if ((b & 0x80U) == 0) {
            if (i > 0 && b == 0) {
                return fail(reason_code::malformed_packet,
                            "variable byte integer not minimally encoded [MQTT-1.5.5-1]");
            }
            out = value;
            return true;
        }
    }
    return fail(reason_code::malformed_packet, "variable byte integer longer than 4 bytes");
}

bool reader::raw_string(std::string_view& out) {
    std::uint16_t length = 0;
    if (!u16(length) || !need(length)) {
        return false;
    }
    // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast): bytes viewed as chars
    out = std::string_view(reinterpret_cast<const char*>(buffer_->data() + pos_), length);
    pos_ += length;
    return true;
}

bool reader::utf8(std::string& out) {
    std::string_view view;
    if (!raw_string(view)) {
        return false;
    }
    if (!is_valid_utf8_string(view)) {
        return fail(reason_code::malformed_packet, "invalid UTF-8 string [MQTT-1.5.4-1] [MQTT-1.5.4-2]");
    }
    out.assign(view);
    return true;
}

bool reader::binary(common::shared_bytes& out) {
    std::uint16_t length = 0;
    if (!u16(length) || !need(length)) {
        return false;
    }
    out = buffer_->slice(pos_, length);
    pos_ += length;
    return true;
}

common::shared_bytes reader::rest() {
    common::shared_bytes out = buffer_->slice(pos_, end_ - pos_);
    pos_ = end_;
    return out;
}

bool reader::sub(std::size_t length, std::optional<reader>& out) {
    if (!need(length)) {
        return false;
    }
    out.emplace(reader(buffer_, pos_, pos_ + length, error_));
    pos_ += length;
    return true;
}

void writer::vbi(std::uint32_t v) {
    do {
        auto b = static_cast<std::uint8_t>(v & 0x7FU);
        v >>= 7;
        if (v != 0) {
            b |= 0x80U;
        }
        u8(b);
    } while (v != 0);
}

void writer::string(std::string_view s) {
    // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast): chars viewed as bytes
    binary({reinterpret_cast<const std::uint8_t*>(s.data()), s.size()});
}

void writer::binary(std::span<const std::uint8_t> b) {
    // Longer fields violate the encoder's precondition; truncating keeps the bytes well-formed.
    const std::size_t length = std::min<std::size_t>(b.size(), 65535);
    u16(static_cast<std::uint16_t>(length));
    bytes(b.first(length));
}

std::size_t vbi_size(std::uint32_t v) noexcept {
    if (v < 128U) {
        return 1;
    }
    if (v < 16384U) {
        return 2;
    }
    if (v < 2097152U) {
        return 3;
    }
    return 4;
}

}  // namespace tollgate::mqtt::detail
