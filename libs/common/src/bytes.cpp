#include <tollgate/common/bytes.hpp>

#include <algorithm>
#include <stdexcept>

namespace tollgate::common {

shared_bytes::shared_bytes(std::vector<std::uint8_t> bytes)
    : storage_(std::make_shared<const std::vector<std::uint8_t>>(std::move(bytes)))
    , view_(storage_->data(), storage_->size()) {}

shared_bytes shared_bytes::copy_of(std::span<const std::uint8_t> bytes) {
    return shared_bytes(std::vector<std::uint8_t>(bytes.begin(), bytes.end()));
}

shared_bytes shared_bytes::copy_of(std::string_view text) { return shared_bytes(to_bytes(text)); }

std::string_view shared_bytes::as_string_view() const noexcept {
    // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast): bytes viewed as chars
    return {reinterpret_cast<const char*>(view_.data()), view_.size()};
}

shared_bytes shared_bytes::slice(std::size_t offset, std::size_t length) const {
    if (offset > view_.size() || length > view_.size() - offset) {
        throw std::out_of_range("shared_bytes::slice out of range");
    }
    shared_bytes out;
    out.storage_ = storage_;
    out.view_ = view_.subspan(offset, length);
    return out;
}

bool operator==(const shared_bytes& a, const shared_bytes& b) noexcept {
    return std::ranges::equal(a.view_, b.view_);
}

std::vector<std::uint8_t> to_bytes(std::string_view text) {
    return {text.begin(), text.end()};
}

}  // namespace tollgate::common
