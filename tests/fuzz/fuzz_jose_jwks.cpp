// libFuzzer target: JWK Set and single JWK parsing (RFC 7517) from untrusted bytes.
// Property: never crashes or leaks; every key accepted re-exports to a public JWK that parses
// back to a key with the same RFC 7638 thumbprint.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include <tollgate/jose/key_set.hpp>

using namespace tollgate;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    auto set = jose::key_set::from_json(text);
    if (set) {
        for (const auto& k : set->keys()) {
            const std::string thumb = k.thumbprint();
            if (k.type() == jose::key_type::oct) {
                continue;
            }
            auto pub = k.to_public_jwk();
            if (!pub) {
                std::abort();
            }
            auto back = jose::key::from_jwk(*pub);
            if (!back || back->thumbprint() != thumb) {
                std::abort();
            }
        }
        (void)set->to_json();
    }
    (void)jose::key::from_jwk(text);
    return 0;
}
