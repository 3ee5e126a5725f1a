#include <algorithm>

#include <tollgate/store/value.hpp>

namespace tollgate::store {

namespace {

const char* type_name(const value& v) noexcept {
    switch (v.index()) {
        case 0:
            return "NULL";
        case 1:
            return "integer";
        case 2:
            return "real";
        case 3:
            return "text";
        default:
            return "blob";
    }
}

[[noreturn]] void wrong_type(std::size_t i, const char* wanted, const value& v) {
    throw error(error::kind::other,
                "column " + std::to_string(i) + ": expected " + wanted + ", found " + type_name(v));
}

}  // namespace

blob to_blob(std::string_view bytes) {
    return blob(reinterpret_cast<const std::uint8_t*>(bytes.data()),
                reinterpret_cast<const std::uint8_t*>(bytes.data()) + bytes.size());
}

error::error(kind k, const std::string& message, std::string code)
    : std::runtime_error(message), kind_(k), code_(std::move(code)) {}

std::string_view to_string(error::kind k) noexcept {
    switch (k) {
        case error::kind::constraint:
            return "constraint";
        case error::kind::busy:
            return "busy";
        case error::kind::connection:
            return "connection";
        case error::kind::syntax:
            return "syntax";
        case error::kind::other:
            break;
    }
    return "other";
}

row::row(std::vector<value> values, std::shared_ptr<const std::vector<std::string>> names)
    : values_(std::move(values)), names_(std::move(names)) {}

const value& row::at(std::size_t i) const {
    if (i >= values_.size()) {
        throw std::out_of_range("store::row: column " + std::to_string(i) + " of " +
                                std::to_string(values_.size()));
    }
    return values_[i];
}

const std::string& row::column_name(std::size_t i) const {
    if (!names_ || i >= names_->size()) {
        throw std::out_of_range("store::row: no name for column " + std::to_string(i));
    }
    return (*names_)[i];
}

std::size_t row::index_of(std::string_view name) const {
    if (names_) {
        auto it = std::find(names_->begin(), names_->end(), name);
        if (it != names_->end()) {
            return static_cast<std::size_t>(it - names_->begin());
        }
    }
    throw error(error::kind::other, "store::row: no column named '" + std::string(name) + "'");
}

bool row::is_null(std::size_t i) const {
    return std::holds_alternative<std::monostate>(at(i));
}

std::int64_t row::integer(std::size_t i) const {
    const value& v = at(i);
    if (const auto* p = std::get_if<std::int64_t>(&v)) {
        return *p;
    }
    wrong_type(i, "integer", v);
}

double row::real(std::size_t i) const {
    const value& v = at(i);
    if (const auto* p = std::get_if<double>(&v)) {
        return *p;
    }
    if (const auto* p = std::get_if<std::int64_t>(&v)) {
        return static_cast<double>(*p);
    }
    wrong_type(i, "real", v);
}

const std::string& row::text(std::size_t i) const {
    const value& v = at(i);
    if (const auto* p = std::get_if<std::string>(&v)) {
        return *p;
    }
    wrong_type(i, "text", v);
}

const blob& row::bytes(std::size_t i) const {
    const value& v = at(i);
    if (const auto* p = std::get_if<blob>(&v)) {
        return *p;
    }
    wrong_type(i, "blob", v);
}

std::optional<std::int64_t> row::opt_integer(std::size_t i) const {
    if (is_null(i)) {
        return std::nullopt;
    }
    return integer(i);
}

std::optional<double> row::opt_real(std::size_t i) const {
    if (is_null(i)) {
        return std::nullopt;
    }
    return real(i);
}

std::optional<std::string> row::opt_text(std::size_t i) const {
    if (is_null(i)) {
        return std::nullopt;
    }
    return text(i);
}

std::optional<blob> row::opt_bytes(std::size_t i) const {
    if (is_null(i)) {
        return std::nullopt;
    }
    return bytes(i);
}

}  // namespace tollgate::store
