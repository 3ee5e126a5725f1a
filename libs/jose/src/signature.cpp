// Raw JWS signatures (RFC 7518 §3, RFC 8037 §3.1) on OpenSSL 3 EVP.
// Every call makes its own EVP_MD_CTX / EVP_MAC_CTX, so one key serves many threads at once; the
// digests and the HMAC implementation are fetched once per process (ossl::digest_for).
// Verification results count only when OpenSSL returns exactly 1.
#include <algorithm>
#include <array>
#include <cstring>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/rsa.h>

#include <tollgate/jose/jws.hpp>

#include "key_data.hpp"

namespace tollgate::jose {

using detail::key_data;

namespace {

bool is_pss(algorithm alg) noexcept {
    return alg == algorithm::ps256 || alg == algorithm::ps384 || alg == algorithm::ps512;
}

EVP_MAC* hmac_impl() noexcept {
    static EVP_MAC* const mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
    return mac;
}

std::string_view digest_name(std::size_t hash_bytes) noexcept {
    switch (hash_bytes) {
        case 32:
            return "SHA2-256";
        case 48:
            return "SHA2-384";
        default:
            return "SHA2-512";
    }
}

/// HMAC of input under the key's secret; the output size is the hash size.
bool compute_hmac(const key_data& d, algorithm alg, std::string_view input, std::array<std::uint8_t, 64>& out,
                  std::size_t& out_len) {
    if (d.secret.empty()) {
        return false;  // never an HMAC with an empty key
    }
    ossl::mac_ctx_ptr ctx(EVP_MAC_CTX_new(hmac_impl()));
    if (!ctx) {
        return false;
    }
    const std::string_view name = digest_name(hash_size(alg));
    std::array<OSSL_PARAM, 2> params{
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, const_cast<char*>(name.data()), name.size()),
        OSSL_PARAM_construct_end()};
    return EVP_MAC_init(ctx.get(), d.secret.data(), d.secret.size(), params.data()) == 1 &&
           EVP_MAC_update(ctx.get(), ossl::as_bytes(input).data(), input.size()) == 1 &&
           EVP_MAC_final(ctx.get(), out.data(), &out_len, out.size()) == 1 && out_len == hash_size(alg);
}

/// A digest-sign/verify context for the key and alg (PSS padding set for PS*).
ossl::md_ctx_ptr init_ctx(const key_data& d, algorithm alg, bool for_signing) {
    ossl::md_ctx_ptr ctx(EVP_MD_CTX_new());
    if (!ctx) {
        return nullptr;
    }
    const EVP_MD* md = alg == algorithm::eddsa ? nullptr : ossl::digest_for(static_cast<int>(hash_size(alg)));
    EVP_PKEY_CTX* pctx = nullptr;
    const int ok = for_signing ? EVP_DigestSignInit(ctx.get(), &pctx, md, nullptr, d.pkey.get())
                               : EVP_DigestVerifyInit(ctx.get(), &pctx, md, nullptr, d.pkey.get());
    if (ok != 1) {
        return nullptr;
    }
    if (is_pss(alg)) {
        // RFC 7518 §3.5: MGF1 with the same hash, salt length equal to the hash output.
        if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
            EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1 ||
            EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, md) != 1) {
            return nullptr;
        }
    } else if (d.type == key_type::rsa) {
        if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1) {
            return nullptr;
        }
    }
    return ctx;
}

/// DER length octets.
void der_length(std::vector<std::uint8_t>& out, std::size_t len) {
    if (len < 0x80) {
        out.push_back(static_cast<std::uint8_t>(len));
    } else {
        out.push_back(0x81);  // every ECDSA signature we build is < 256 bytes
        out.push_back(static_cast<std::uint8_t>(len));
    }
}

/// A DER INTEGER from a big-endian unsigned value.
void der_integer(std::vector<std::uint8_t>& out, std::span<const std::uint8_t> v) {
    std::size_t i = 0;
    while (i + 1 < v.size() && v[i] == 0) {
        ++i;
    }
    const bool pad = (v[i] & 0x80) != 0;
    out.push_back(0x02);
    der_length(out, v.size() - i + (pad ? 1 : 0));
    if (pad) {
        out.push_back(0);
    }
    out.insert(out.end(), v.begin() + static_cast<std::ptrdiff_t>(i), v.end());
}

bool is_zero(std::span<const std::uint8_t> v) noexcept {
    return std::all_of(v.begin(), v.end(), [](std::uint8_t b) { return b == 0; });
}

bool below(std::span<const std::uint8_t> v, std::span<const std::uint8_t> bound) noexcept {
    return v.size() == bound.size() && std::memcmp(v.data(), bound.data(), v.size()) < 0;
}

/// RFC 7518 §3.4 R||S to DER, after CVE-2022-21449 checks: 0 < r, s < n.
bool ecdsa_raw_to_der(std::span<const std::uint8_t> raw, std::size_t coord, std::vector<std::uint8_t>& der) {
    const auto r = raw.first(coord);
    const auto s = raw.subspan(coord, coord);
    const auto n = detail::curve_order(coord);
    if (n.empty() || is_zero(r) || is_zero(s) || !below(r, n) || !below(s, n)) {
        return false;
    }
    std::vector<std::uint8_t> body;
    body.reserve(2 * coord + 8);
    der_integer(body, r);
    der_integer(body, s);
    der.clear();
    der.push_back(0x30);
    der_length(der, body.size());
    der.insert(der.end(), body.begin(), body.end());
    return true;
}

bool ecdsa_der_to_raw(std::span<const std::uint8_t> der, std::size_t coord, std::vector<std::uint8_t>& raw) {
    const unsigned char* p = der.data();
    std::unique_ptr<ECDSA_SIG, ossl::deleter<ECDSA_SIG_free>> sig(
        d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size())));
    if (!sig) {
        return false;
    }
    const BIGNUM* r = nullptr;
    const BIGNUM* s = nullptr;
    ECDSA_SIG_get0(sig.get(), &r, &s);
    raw.assign(2 * coord, 0);
    return BN_bn2binpad(r, raw.data(), static_cast<int>(coord)) == static_cast<int>(coord) &&
           BN_bn2binpad(s, raw.data() + coord, static_cast<int>(coord)) == static_cast<int>(coord);
}

std::error_code verify_asymmetric(const key_data& d, algorithm alg, std::string_view input,
                                  std::span<const std::uint8_t> signature) {
    if (signature.size() != d.sig_bytes) {
        return errc::bad_signature;  // RSA: != modulus length; EC: != 2 * coordinate; Ed25519: != 64
    }
    std::vector<std::uint8_t> der;
    if (d.type == key_type::ec) {
        if (!ecdsa_raw_to_der(signature, d.sig_bytes / 2, der)) {
            return errc::bad_signature;
        }
        signature = der;
    }
    auto ctx = init_ctx(d, alg, false);
    if (!ctx) {
        ossl::clear_errors();
        return errc::crypto_failure;
    }
    const int ok = EVP_DigestVerify(ctx.get(), signature.data(), signature.size(),
                                    ossl::as_bytes(input).data(), input.size());
    if (ok != 1) {
        ossl::clear_errors();
        return errc::bad_signature;
    }
    return {};
}

}  // namespace

std::error_code verify_signature(const key& k, algorithm alg, std::string_view signing_input,
                                 std::span<const std::uint8_t> signature) {
    if (!k.allows(alg)) {
        return errc::alg_key_mismatch;
    }
    const key_data& d = key_data::of(k);
    if (d.type == key_type::oct) {
        std::array<std::uint8_t, 64> mac{};
        std::size_t len = 0;
        if (!compute_hmac(d, alg, signing_input, mac, len)) {
            ossl::clear_errors();
            return errc::crypto_failure;
        }
        if (signature.size() != len || CRYPTO_memcmp(mac.data(), signature.data(), len) != 0) {
            return errc::bad_signature;
        }
        return {};
    }
    return verify_asymmetric(d, alg, signing_input, signature);
}

result<std::vector<std::uint8_t>> create_signature(const key& k, algorithm alg,
                                                   std::string_view signing_input) {
    if (!k.allows(alg)) {
        return errc::alg_key_mismatch;
    }
    if (!k.is_private()) {
        return errc::not_private_key;
    }
    const key_data& d = key_data::of(k);
    if (d.type == key_type::oct) {
        std::array<std::uint8_t, 64> mac{};
        std::size_t len = 0;
        if (!compute_hmac(d, alg, signing_input, mac, len)) {
            ossl::clear_errors();
            return errc::crypto_failure;
        }
        return std::vector<std::uint8_t>(mac.begin(), mac.begin() + static_cast<std::ptrdiff_t>(len));
    }
    auto ctx = init_ctx(d, alg, true);
    std::size_t len = 0;
    const auto* in = ossl::as_bytes(signing_input).data();
    if (!ctx || EVP_DigestSign(ctx.get(), nullptr, &len, in, signing_input.size()) != 1) {
        ossl::clear_errors();
        return errc::crypto_failure;
    }
    std::vector<std::uint8_t> sig(len);
    if (EVP_DigestSign(ctx.get(), sig.data(), &len, in, signing_input.size()) != 1) {
        ossl::clear_errors();
        return errc::crypto_failure;
    }
    sig.resize(len);
    if (d.type == key_type::ec) {
        std::vector<std::uint8_t> raw;
        if (!ecdsa_der_to_raw(sig, d.sig_bytes / 2, raw)) {
            return errc::crypto_failure;
        }
        return raw;
    }
    return sig;
}

}  // namespace tollgate::jose
