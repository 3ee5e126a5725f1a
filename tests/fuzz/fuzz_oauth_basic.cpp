// HTTP Basic client credentials (RFC 6749 §2.3.1) and strict base64: never crash; credentials
// that parse come back the same through make_basic_authorization() (when the re-encoded header is
// within the size limit: percent-encoding may legitimately grow it past the limit); base64
// round-trips.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include <tollgate/oauth/form.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    if (auto creds = tollgate::oauth::parse_basic_authorization(text)) {
        const auto header = tollgate::oauth::make_basic_authorization(creds->user, creds->password);
        if (header.size() <= tollgate::oauth::max_basic_authorization_bytes) {
            auto again = tollgate::oauth::parse_basic_authorization(header);
            if (!again || again->user != creds->user || again->password != creds->password) {
                std::abort();
            }
        }
    }
    if (auto decoded = tollgate::oauth::base64_decode(text)) {
        if (tollgate::oauth::base64_encode(*decoded) != text) {
            std::abort();  // strict decoding: one spelling per byte string
        }
    }
    return 0;
}
