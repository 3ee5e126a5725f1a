// Authorization server metadata (RFC 8414, OpenID Connect Discovery 1.0): URLs and validation.
#include <boost/json/object.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

#include <tollgate/auth/discovery.hpp>
#include <tollgate/jose/json.hpp>

namespace tollgate::auth {
namespace {

/// Common checks of an absolute URL; fills `out` on success. Returns an error text or empty.
std::string check_url(std::string_view text, bool allow_http, boost::urls::url_view& out) {
    auto parsed = boost::urls::parse_absolute_uri(text);
    if (!parsed) {
        return "not an absolute URL";
    }
    out = *parsed;
    if (out.scheme() != "https" && !(allow_http && out.scheme() == "http")) {
        return allow_http ? "must be an https:// or http:// URL" : "must be an https:// URL";
    }
    if (!out.has_authority() || out.encoded_host().empty()) {
        return "needs a host";
    }
    if (out.has_userinfo()) {
        return "must not carry user information";
    }
    if (out.has_fragment()) {
        return "must not have a fragment";
    }
    return {};
}

std::string_view without_trailing_slash(std::string_view path) {
    while (!path.empty() && path.back() == '/') {
        path.remove_suffix(1);
    }
    return path;
}

/// An optional string member; false (with `error`) when present but not an acceptable URL.
bool endpoint_member(const boost::json::object& doc, std::string_view name, bool allow_http, std::string& out,
                     std::string& error) {
    const auto* v = doc.if_contains(name);
    if (v == nullptr || v->is_null()) {
        return true;
    }
    const auto* s = v->if_string();
    if (s == nullptr) {
        error = "metadata member \"" + std::string(name) + "\" is not a string";
        return false;
    }
    if (auto e = check_endpoint_url(*s, allow_http); !e.empty()) {
        error = "metadata member \"" + std::string(name) + "\" " + e;
        return false;
    }
    out = std::string(*s);
    return true;
}

}  // namespace

std::string check_issuer_identifier(std::string_view issuer, bool allow_http) {
    boost::urls::url_view u;
    if (auto e = check_url(issuer, allow_http, u); !e.empty()) {
        return e;
    }
    if (u.has_query()) {
        return "must not have a query (RFC 8414 §2)";
    }
    return {};
}

std::string check_endpoint_url(std::string_view url, bool allow_http) {
    boost::urls::url_view u;
    return check_url(url, allow_http, u);
}

std::vector<std::string> discovery_urls(std::string_view issuer) {
    auto parsed = boost::urls::parse_absolute_uri(issuer);
    if (!parsed) {
        return {};
    }
    const auto& u = *parsed;
    const std::string origin = std::string(u.scheme()) + "://" + std::string(u.encoded_authority());
    const std::string path(without_trailing_slash(u.encoded_path()));
    return {origin + "/.well-known/oauth-authorization-server" + path,
            origin + path + "/.well-known/openid-configuration"};
}

metadata_result parse_issuer_metadata(std::string_view json, std::string_view expected_issuer,
                                      bool allow_http, const metadata_limits& limits) {
    metadata_result out;
    jose::json_limits jl;
    jl.max_bytes = limits.max_bytes;
    jl.max_depth = 8;
    jl.max_members = 4096;
    jl.max_string_bytes = 8 * 1024;
    auto doc = jose::parse_json_object(json, jl);
    if (!doc) {
        out.error = "metadata is not an acceptable JSON object: " + doc.error().message();
        return out;
    }
    const auto* iss = doc->if_contains("issuer");
    if (iss == nullptr || !iss->is_string()) {
        out.error = "metadata has no \"issuer\" string";
        return out;
    }
    if (iss->get_string() != expected_issuer) {
        // RFC 8414 §3.3: a mismatch MUST NOT be used. The value is not echoed (it is untrusted).
        out.error = "metadata \"issuer\" differs from the configured issuer (RFC 8414 §3.3)";
        return out;
    }
    issuer_metadata m;
    m.issuer = std::string(expected_issuer);
    if (!endpoint_member(*doc, "jwks_uri", allow_http, m.jwks_uri, out.error) ||
        !endpoint_member(*doc, "token_endpoint", allow_http, m.token_endpoint, out.error) ||
        !endpoint_member(*doc, "introspection_endpoint", allow_http, m.introspection_endpoint, out.error) ||
        !endpoint_member(*doc, "revocation_endpoint", allow_http, m.revocation_endpoint, out.error)) {
        return out;
    }
    if (const auto* methods = doc->if_contains("introspection_endpoint_auth_methods_supported")) {
        const auto* arr = methods->if_array();
        if (arr == nullptr) {
            out.error = "metadata member \"introspection_endpoint_auth_methods_supported\" is not an array";
            return out;
        }
        for (const auto& v : *arr) {
            if (const auto* s = v.if_string()) {
                m.introspection_auth_methods.emplace_back(*s);
            }
        }
    }
    out.metadata = std::move(m);
    return out;
}

}  // namespace tollgate::auth
