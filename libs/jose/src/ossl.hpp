#pragma once
// Internal: RAII owners for OpenSSL 3 objects and small helpers shared by the jose sources.
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/x509.h>

namespace tollgate::jose::ossl {

template <auto Free>
struct deleter {
    template <class T>
    void operator()(T* p) const noexcept {
        Free(p);
    }
};

using pkey_ptr = std::unique_ptr<EVP_PKEY, deleter<EVP_PKEY_free>>;
using pkey_ctx_ptr = std::unique_ptr<EVP_PKEY_CTX, deleter<EVP_PKEY_CTX_free>>;
using md_ctx_ptr = std::unique_ptr<EVP_MD_CTX, deleter<EVP_MD_CTX_free>>;
using mac_ctx_ptr = std::unique_ptr<EVP_MAC_CTX, deleter<EVP_MAC_CTX_free>>;
using bn_ptr = std::unique_ptr<BIGNUM, deleter<BN_free>>;
using bn_clear_ptr = std::unique_ptr<BIGNUM, deleter<BN_clear_free>>;
using bio_ptr = std::unique_ptr<BIO, deleter<BIO_free_all>>;
using x509_ptr = std::unique_ptr<X509, deleter<X509_free>>;
using param_bld_ptr = std::unique_ptr<OSSL_PARAM_BLD, deleter<OSSL_PARAM_BLD_free>>;
using params_ptr = std::unique_ptr<OSSL_PARAM, deleter<OSSL_PARAM_free>>;

inline std::span<const std::uint8_t> as_bytes(std::string_view s) noexcept {
    // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast)
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

inline std::string_view as_chars(std::span<const std::uint8_t> b) noexcept {
    // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast)
    return {reinterpret_cast<const char*>(b.data()), b.size()};
}

/// The message digest an algorithm uses (fetched once, process-wide); nullptr for EdDSA.
const EVP_MD* digest_for(int hash_bytes) noexcept;

/// Big-endian unsigned bytes of a BIGNUM, left-padded with zeros to `width` (0: minimal length).
std::vector<std::uint8_t> bn_bytes(const BIGNUM* bn, std::size_t width = 0);

/// Drains OpenSSL's thread-local error queue (so one failure does not leak into the next call).
void clear_errors() noexcept;

}  // namespace tollgate::jose::ossl
