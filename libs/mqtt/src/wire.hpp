#pragma once
// Internal: bounded reading and counting/appending writing of MQTT data types (§1.5).
// A reader reads from a frame body between two positions; every read checks the bound first and, on
// failure, records the first error in a slot shared with its sub-readers and returns false.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <tollgate/common/bytes.hpp>
#include <tollgate/mqtt/frame_reader.hpp>

namespace tollgate::mqtt::detail {

constexpr std::uint32_t max_vbi = 268435455U;

class reader {
  public:
    reader(const common::shared_bytes& buffer, std::optional<decode_error>& error)
        : buffer_(&buffer), pos_(0), end_(buffer.size()), error_(&error) {}

    [[nodiscard]] std::size_t remaining() const noexcept { return end_ - pos_; }
    [[nodiscard]] bool at_end() const noexcept { return pos_ == end_; }

    /// Records `code` (the first error wins) and returns false.
    bool fail(reason_code code, std::string_view message);

    bool u8(std::uint8_t& out);
    bool u16(std::uint16_t& out);
    bool u32(std::uint32_t& out);
    /// Variable Byte Integer: at most 4 bytes, minimal [MQTT-1.5.5-1]; malformed otherwise.
    bool vbi(std::uint32_t& out);
    /// A UTF-8 Encoded String checked with is_valid_utf8_string() [MQTT-1.5.4-1] [MQTT-1.5.4-2].
    bool utf8(std::string& out);
    /// Two-byte length then bytes, without UTF-8 checks (protocol name).
    bool raw_string(std::string_view& out);
    /// Binary Data: a slice of the frame body, no copy.
    bool binary(common::shared_bytes& out);
    /// The rest of this reader's range as a slice.
    common::shared_bytes rest();
    /// A reader over the next `length` bytes (malformed when past the end); this one skips them.
    bool sub(std::size_t length, std::optional<reader>& out);

  private:
    reader(const common::shared_bytes* buffer, std::size_t pos, std::size_t end,
           std::optional<decode_error>* e)
        : buffer_(buffer), pos_(pos), end_(end), error_(e) {}
    bool need(std::size_t n);

    const common::shared_bytes* buffer_;
    std::size_t pos_;
    std::size_t end_;
    std::optional<decode_error>* error_;
};

/// Appends to a vector, or only counts when constructed without one.
class writer {
  public:
    writer() = default;
    explicit writer(std::vector<std::uint8_t>& out) : out_(&out) {}

    [[nodiscard]] std::size_t count() const noexcept { return count_; }

    void u8(std::uint8_t v) {
        ++count_;
        if (out_ != nullptr) {
            out_->push_back(v);
        }
    }
    void u16(std::uint16_t v) {
        const std::uint8_t b[2] = {static_cast<std::uint8_t>(v >> 8), static_cast<std::uint8_t>(v & 0xFFU)};
        bytes(b);
    }
    void u32(std::uint32_t v) {
        const std::uint8_t b[4] = {
            static_cast<std::uint8_t>(v >> 24), static_cast<std::uint8_t>((v >> 16) & 0xFFU),
            static_cast<std::uint8_t>((v >> 8) & 0xFFU), static_cast<std::uint8_t>(v & 0xFFU)};
        bytes(b);
    }
    void vbi(std::uint32_t v);
    void bytes(std::span<const std::uint8_t> b) {
        count_ += b.size();
        if (out_ != nullptr) {
            out_->insert(out_->end(), b.begin(), b.end());
        }
    }
    /// Two-byte length prefix then the bytes.
    void string(std::string_view s);
    void binary(std::span<const std::uint8_t> b);

  private:
    std::vector<std::uint8_t>* out_ = nullptr;
    std::size_t count_ = 0;
};

/// Size of a Variable Byte Integer encoding of v.
std::size_t vbi_size(std::uint32_t v) noexcept;

}  // namespace tollgate::mqtt::detail
