// Plain-data helpers of the public headers (no Asio).
#include <algorithm>
#include <cctype>

#include <tollgate/net/http_server.hpp>
#include <tollgate/net/transport.hpp>

namespace tollgate::net {

std::string_view to_string(transport_kind kind) noexcept {
    switch (kind) {
        case transport_kind::tcp:
            return "tcp";
        case transport_kind::tls:
            return "tls";
        case transport_kind::ws:
            return "ws";
        case transport_kind::wss:
            return "wss";
    }
    return "unknown";
}

namespace {

bool iequals(std::string_view a, std::string_view b) noexcept {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) ==
                      std::tolower(static_cast<unsigned char>(y));
           });
}

}  // namespace

std::string http_request::header(std::string_view name) const {
    for (const auto& [key, value] : headers) {
        if (iequals(key, name)) {
            return value;
        }
    }
    return {};
}

std::size_t http_request::header_count(std::string_view name) const {
    return static_cast<std::size_t>(
        std::count_if(headers.begin(), headers.end(), [&](const auto& h) { return iequals(h.first, name); }));
}

}  // namespace tollgate::net
