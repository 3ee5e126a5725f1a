// Fuzzes the parsers of what remote authorization servers send the broker (libs/auth):
// RFC 7662 introspection responses (parse_introspection_response) and RFC 8414 / OpenID metadata
// documents (parse_issuer_metadata). Input: one selector byte, then the response body.
// Properties checked:
//  - neither parser crashes, throws or reads out of bounds, whatever the bytes;
//  - a 200 response always yields a verdict (active or inactive), never "unavailable"; a non-200
//    one is always "unavailable" (only a missing answer may be covered by the grace period);
//  - an active verdict respects the limits (scopes, audiences);
//  - accepted metadata names exactly the expected issuer (RFC 8414 §3.3), and each endpoint it
//    holds passes check_endpoint_url.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include <tollgate/auth/discovery.hpp>
#include <tollgate/auth/introspection.hpp>

namespace {

constexpr std::string_view expected_issuer = "https://idp.example/tenant";

void check_endpoint(const std::string& url, bool allow_http) {
    if (!url.empty() && !tollgate::auth::check_endpoint_url(url, allow_http).empty()) {
        std::abort();  // metadata accepted with an unacceptable endpoint URL
    }
}

void fuzz_introspection(std::string_view body, int status) {
    using namespace tollgate::auth;
    http_response response;
    response.status = status;
    response.content_type = "application/json";
    response.body = std::string(body);
    introspection_limits limits;
    const auto r = parse_introspection_response(response, limits);
    using verdict = introspection_result::verdict;
    if (status == 200 && r.state == verdict::unavailable) {
        std::abort();
    }
    if (status != 200 && r.state != verdict::unavailable) {
        std::abort();
    }
    if (r.active() && (r.scopes.size() > limits.max_scopes || r.aud.size() > limits.max_audiences)) {
        std::abort();
    }
}

void fuzz_metadata(std::string_view body, bool allow_http) {
    using namespace tollgate::auth;
    const auto r = parse_issuer_metadata(body, expected_issuer, allow_http);
    if (!r.metadata) {
        if (r.error.empty()) {
            std::abort();  // refused without a reason
        }
        return;
    }
    if (r.metadata->issuer != expected_issuer) {
        std::abort();
    }
    check_endpoint(r.metadata->jwks_uri, allow_http);
    check_endpoint(r.metadata->introspection_endpoint, allow_http);
    check_endpoint(r.metadata->revocation_endpoint, allow_http);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) {
        return 0;
    }
    const std::uint8_t selector = data[0];
    const std::string_view body(reinterpret_cast<const char*>(data + 1), size - 1);
    switch (selector % 4) {
        case 0:
            fuzz_introspection(body, 200);
            break;
        case 1:
            fuzz_introspection(body, selector & 0x80 ? 500 : 401);
            break;
        case 2:
            fuzz_metadata(body, false);
            break;
        default:
            fuzz_metadata(body, true);
            break;
    }
    return 0;
}
