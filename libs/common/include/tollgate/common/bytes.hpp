#pragma once
// Immutable, reference-counted byte buffers. A PUBLISH payload or an encoded packet is built once
// and shared by every subscriber and every write queue that holds it (zero-copy fan-out).
// Thread-safety: a shared_bytes may be copied and read from any thread; its contents never change.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace tollgate::common {

class shared_bytes {
public:
    shared_bytes() = default;
    explicit shared_bytes(std::vector<std::uint8_t> bytes);
    static shared_bytes copy_of(std::span<const std::uint8_t> bytes);
    static shared_bytes copy_of(std::string_view text);

    [[nodiscard]] const std::uint8_t* data() const noexcept { return view_.data(); }
    [[nodiscard]] std::size_t size() const noexcept { return view_.size(); }
    [[nodiscard]] bool empty() const noexcept { return view_.empty(); }
    [[nodiscard]] std::span<const std::uint8_t> span() const noexcept { return view_; }
    [[nodiscard]] std::string_view as_string_view() const noexcept;
    [[nodiscard]] std::string to_string() const { return std::string(as_string_view()); }
    /// A view of part of this buffer that keeps the whole buffer alive.
    [[nodiscard]] shared_bytes slice(std::size_t offset, std::size_t length) const;
    /// Number of shared_bytes objects (slices included) holding the underlying storage.
    [[nodiscard]] long use_count() const noexcept { return storage_.use_count(); }

    friend bool operator==(const shared_bytes& a, const shared_bytes& b) noexcept;

private:
    std::shared_ptr<const std::vector<std::uint8_t>> storage_;
    std::span<const std::uint8_t> view_;
};

/// Bytes of a string, for tests and literals.
std::vector<std::uint8_t> to_bytes(std::string_view text);

}  // namespace tollgate::common
