#include <algorithm>

#include <tollgate/oauth/form.hpp>
#include <tollgate/oauth/scope.hpp>

namespace tollgate::oauth {
namespace {

bool is_scope_char(char c) noexcept {
    const auto u = static_cast<unsigned char>(c);
    return u == 0x21 || (u >= 0x23 && u <= 0x5B) || (u >= 0x5D && u <= 0x7E);
}

}  // namespace

std::optional<scope_list> parse_scope(std::string_view text) {
    scope_list out;
    if (text.empty()) {
        return out;
    }
    if (text.size() > 4096) {
        return std::nullopt;
    }
    std::size_t pos = 0;
    while (true) {
        const auto sp = text.find(' ', pos);
        const auto token = text.substr(pos, sp == std::string_view::npos ? std::string_view::npos : sp - pos);
        if (token.empty() || !std::all_of(token.begin(), token.end(), is_scope_char)) {
            return std::nullopt;
        }
        if (std::find(out.begin(), out.end(), token) == out.end()) {
            if (out.size() >= 64) {
                return std::nullopt;
            }
            out.emplace_back(token);
        }
        if (sp == std::string_view::npos) {
            break;
        }
        pos = sp + 1;
    }
    return out;
}

std::string join_scope(const scope_list& scopes) {
    std::string out;
    for (const auto& s : scopes) {
        if (!out.empty()) {
            out.push_back(' ');
        }
        out += s;
    }
    return out;
}

bool scope_subset(const scope_list& requested, const scope_list& allowed) {
    return std::all_of(requested.begin(), requested.end(), [&](const std::string& s) {
        return std::find(allowed.begin(), allowed.end(), s) != allowed.end();
    });
}

std::string describe_scope(std::string_view scope) {
    auto filter_of = [&](std::string_view prefix) {
        // Filters may be percent-encoded (DESIGN.md); '+' is the MQTT wildcard, not a space.
        const auto raw = scope.substr(prefix.size());
        std::string plus_safe;
        for (const char c : raw) {
            plus_safe += c == '+' ? std::string("%2B") : std::string(1, c);
        }
        auto decoded = form_decode(plus_safe);
        return decoded ? *decoded : std::string(raw);
    };
    if (scope.rfind("mqtt:pub:", 0) == 0) {
        return "Publish messages to topics matching " + filter_of("mqtt:pub:");
    }
    if (scope.rfind("mqtt:sub:", 0) == 0) {
        return "Receive messages from topics matching " + filter_of("mqtt:sub:");
    }
    if (scope.rfind("mqtt:all:", 0) == 0) {
        return "Publish and receive messages on topics matching " + filter_of("mqtt:all:");
    }
    if (scope == "offline_access") {
        return "Keep access while you are away (refresh tokens)";
    }
    if (scope == "openid") {
        return "Know who you are (your user name)";
    }
    if (scope == "admin") {
        return "Administer this server";
    }
    return "Use the permission \u201c" + std::string(scope) + "\u201d";
}

}  // namespace tollgate::oauth
