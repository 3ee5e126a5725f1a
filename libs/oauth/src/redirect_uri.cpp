#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

#include <tollgate/oauth/redirect_uri.hpp>

namespace tollgate::oauth {
namespace {

bool is_loopback_literal(std::string_view host) {
    return host == "127.0.0.1" || host == "[::1]";
}

}  // namespace

std::string check_redirect_uri_registration(std::string_view uri) {
    if (uri.size() > 2048) {
        return "redirect URI too long";
    }
    auto parsed = boost::urls::parse_absolute_uri(uri);  // refuses fragments by grammar
    if (!parsed) {
        return "redirect URI must be an absolute URI without fragment";
    }
    const auto scheme = parsed->scheme();
    if (scheme == "https") {
        if (parsed->encoded_host().empty()) {
            return "https redirect URI needs a host";
        }
        if (parsed->has_userinfo()) {
            return "redirect URI must not carry user information";
        }
        return {};
    }
    if (scheme == "http") {
        if (!is_loopback_literal(parsed->encoded_host()) || parsed->has_userinfo()) {
            return "http redirect URIs are allowed only on 127.0.0.1 or [::1] (RFC 8252 §7.3)";
        }
        return {};
    }
    if (scheme.find('.') == std::string_view::npos) {
        return "a custom scheme must be a reverse domain name such as com.example.app (RFC 8252 §7.1)";
    }
    return {};
}

bool redirect_uri_matches(std::string_view requested, const std::vector<std::string>& registered) {
    for (const auto& r : registered) {
        if (requested == r) {
            return true;
        }
    }
    auto req = boost::urls::parse_absolute_uri(requested);
    if (!req || req->scheme() != "http" || !is_loopback_literal(req->encoded_host())) {
        return false;
    }
    for (const auto& r : registered) {
        auto reg = boost::urls::parse_absolute_uri(r);
        if (!reg || reg->scheme() != "http" || !is_loopback_literal(reg->encoded_host())) {
            continue;
        }
        // Everything but the port must be identical (RFC 8252 §7.3).
        if (reg->encoded_host() == req->encoded_host() && reg->encoded_path() == req->encoded_path() &&
            reg->has_query() == req->has_query() && reg->encoded_query() == req->encoded_query() &&
            !req->has_userinfo() && !reg->has_userinfo()) {
            return true;
        }
    }
    return false;
}

}  // namespace tollgate::oauth
