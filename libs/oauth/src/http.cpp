#include <tollgate/oauth/http.hpp>

namespace tollgate::oauth {

std::optional<std::string_view> request::header(std::string_view name) const noexcept {
    for (const auto& [k, v] : headers) {
        if (k == name) {
            return std::string_view(v);
        }
    }
    return std::nullopt;
}

std::size_t request::header_count(std::string_view name) const noexcept {
    std::size_t n = 0;
    for (const auto& [k, v] : headers) {
        n += k == name ? 1 : 0;
    }
    return n;
}

std::string_view request::path() const noexcept {
    std::string_view t(target);
    return t.substr(0, t.find('?'));
}

std::string_view request::query() const noexcept {
    std::string_view t(target);
    const auto q = t.find('?');
    return q == std::string_view::npos ? std::string_view{} : t.substr(q + 1);
}

std::optional<std::string> request::cookie(std::string_view name) const {
    for (const auto& [k, v] : headers) {
        if (k != "cookie") {
            continue;
        }
        std::string_view rest(v);
        while (!rest.empty()) {
            auto semi = rest.find(';');
            auto item = rest.substr(0, semi);
            rest = semi == std::string_view::npos ? std::string_view{} : rest.substr(semi + 1);
            while (!item.empty() && item.front() == ' ') {
                item.remove_prefix(1);
            }
            const auto eq = item.find('=');
            if (eq != std::string_view::npos && item.substr(0, eq) == name) {
                return std::string(item.substr(eq + 1));
            }
        }
    }
    return std::nullopt;
}

void response::set_header(std::string name, std::string value) {
    for (auto& [k, v] : headers) {
        if (k == name) {
            v = std::move(value);
            return;
        }
    }
    headers.emplace_back(std::move(name), std::move(value));
}

std::optional<std::string_view> response::header(std::string_view name) const noexcept {
    for (const auto& [k, v] : headers) {
        if (k == name) {
            return std::string_view(v);
        }
    }
    return std::nullopt;
}

response json_response(int status, std::string body, bool no_store) {
    response r;
    r.status = status;
    r.body = std::move(body);
    r.set_header("content-type", "application/json");
    if (no_store) {
        r.set_header("cache-control", "no-store");
        r.set_header("pragma", "no-cache");
    }
    return r;
}

}  // namespace tollgate::oauth
