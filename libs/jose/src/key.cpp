// tollgate::jose::key: construction from PEM, certificates, secrets and generation; accessors;
// PEM export; thumbprints. JWK import/export lives in key_jwk.cpp.
#include <array>
#include <atomic>
#include <stdexcept>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/decoder.h>
#include <openssl/ec.h>
#include <openssl/pem.h>

#include <tollgate/common/secret.hpp>
#include <tollgate/jose/base64url.hpp>
#include <tollgate/jose/key.hpp>

#include "key_data.hpp"

namespace tollgate::jose {
namespace detail {

std::uint64_t next_key_id() noexcept {
    static std::atomic<std::uint64_t> counter{0};
    return ++counter;
}

key_data::~key_data() {
    if (!secret.empty()) {
        OPENSSL_cleanse(secret.data(), secret.size());
    }
}

std::string_view openssl_group(std::string_view jose_curve) noexcept {
    if (jose_curve == "P-256") {
        return "prime256v1";
    }
    if (jose_curve == "P-384") {
        return "secp384r1";
    }
    if (jose_curve == "P-521") {
        return "secp521r1";
    }
    return {};
}

std::size_t coordinate_bytes(std::string_view jose_curve) noexcept {
    if (jose_curve == "P-256") {
        return 32;
    }
    if (jose_curve == "P-384") {
        return 48;
    }
    if (jose_curve == "P-521") {
        return 66;
    }
    return 0;
}

std::optional<algorithm> ec_algorithm_for(std::string_view jose_curve) noexcept {
    if (jose_curve == "P-256") {
        return algorithm::es256;
    }
    if (jose_curve == "P-384") {
        return algorithm::es384;
    }
    if (jose_curve == "P-521") {
        return algorithm::es512;
    }
    return std::nullopt;
}

namespace {

std::vector<std::uint8_t> order_of(int nid, std::size_t width) {
    std::unique_ptr<EC_GROUP, ossl::deleter<EC_GROUP_free>> group(EC_GROUP_new_by_curve_name(nid));
    if (!group) {
        throw std::runtime_error("EC group unavailable");
    }
    return ossl::bn_bytes(EC_GROUP_get0_order(group.get()), width);
}

std::string_view jose_curve_of(std::string_view group) noexcept {
    if (group == "prime256v1" || group == "P-256" || group == "secp256r1") {
        return "P-256";
    }
    if (group == "secp384r1" || group == "P-384") {
        return "P-384";
    }
    if (group == "secp521r1" || group == "P-521") {
        return "P-521";
    }
    return {};
}

bool has_bn_param(const EVP_PKEY* pkey, const char* name) {
    BIGNUM* bn = nullptr;
    const bool ok = EVP_PKEY_get_bn_param(pkey, name, &bn) == 1;
    BN_clear_free(bn);
    return ok;
}

}  // namespace

std::span<const std::uint8_t> curve_order(std::size_t coordinate_bytes) noexcept {
    static const std::vector<std::uint8_t> p256 = order_of(NID_X9_62_prime256v1, 32);
    static const std::vector<std::uint8_t> p384 = order_of(NID_secp384r1, 48);
    static const std::vector<std::uint8_t> p521 = order_of(NID_secp521r1, 66);
    switch (coordinate_bytes) {
        case 32:
            return p256;
        case 48:
            return p384;
        case 66:
            return p521;
        default:
            return {};
    }
}

std::error_code adopt_pkey(key_data& data, ossl::pkey_ptr pkey) {
    EVP_PKEY* p = pkey.get();
    switch (EVP_PKEY_get_base_id(p)) {
        case EVP_PKEY_RSA: {
            data.type = key_type::rsa;
            data.bits = EVP_PKEY_get_bits(p);
            if (data.bits < 2048) {
                return errc::key_too_short;
            }
            data.sig_bytes = static_cast<std::size_t>(EVP_PKEY_get_size(p));
            data.is_private = has_bn_param(p, OSSL_PKEY_PARAM_RSA_D);
            break;
        }
        case EVP_PKEY_EC: {
            std::array<char, 64> group{};
            std::size_t len = 0;
            if (EVP_PKEY_get_utf8_string_param(p, OSSL_PKEY_PARAM_GROUP_NAME, group.data(), group.size(),
                                               &len) != 1) {
                return errc::unsupported_key;  // explicit curve parameters: never accepted
            }
            data.curve = std::string(jose_curve_of(std::string_view(group.data(), len)));
            if (data.curve.empty()) {
                return errc::unsupported_key;
            }
            data.type = key_type::ec;
            data.bits = EVP_PKEY_get_bits(p);
            data.sig_bytes = 2 * coordinate_bytes(data.curve);
            data.is_private = has_bn_param(p, OSSL_PKEY_PARAM_PRIV_KEY);
            break;
        }
        case EVP_PKEY_ED25519: {
            data.type = key_type::okp;
            data.curve = "Ed25519";
            data.bits = 255;
            data.sig_bytes = 64;
            std::size_t len = 0;
            data.is_private = EVP_PKEY_get_raw_private_key(p, nullptr, &len) == 1 && len == 32;
            break;
        }
        default:
            return errc::unsupported_key;  // RSA-PSS-only keys, DSA, X25519, Ed448, ...
    }
    data.pkey = std::move(pkey);
    ossl::clear_errors();
    return {};
}

}  // namespace detail

using detail::key_data;

namespace {

bool alg_fits(const key_data& d, algorithm alg) noexcept {
    if (required_key_type(alg) != d.type) {
        return false;
    }
    switch (d.type) {
        case key_type::oct:
            return d.secret.size() >= hash_size(alg);
        case key_type::ec:
            return detail::ec_algorithm_for(d.curve) == alg;
        case key_type::okp:
            return d.curve == "Ed25519";
        case key_type::rsa:
            return d.bits >= 2048;
    }
    return false;
}

result<key> finish(std::shared_ptr<key_data> data, const key_options& options) {
    data->kid = options.kid;
    data->use = options.use;
    if (!data->use.empty() && data->use != "sig") {
        return errc::unsupported_key;
    }
    if (options.alg) {
        if (!alg_fits(*data, *options.alg)) {
            return errc::alg_key_mismatch;
        }
        data->alg = options.alg;
    }
    return key_data::make(std::move(data));
}

ossl::pkey_ptr decode_pem(std::string_view pem) {
    EVP_PKEY* raw = nullptr;
    std::unique_ptr<OSSL_DECODER_CTX, ossl::deleter<OSSL_DECODER_CTX_free>> ctx(
        OSSL_DECODER_CTX_new_for_pkey(&raw, "PEM", nullptr, nullptr, 0, nullptr, nullptr));
    if (!ctx) {
        return nullptr;
    }
    // An empty passphrase: encrypted keys fail instead of prompting on a terminal.
    OSSL_DECODER_CTX_set_passphrase(ctx.get(), reinterpret_cast<const unsigned char*>(""), 0);
    const auto* data = reinterpret_cast<const unsigned char*>(pem.data());
    std::size_t len = pem.size();
    if (OSSL_DECODER_from_data(ctx.get(), &data, &len) != 1) {
        EVP_PKEY_free(raw);
        return nullptr;
    }
    return ossl::pkey_ptr(raw);
}

ossl::x509_ptr decode_certificate(std::span<const std::uint8_t> input) {
    const std::string_view text = ossl::as_chars(input);
    if (text.find("-----BEGIN CERTIFICATE-----") != std::string_view::npos) {
        ossl::bio_ptr bio(BIO_new_mem_buf(input.data(), static_cast<int>(input.size())));
        if (!bio) {
            return nullptr;
        }
        return ossl::x509_ptr(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    }
    const unsigned char* p = input.data();
    ossl::x509_ptr cert(d2i_X509(nullptr, &p, static_cast<long>(input.size())));
    if (cert && p != input.data() + input.size()) {
        return nullptr;  // trailing bytes after the DER certificate
    }
    return cert;
}

result<std::string> certificate_thumbprint(X509* cert) {
    unsigned char* der = nullptr;
    const int len = i2d_X509(cert, &der);
    if (len <= 0) {
        return errc::bad_key;
    }
    const auto digest = common::sha256(std::span<const std::uint8_t>(der, static_cast<std::size_t>(len)));
    OPENSSL_free(der);
    return base64url_encode(digest);
}

std::string bio_text(BIO* bio) {
    BUF_MEM* mem = nullptr;
    BIO_get_mem_ptr(bio, &mem);
    return mem == nullptr ? std::string() : std::string(mem->data, mem->length);
}

}  // namespace

result<key> key::from_pem(std::string_view pem, const key_options& options) {
    if (pem.size() > 64 * 1024 || pem.find("ENCRYPTED") != std::string_view::npos) {
        ossl::clear_errors();
        return errc::bad_key;
    }
    auto pkey = decode_pem(pem);
    ossl::clear_errors();
    if (!pkey) {
        return errc::bad_key;
    }
    auto data = std::make_shared<key_data>();
    if (auto ec = detail::adopt_pkey(*data, std::move(pkey))) {
        return ec;
    }
    return finish(std::move(data), options);
}

result<key> key::from_certificate(std::span<const std::uint8_t> pem_or_der, const key_options& options) {
    if (pem_or_der.size() > 64 * 1024) {
        return errc::bad_key;
    }
    auto cert = decode_certificate(pem_or_der);
    ossl::clear_errors();
    if (!cert) {
        return errc::bad_key;
    }
    ossl::pkey_ptr pkey(X509_get_pubkey(cert.get()));
    if (!pkey) {
        ossl::clear_errors();
        return errc::bad_key;
    }
    auto data = std::make_shared<key_data>();
    if (auto ec = detail::adopt_pkey(*data, std::move(pkey))) {
        return ec;
    }
    auto thumb = certificate_thumbprint(cert.get());
    if (!thumb) {
        return thumb.error();
    }
    data->x5t_s256 = std::move(*thumb);
    return finish(std::move(data), options);
}

result<key> key::hmac(std::span<const std::uint8_t> secret, algorithm alg, std::string kid) {
    if (required_key_type(alg) != key_type::oct) {
        return errc::alg_key_mismatch;
    }
    if (secret.empty() || secret.size() < hash_size(alg)) {
        return errc::key_too_short;
    }
    auto data = std::make_shared<key_data>();
    data->type = key_type::oct;
    data->secret.assign(secret.begin(), secret.end());
    data->bits = static_cast<int>(secret.size() * 8);
    data->sig_bytes = hash_size(alg);
    data->is_private = true;
    return finish(std::move(data), key_options{.kid = std::move(kid), .alg = alg, .use = {}});
}

key key::generate(algorithm alg, std::string kid, int rsa_bits) {
    auto data = std::make_shared<key_data>();
    if (required_key_type(alg) == key_type::oct) {
        auto secret = common::random_bytes(hash_size(alg) * 2);
        auto k = hmac(secret, alg, std::move(kid));
        OPENSSL_cleanse(secret.data(), secret.size());
        return std::move(k).value();
    }
    EVP_PKEY* raw = nullptr;
    switch (required_key_type(alg)) {
        case key_type::rsa:
            if (rsa_bits < 2048) {
                throw std::invalid_argument("RSA keys must have at least 2048 bits");
            }
            raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<std::size_t>(rsa_bits));
            break;
        case key_type::ec:
            raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC",
                                    alg == algorithm::es256   ? "P-256"
                                    : alg == algorithm::es384 ? "P-384"
                                                              : "P-521");
            break;
        case key_type::okp:
            raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
            break;
        case key_type::oct:
            break;
    }
    ossl::clear_errors();
    if (raw == nullptr) {
        throw std::runtime_error("key generation failed");
    }
    if (detail::adopt_pkey(*data, ossl::pkey_ptr(raw))) {
        throw std::runtime_error("generated key is unusable");
    }
    auto k = finish(std::move(data), key_options{.kid = std::move(kid), .alg = alg, .use = "sig"});
    if (!k) {
        throw std::runtime_error("generated key does not fit its algorithm");
    }
    return std::move(k).value();
}

key_type key::type() const noexcept {
    return data_->type;
}
const std::optional<algorithm>& key::alg() const noexcept {
    return data_->alg;
}
const std::string& key::kid() const noexcept {
    return data_->kid;
}
const std::string& key::use() const noexcept {
    return data_->use;
}
bool key::is_private() const noexcept {
    return data_->is_private;
}
int key::bits() const noexcept {
    return data_->bits;
}
std::string_view key::curve() const noexcept {
    return data_->curve;
}
const std::string& key::certificate_x5t_s256() const noexcept {
    return data_->x5t_s256;
}
evp_pkey_st* key::native_handle() const noexcept {
    return data_->pkey.get();
}
std::span<const std::uint8_t> key::secret() const noexcept {
    return data_->secret;
}

bool key::allows(algorithm alg) const noexcept {
    if (data_->alg && *data_->alg != alg) {
        return false;
    }
    return alg_fits(*data_, alg);
}

key key::with_options(const key_options& options) const {
    auto data = std::make_shared<key_data>();
    data->type = data_->type;
    data->curve = data_->curve;
    data->is_private = data_->is_private;
    data->bits = data_->bits;
    data->sig_bytes = data_->sig_bytes;
    data->secret = data_->secret;
    data->x5t_s256 = data_->x5t_s256;
    if (data_->pkey) {
        EVP_PKEY_up_ref(data_->pkey.get());
        data->pkey.reset(data_->pkey.get());
    }
    auto k = finish(std::move(data), options);
    if (!k) {
        throw std::invalid_argument("key options do not fit the key");
    }
    return std::move(k).value();
}

result<std::string> key::public_pem() const {
    if (!data_->pkey) {
        return errc::bad_key;
    }
    ossl::bio_ptr bio(BIO_new(BIO_s_mem()));
    if (!bio || PEM_write_bio_PUBKEY(bio.get(), data_->pkey.get()) != 1) {
        ossl::clear_errors();
        return errc::crypto_failure;
    }
    return bio_text(bio.get());
}

result<std::string> key::private_pem() const {
    if (!data_->pkey) {
        return errc::bad_key;
    }
    if (!data_->is_private) {
        return errc::not_private_key;
    }
    ossl::bio_ptr bio(BIO_new(BIO_s_mem()));
    if (!bio ||
        PEM_write_bio_PrivateKey(bio.get(), data_->pkey.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
        ossl::clear_errors();
        return errc::crypto_failure;
    }
    return bio_text(bio.get());
}

result<std::string> x5t_s256(std::span<const std::uint8_t> certificate_pem_or_der) {
    if (certificate_pem_or_der.size() > 64 * 1024) {
        return errc::bad_key;
    }
    auto cert = decode_certificate(certificate_pem_or_der);
    ossl::clear_errors();
    if (!cert) {
        return errc::bad_key;
    }
    return certificate_thumbprint(cert.get());
}

}  // namespace tollgate::jose
