#include <array>
#include <cstdint>

#include <tollgate/oauth/form.hpp>

namespace tollgate::oauth {
namespace {

int hex_value(char c) noexcept {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

bool is_unreserved(unsigned char c) noexcept {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

constexpr std::string_view b64_alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int b64_value(char c) noexcept {
    const auto pos = b64_alphabet.find(c);
    return pos == std::string_view::npos ? -1 : static_cast<int>(pos);
}

bool iequals(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) {
        return false;
    }
    for (std::size_t i = 0; i < a.size(); ++i) {
        auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; };
        if (lower(a[i]) != lower(b[i])) {
            return false;
        }
    }
    return true;
}

}  // namespace

std::string_view form_error_text(form_error e) noexcept {
    switch (e) {
        case form_error::none:
            return "no error";
        case form_error::too_large:
            return "request parameters too large";
        case form_error::too_many_parameters:
            return "too many parameters";
        case form_error::name_too_long:
            return "parameter name too long";
        case form_error::value_too_long:
            return "parameter value too long";
        case form_error::bad_encoding:
            return "malformed percent-encoding or invalid UTF-8";
        case form_error::repeated_parameter:
            return "parameter repeated";
    }
    return "unknown error";
}

std::optional<std::string_view> form::get(std::string_view name) const noexcept {
    for (const auto& [k, v] : params_) {
        if (k == name) {
            return std::string_view(v);
        }
    }
    return std::nullopt;
}

std::string form::value_or_empty(std::string_view name) const {
    auto v = get(name);
    return v ? std::string(*v) : std::string();
}

bool is_valid_utf8(std::string_view text) noexcept {
    std::size_t i = 0;
    const std::size_t n = text.size();
    while (i < n) {
        const auto c = static_cast<unsigned char>(text[i]);
        if (c < 0x80) {
            ++i;
            continue;
        }
        std::size_t len = 0;
        std::uint32_t cp = 0;
        if ((c & 0xE0) == 0xC0) {
            len = 2;
            cp = c & 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            len = 3;
            cp = c & 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            len = 4;
            cp = c & 0x07;
        } else {
            return false;
        }
        if (n - i < len) {
            return false;
        }
        for (std::size_t k = 1; k < len; ++k) {
            const auto cc = static_cast<unsigned char>(text[i + k]);
            if ((cc & 0xC0) != 0x80) {
                return false;
            }
            cp = (cp << 6) | (cc & 0x3F);
        }
        static constexpr std::array<std::uint32_t, 5> min_for_len{0, 0, 0x80, 0x800, 0x10000};
        if (cp < min_for_len[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
            return false;
        }
        i += len;
    }
    return true;
}

std::optional<std::string> form_decode(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (c == '+') {
            out.push_back(' ');
        } else if (c == '%') {
            if (text.size() - i < 3) {
                return std::nullopt;
            }
            const int hi = hex_value(text[i + 1]);
            const int lo = hex_value(text[i + 2]);
            if (hi < 0 || lo < 0) {
                return std::nullopt;
            }
            out.push_back(static_cast<char>((hi << 4) | lo));
            i += 2;
        } else {
            out.push_back(c);
        }
    }
    if (out.find('\0') != std::string::npos || !is_valid_utf8(out)) {
        return std::nullopt;
    }
    return out;
}

form_result parse_form(std::string_view text, const form_limits& limits) {
    form_result r;
    if (text.size() > limits.max_bytes) {
        r.error = form_error::too_large;
        return r;
    }
    std::size_t pos = 0;
    while (pos <= text.size()) {
        auto amp = text.find('&', pos);
        if (amp == std::string_view::npos) {
            amp = text.size();
        }
        const auto pair = text.substr(pos, amp - pos);
        pos = amp + 1;
        if (pair.empty()) {
            if (amp == text.size()) {
                break;
            }
            continue;
        }
        const auto eq = pair.find('=');
        const auto raw_name = pair.substr(0, eq);
        const auto raw_value = eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);
        auto name = form_decode(raw_name);
        auto value = form_decode(raw_value);
        if (!name || !value) {
            r.error = form_error::bad_encoding;
            return r;
        }
        if (name->size() > limits.max_name_bytes) {
            r.error = form_error::name_too_long;
            return r;
        }
        if (value->size() > limits.max_value_bytes) {
            r.error = form_error::value_too_long;
            r.offending_name = *name;
            return r;
        }
        // A repeated name is an error even when one occurrence is empty: two readers could disagree.
        for (const auto& [k, v] : r.value.params_) {
            if (k == *name) {
                r.error = form_error::repeated_parameter;
                r.offending_name = *name;
                return r;
            }
        }
        if (r.value.params_.size() >= limits.max_parameters) {
            r.error = form_error::too_many_parameters;
            return r;
        }
        // Parameters sent without a value are treated as omitted (RFC 6749 §3.1), but still count
        // for repetition: keep them with an empty value and hide them from get().
        r.value.params_.emplace_back(std::move(*name), std::move(*value));
        if (amp == text.size()) {
            break;
        }
    }
    // Drop empty values only after repetition checks.
    std::erase_if(r.value.params_, [](const auto& p) { return p.second.empty(); });
    return r;
}

std::string url_encode(std::string_view text) {
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(text.size() * 3);
    for (const char ch : text) {
        const auto c = static_cast<unsigned char>(ch);
        if (is_unreserved(c)) {
            out.push_back(ch);
        } else {
            out.push_back('%');
            out.push_back(hex[c >> 4]);
            out.push_back(hex[c & 0x0F]);
        }
    }
    return out;
}

std::string build_query(const std::vector<std::pair<std::string, std::string>>& params) {
    std::string out;
    for (const auto& [k, v] : params) {
        if (!out.empty()) {
            out.push_back('&');
        }
        out += url_encode(k);
        out.push_back('=');
        out += url_encode(v);
    }
    return out;
}

std::string base64_encode(std::string_view data) {
    std::string out;
    out.reserve((data.size() + 2) / 3 * 4);
    std::size_t i = 0;
    while (i + 3 <= data.size()) {
        const std::uint32_t v = (static_cast<std::uint32_t>(static_cast<unsigned char>(data[i])) << 16) |
                                (static_cast<std::uint32_t>(static_cast<unsigned char>(data[i + 1])) << 8) |
                                static_cast<unsigned char>(data[i + 2]);
        out.push_back(b64_alphabet[(v >> 18) & 63]);
        out.push_back(b64_alphabet[(v >> 12) & 63]);
        out.push_back(b64_alphabet[(v >> 6) & 63]);
        out.push_back(b64_alphabet[v & 63]);
        i += 3;
    }
    const auto rest = data.size() - i;
    if (rest > 0) {
        std::uint32_t v = static_cast<std::uint32_t>(static_cast<unsigned char>(data[i])) << 16;
        if (rest == 2) {
            v |= static_cast<std::uint32_t>(static_cast<unsigned char>(data[i + 1])) << 8;
        }
        out.push_back(b64_alphabet[(v >> 18) & 63]);
        out.push_back(b64_alphabet[(v >> 12) & 63]);
        out.push_back(rest == 2 ? b64_alphabet[(v >> 6) & 63] : '=');
        out.push_back('=');
    }
    return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
    if (text.size() % 4 != 0) {
        return std::nullopt;
    }
    std::string out;
    out.reserve(text.size() / 4 * 3);
    for (std::size_t i = 0; i < text.size(); i += 4) {
        const bool last = i + 4 == text.size();
        int v[4];
        int pad = 0;
        for (int k = 0; k < 4; ++k) {
            const char c = text[i + static_cast<std::size_t>(k)];
            if (c == '=' && last && k >= 2) {
                v[k] = 0;
                ++pad;
                continue;
            }
            if (pad > 0) {
                return std::nullopt;  // data after padding
            }
            v[k] = b64_value(c);
            if (v[k] < 0) {
                return std::nullopt;
            }
        }
        const std::uint32_t bits = (static_cast<std::uint32_t>(v[0]) << 18) |
                                   (static_cast<std::uint32_t>(v[1]) << 12) |
                                   (static_cast<std::uint32_t>(v[2]) << 6) | static_cast<std::uint32_t>(v[3]);
        out.push_back(static_cast<char>((bits >> 16) & 0xFF));
        if (pad < 2) {
            out.push_back(static_cast<char>((bits >> 8) & 0xFF));
        }
        if (pad < 1) {
            out.push_back(static_cast<char>(bits & 0xFF));
        }
        // Non-zero unused bits make a second spelling of the same bytes: refuse.
        if ((pad == 1 && (bits & 0xFF) != 0) || (pad == 2 && (bits & 0xFFFF) != 0)) {
            return std::nullopt;
        }
    }
    return out;
}

std::optional<basic_credentials> parse_basic_authorization(std::string_view header_value) {
    if (header_value.size() > max_basic_authorization_bytes) {
        return std::nullopt;
    }
    const auto sp = header_value.find(' ');
    if (sp == std::string_view::npos || !iequals(header_value.substr(0, sp), "basic")) {
        return std::nullopt;
    }
    auto rest = header_value.substr(sp + 1);
    while (!rest.empty() && rest.front() == ' ') {
        rest.remove_prefix(1);
    }
    while (!rest.empty() && rest.back() == ' ') {
        rest.remove_suffix(1);
    }
    auto decoded = base64_decode(rest);
    if (!decoded) {
        return std::nullopt;
    }
    const auto colon = decoded->find(':');
    if (colon == std::string::npos) {
        return std::nullopt;
    }
    auto user = form_decode(std::string_view(*decoded).substr(0, colon));
    auto password = form_decode(std::string_view(*decoded).substr(colon + 1));
    if (!user || !password || user->empty()) {
        return std::nullopt;
    }
    return basic_credentials{std::move(*user), std::move(*password)};
}

std::string make_basic_authorization(std::string_view user, std::string_view password) {
    return "Basic " + base64_encode(url_encode(user) + ":" + url_encode(password));
}

}  // namespace tollgate::oauth
