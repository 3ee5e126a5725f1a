#include <algorithm>
#include <utility>

#include <tollgate/mqtt/frame_reader.hpp>

namespace tollgate::mqtt {

namespace {

/// 1 byte of packet type and flags, 4 bytes of remaining length 268435455.
constexpr std::uint32_t protocol_max_packet_size = 268435455U + 5U;

std::uint32_t clamp_max(std::uint32_t value) noexcept {
    return std::clamp<std::uint32_t>(value, 2U, protocol_max_packet_size);
}

}  // namespace

frame_reader::frame_reader(std::uint32_t max_packet_size) : max_packet_size_(clamp_max(max_packet_size)) {}

void frame_reader::set_max_packet_size(std::uint32_t max_packet_size) {
    max_packet_size_ = clamp_max(max_packet_size);
}

void frame_reader::fail(reason_code code, std::string message) {
    error_ = decode_error{code, std::move(message)};
    body_ = {};
}

void frame_reader::feed(std::span<const std::uint8_t> bytes) {
    std::size_t i = 0;
    while (i < bytes.size() && !error_) {
        if (!header_done_) {
            i += consume_header_byte(bytes[i]);
        } else {
            i += consume_body(bytes.subspan(i));
        }
    }
}

std::size_t frame_reader::consume_header_byte(std::uint8_t byte) {
    header_[header_len_++] = byte;
    if (header_len_ == 1) {
        if ((byte >> 4) == 0) {
            fail(reason_code::malformed_packet, "reserved control packet type 0");
        }
        return 1;
    }
    const std::size_t length_bytes = header_len_ - 1;
    if ((byte & 0x80U) != 0) {
        if (length_bytes == 4) {
            fail(reason_code::malformed_packet, "remaining length longer than 4 bytes");
        }
        return 1;
    }
    if (length_bytes > 1 && byte == 0) {
        fail(reason_code::malformed_packet, "remaining length not minimally encoded [MQTT-1.5.5-1]");
        return 1;
    }
    std::size_t value = 0;
    for (std::size_t k = length_bytes; k > 0; --k) {
        value = (value << 7) | (header_[k] & 0x7FU);
    }
    if (header_len_ + value > max_packet_size_) {
        fail(reason_code::packet_too_large, "packet larger than the maximum packet size");
        return 1;
    }
    header_done_ = true;
    remaining_ = value;
    if (remaining_ == 0) {
        finish_frame();
    }
    return 1;
}

std::size_t frame_reader::consume_body(std::span<const std::uint8_t> bytes) {
    const std::size_t take = std::min(remaining_ - body_.size(), bytes.size());
    const std::size_t needed = body_.size() + take;
    if (body_.capacity() < needed) {
        // Grow with what has arrived (doubling, for amortised appends) but never past the declared
        // length, and never reserve for bytes that have not arrived.
        body_.reserve(std::min(remaining_, std::max(needed, body_.capacity() * 2)));
    }
    body_.insert(body_.end(), bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(take));
    if (body_.size() == remaining_) {
        finish_frame();
    }
    return take;
}

void frame_reader::finish_frame() {
    frame f;
    f.first_byte = header_[0];
    f.total_size = header_len_ + remaining_;
    f.body = common::shared_bytes(std::exchange(body_, {}));
    ready_bytes_ += f.total_size;
    ready_.push_back(std::move(f));
    header_len_ = 0;
    header_done_ = false;
    remaining_ = 0;
}

std::variant<std::monostate, frame, decode_error> frame_reader::next() {
    if (!ready_.empty()) {
        frame f = std::move(ready_.front());
        ready_.pop_front();
        ready_bytes_ -= f.total_size;
        return f;
    }
    if (error_) {
        return *error_;
    }
    return std::monostate{};
}

std::size_t frame_reader::buffered() const noexcept {
    return header_len_ + body_.size() + ready_bytes_;
}

std::size_t frame_reader::memory_held() const noexcept {
    return sizeof(header_) + body_.capacity() + ready_bytes_;
}

}  // namespace tollgate::mqtt
