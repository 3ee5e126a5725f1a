// Raw JWS signatures (RFC 7518 §3, RFC 8037 §3.1) on OpenSSL 3 EVP.
// Signing makes its own contexts per call; verification reuses per-thread contexts (see
// context_cache), so one key serves many threads at once without locks. Digests and the HMAC
// implementation are fetched once per process (ossl::digest_for).
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

/// Per-thread cache of verification contexts, keyed by (key id, algorithm).
///
/// Design: creating an OpenSSL 3 verification context (EVP_PKEY_CTX_new_from_pkey + *_init, or
/// EVP_DigestVerifyInit) costs ~10-15 us of algorithm fetching and setup, a third of an RSA-2048
/// verification. Initialized contexts are reusable, so each thread keeps a few, round-robin
/// evicted. A context holds its own reference to the key's EVP_PKEY, and keys are named by a
/// never-reused id, so a cached context can never verify with the wrong key. A context that saw a
/// failure is dropped rather than reused. No locks: the cache is thread_local.
struct cached_context {
    std::uint64_t key_id = 0;
    algorithm alg{};
    ossl::pkey_ctx_ptr pkey_ctx;  ///< RSA / ECDSA: EVP_PKEY_verify over our digest
    ossl::md_ctx_ptr md_ctx;      ///< Ed25519: EVP_DigestVerify one-shot
    ossl::mac_ctx_ptr mac_ctx;    ///< HMAC, keyed; re-initialized per use

    void reset() noexcept {
        key_id = 0;
        pkey_ctx.reset();
        md_ctx.reset();
        mac_ctx.reset();
    }
};

class context_cache {
  public:
    /// The cached context for (d, alg), created if needed; nullptr if OpenSSL fails.
    cached_context* get(const key_data& d, algorithm alg) {
        for (auto& e : entries_) {
            if (e.key_id == d.id && e.alg == alg) {
                return &e;
            }
        }
        cached_context& slot = entries_[next_];
        next_ = (next_ + 1) % entries_.size();
        slot.reset();
        if (!init(slot, d, alg)) {
            slot.reset();
            ossl::clear_errors();
            return nullptr;
        }
        slot.key_id = d.id;
        slot.alg = alg;
        return &slot;
    }

  private:
    static bool init(cached_context& c, const key_data& d, algorithm alg) {
        const EVP_MD* md = ossl::digest_for(static_cast<int>(hash_size(alg)));
        switch (d.type) {
            case key_type::oct: {
                c.mac_ctx.reset(EVP_MAC_CTX_new(hmac_impl()));
                const std::string_view name = digest_name(hash_size(alg));
                std::array<OSSL_PARAM, 2> params{
                    OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, const_cast<char*>(name.data()),
                                                     name.size()),
                    OSSL_PARAM_construct_end()};
                return c.mac_ctx && !d.secret.empty() &&
                       EVP_MAC_init(c.mac_ctx.get(), d.secret.data(), d.secret.size(), params.data()) == 1;
            }
            case key_type::okp: {
                c.md_ctx.reset(EVP_MD_CTX_new());
                return c.md_ctx &&
                       EVP_DigestVerifyInit(c.md_ctx.get(), nullptr, nullptr, nullptr, d.pkey.get()) == 1;
            }
            case key_type::rsa:
            case key_type::ec: {
                c.pkey_ctx.reset(EVP_PKEY_CTX_new_from_pkey(nullptr, d.pkey.get(), nullptr));
                EVP_PKEY_CTX* p = c.pkey_ctx.get();
                if (p == nullptr || EVP_PKEY_verify_init(p) != 1) {
                    return false;
                }
                if (is_pss(alg)) {
                    if (EVP_PKEY_CTX_set_rsa_padding(p, RSA_PKCS1_PSS_PADDING) != 1 ||
                        EVP_PKEY_CTX_set_rsa_pss_saltlen(p, RSA_PSS_SALTLEN_DIGEST) != 1 ||
                        EVP_PKEY_CTX_set_rsa_mgf1_md(p, md) != 1) {
                        return false;
                    }
                } else if (d.type == key_type::rsa &&
                           EVP_PKEY_CTX_set_rsa_padding(p, RSA_PKCS1_PADDING) != 1) {
                    return false;
                }
                return EVP_PKEY_CTX_set_signature_md(p, md) == 1;
            }
        }
        return false;
    }

    std::array<cached_context, 16> entries_;
    std::size_t next_ = 0;
};

context_cache& thread_cache() {
    thread_local context_cache cache;
    return cache;
}

std::error_code verify_hmac(const key_data& d, algorithm alg, std::string_view input,
                            std::span<const std::uint8_t> signature) {
    cached_context* c = thread_cache().get(d, alg);
    std::array<std::uint8_t, 64> mac{};
    std::size_t len = 0;
    // EVP_MAC_init without a key restarts the MAC with the key already set.
    if (c == nullptr || EVP_MAC_init(c->mac_ctx.get(), nullptr, 0, nullptr) != 1 ||
        EVP_MAC_update(c->mac_ctx.get(), ossl::as_bytes(input).data(), input.size()) != 1 ||
        EVP_MAC_final(c->mac_ctx.get(), mac.data(), &len, mac.size()) != 1 || len != hash_size(alg)) {
        if (c != nullptr) {
            c->reset();
        }
        ossl::clear_errors();
        return errc::crypto_failure;
    }
    if (signature.size() != len || CRYPTO_memcmp(mac.data(), signature.data(), len) != 0) {
        return errc::bad_signature;
    }
    return {};
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
    cached_context* c = thread_cache().get(d, alg);
    if (c == nullptr) {
        return errc::crypto_failure;
    }
    int ok = 0;
    const auto* in = ossl::as_bytes(input).data();
    if (d.type == key_type::okp) {
        ok = EVP_DigestVerify(c->md_ctx.get(), signature.data(), signature.size(), in, input.size());
    } else {
        std::array<std::uint8_t, EVP_MAX_MD_SIZE> digest{};
        unsigned int digest_len = 0;
        const EVP_MD* md = ossl::digest_for(static_cast<int>(hash_size(alg)));
        if (EVP_Digest(in, input.size(), digest.data(), &digest_len, md, nullptr) != 1) {
            c->reset();
            ossl::clear_errors();
            return errc::crypto_failure;
        }
        ok =
            EVP_PKEY_verify(c->pkey_ctx.get(), signature.data(), signature.size(), digest.data(), digest_len);
    }
    if (ok != 1) {  // 0 is "bad signature", negative is an error: both are a rejection
        c->reset();
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
        return verify_hmac(d, alg, signing_input, signature);
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
