#include "ossl.hpp"

#include <openssl/err.h>

namespace tollgate::jose::ossl {

const EVP_MD* digest_for(int hash_bytes) noexcept {
    // Fetched once: EVP_MD_fetch is a locked name lookup, too slow for the per-token path.
    static EVP_MD* const sha256 = EVP_MD_fetch(nullptr, "SHA2-256", nullptr);
    static EVP_MD* const sha384 = EVP_MD_fetch(nullptr, "SHA2-384", nullptr);
    static EVP_MD* const sha512 = EVP_MD_fetch(nullptr, "SHA2-512", nullptr);
    switch (hash_bytes) {
        case 32:
            return sha256;
        case 48:
            return sha384;
        case 64:
            return sha512;
        default:
            return nullptr;
    }
}

std::vector<std::uint8_t> bn_bytes(const BIGNUM* bn, std::size_t width) {
    const auto natural = static_cast<std::size_t>(BN_num_bytes(bn));
    const std::size_t size = width == 0 ? natural : width;
    std::vector<std::uint8_t> out(size);
    if (size < natural || BN_bn2binpad(bn, out.data(), static_cast<int>(size)) < 0) {
        return {};
    }
    return out;
}

void clear_errors() noexcept {
    ERR_clear_error();
}

}  // namespace tollgate::jose::ossl
