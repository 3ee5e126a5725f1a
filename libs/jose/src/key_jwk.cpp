// JWK import and export (RFC 7517 §4, RFC 7518 §6, RFC 8037 §2) and RFC 7638 thumbprints.
#include <boost/json/serialize.hpp>
#include <openssl/core_names.h>
#include <openssl/crypto.h>

#include <tollgate/common/secret.hpp>
#include <tollgate/jose/base64url.hpp>
#include <tollgate/jose/key.hpp>

#include "key_data.hpp"

namespace tollgate::jose {

using detail::key_data;

namespace {

namespace bj = boost::json;

/// Optional string member: nullptr if absent, error if present with another type.
bool get_string(const bj::object& o, std::string_view name, const bj::string*& out) {
    out = nullptr;
    const bj::value* v = o.if_contains(name);
    if (v == nullptr) {
        return true;
    }
    out = v->if_string();
    return out != nullptr;
}

/// Required base64url member decoded into bytes.
std::error_code get_b64(const bj::object& o, std::string_view name, std::vector<std::uint8_t>& out) {
    const bj::string* s = nullptr;
    if (!get_string(o, name, s) || s == nullptr) {
        return errc::bad_key;
    }
    auto bytes = base64url_decode(std::string_view(s->data(), s->size()));
    if (!bytes || bytes->empty()) {
        return errc::bad_key;
    }
    out = std::move(*bytes);
    return {};
}

struct secure_bytes {
    std::vector<std::uint8_t> v;
    ~secure_bytes() {
        if (!v.empty()) {
            OPENSSL_cleanse(v.data(), v.size());
        }
    }
};

ossl::pkey_ptr from_params(const char* type, OSSL_PARAM_BLD* bld, bool is_private) {
    ossl::params_ptr params(OSSL_PARAM_BLD_to_param(bld));
    ossl::pkey_ctx_ptr ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
    EVP_PKEY* raw = nullptr;
    if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
        EVP_PKEY_fromdata(ctx.get(), &raw, is_private ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY,
                          params.get()) != 1) {
        return nullptr;
    }
    ossl::pkey_ptr pkey(raw);
    // Validate what we imported: point on the curve, RSA private parts consistent.
    ossl::pkey_ctx_ptr check(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey.get(), nullptr));
    if (!check) {
        return nullptr;
    }
    const int ok = is_private ? EVP_PKEY_pairwise_check(check.get()) : EVP_PKEY_public_check(check.get());
    if (ok != 1) {
        return nullptr;
    }
    return pkey;
}

bool push_bn(OSSL_PARAM_BLD* bld, const char* name, const std::vector<std::uint8_t>& bytes,
             std::vector<ossl::bn_clear_ptr>& keep) {
    ossl::bn_clear_ptr bn(BN_bin2bn(bytes.data(), static_cast<int>(bytes.size()), nullptr));
    if (!bn || OSSL_PARAM_BLD_push_BN(bld, name, bn.get()) != 1) {
        return false;
    }
    keep.push_back(std::move(bn));
    return true;
}

std::error_code import_rsa(const bj::object& jwk, key_data& data) {
    std::vector<std::uint8_t> n;
    std::vector<std::uint8_t> e;
    if (auto ec = get_b64(jwk, "n", n)) {
        return ec;
    }
    if (auto ec = get_b64(jwk, "e", e)) {
        return ec;
    }
    if (jwk.contains("oth")) {
        return errc::unsupported_key;  // multi-prime RSA
    }
    const bool is_private = jwk.contains("d");
    ossl::param_bld_ptr bld(OSSL_PARAM_BLD_new());
    std::vector<ossl::bn_clear_ptr> keep;
    if (!bld || !push_bn(bld.get(), OSSL_PKEY_PARAM_RSA_N, n, keep) ||
        !push_bn(bld.get(), OSSL_PKEY_PARAM_RSA_E, e, keep)) {
        return errc::crypto_failure;
    }
    if (is_private) {
        static constexpr std::array<std::pair<std::string_view, const char*>, 6> members{{
            {"d", OSSL_PKEY_PARAM_RSA_D},
            {"p", OSSL_PKEY_PARAM_RSA_FACTOR1},
            {"q", OSSL_PKEY_PARAM_RSA_FACTOR2},
            {"dp", OSSL_PKEY_PARAM_RSA_EXPONENT1},
            {"dq", OSSL_PKEY_PARAM_RSA_EXPONENT2},
            {"qi", OSSL_PKEY_PARAM_RSA_COEFFICIENT1},
        }};
        for (const auto& [name, param] : members) {
            secure_bytes b;
            if (auto ec = get_b64(jwk, name, b.v)) {
                return ec;  // RFC 7518 §6.3.2: we require the CRT parameters with "d"
            }
            if (!push_bn(bld.get(), param, b.v, keep)) {
                return errc::crypto_failure;
            }
        }
    }
    // Refuse short moduli before OpenSSL does any work with them.
    std::size_t first = 0;
    while (first < n.size() && n[first] == 0) {
        ++first;
    }
    if ((n.size() - first) * 8 < 2048 - 7) {
        return errc::key_too_short;
    }
    auto pkey = from_params("RSA", bld.get(), is_private);
    if (!pkey) {
        return errc::bad_key;
    }
    return detail::adopt_pkey(data, std::move(pkey));
}

std::error_code import_ec(const bj::object& jwk, std::string_view crv, key_data& data) {
    const std::size_t size = detail::coordinate_bytes(crv);
    if (size == 0) {
        return errc::unsupported_key;
    }
    std::vector<std::uint8_t> x;
    std::vector<std::uint8_t> y;
    if (auto ec = get_b64(jwk, "x", x)) {
        return ec;
    }
    if (auto ec = get_b64(jwk, "y", y)) {
        return ec;
    }
    // RFC 7518 §6.2.1.2/.3: coordinates MUST be the full size of a coordinate for the curve.
    if (x.size() != size || y.size() != size) {
        return errc::bad_key;
    }
    std::vector<std::uint8_t> point;
    point.reserve(1 + 2 * size);
    point.push_back(0x04);
    point.insert(point.end(), x.begin(), x.end());
    point.insert(point.end(), y.begin(), y.end());
    const std::string group(detail::openssl_group(crv));
    ossl::param_bld_ptr bld(OSSL_PARAM_BLD_new());
    std::vector<ossl::bn_clear_ptr> keep;
    if (!bld ||
        OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, group.c_str(), 0) != 1 ||
        OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()) !=
            1) {
        return errc::crypto_failure;
    }
    const bool is_private = jwk.contains("d");
    secure_bytes d;
    if (is_private) {
        if (auto ec = get_b64(jwk, "d", d.v)) {
            return ec;
        }
        if (d.v.size() != size) {  // RFC 7518 §6.2.2.1: full size
            return errc::bad_key;
        }
        if (!push_bn(bld.get(), OSSL_PKEY_PARAM_PRIV_KEY, d.v, keep)) {
            return errc::crypto_failure;
        }
    }
    auto pkey = from_params("EC", bld.get(), is_private);
    if (!pkey) {
        return errc::bad_key;
    }
    return detail::adopt_pkey(data, std::move(pkey));
}

std::error_code import_okp(const bj::object& jwk, std::string_view crv, key_data& data) {
    if (crv != "Ed25519") {
        return errc::unsupported_key;  // X25519 is for key agreement; Ed448 not implemented
    }
    std::vector<std::uint8_t> x;
    if (auto ec = get_b64(jwk, "x", x)) {
        return ec;
    }
    if (x.size() != 32) {
        return errc::bad_key;
    }
    ossl::pkey_ptr pkey;
    if (jwk.contains("d")) {
        secure_bytes d;
        if (auto ec = get_b64(jwk, "d", d.v)) {
            return ec;
        }
        if (d.v.size() != 32) {
            return errc::bad_key;
        }
        pkey.reset(EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, d.v.data(), d.v.size()));
        std::array<std::uint8_t, 32> derived{};
        std::size_t len = derived.size();
        if (!pkey || EVP_PKEY_get_raw_public_key(pkey.get(), derived.data(), &len) != 1 || len != 32 ||
            CRYPTO_memcmp(derived.data(), x.data(), 32) != 0) {
            return errc::bad_key;  // "x" does not belong to "d"
        }
    } else {
        pkey.reset(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, x.data(), x.size()));
    }
    if (!pkey) {
        return errc::bad_key;
    }
    return detail::adopt_pkey(data, std::move(pkey));
}

std::error_code import_oct(const bj::object& jwk, key_data& data) {
    if (auto ec = get_b64(jwk, "k", data.secret)) {
        return ec;
    }
    if (data.secret.size() < 32) {
        return errc::key_too_short;  // shortest allowed HMAC key: 256 bits for HS256
    }
    data.type = key_type::oct;
    data.bits = static_cast<int>(data.secret.size() * 8);
    data.is_private = true;
    return {};
}

/// use, key_ops, alg, kid: RFC 7517 §4.2-4.5.
std::error_code read_metadata(const bj::object& jwk, key_data& data) {
    const bj::string* use = nullptr;
    const bj::string* alg = nullptr;
    const bj::string* kid = nullptr;
    if (!get_string(jwk, "use", use) || !get_string(jwk, "alg", alg) || !get_string(jwk, "kid", kid)) {
        return errc::bad_key;
    }
    if (use != nullptr) {
        if (*use != "sig") {
            return errc::unsupported_key;  // "enc" keys are not for signatures
        }
        data.use = "sig";
    }
    if (const bj::value* ops = jwk.if_contains("key_ops")) {
        const bj::array* list = ops->if_array();
        if (list == nullptr) {
            return errc::bad_key;
        }
        bool signing = false;
        for (const auto& op : *list) {
            const bj::string* s = op.if_string();
            if (s == nullptr) {
                return errc::bad_key;
            }
            signing = signing || *s == "verify" || *s == "sign";
        }
        if (!signing) {
            return errc::unsupported_key;
        }
    }
    if (alg != nullptr) {
        auto a = algorithm_from_name(std::string_view(alg->data(), alg->size()));
        if (!a) {
            return errc::unsupported_key;  // RSA-OAEP, none, ...
        }
        data.alg = a;
    }
    if (kid != nullptr) {
        data.kid.assign(kid->data(), kid->size());
    }
    return {};
}

std::string b64_bn(const EVP_PKEY* pkey, const char* name, std::size_t width = 0) {
    BIGNUM* bn = nullptr;
    if (EVP_PKEY_get_bn_param(pkey, name, &bn) != 1) {
        return {};
    }
    ossl::bn_clear_ptr owner(bn);
    auto bytes = ossl::bn_bytes(bn, width);
    std::string out = base64url_encode(bytes);
    OPENSSL_cleanse(bytes.data(), bytes.size());
    return out;
}

/// Public members in RFC 7638 order: e, kty, n / crv, kty, x, y / crv, kty, x / k, kty.
bj::object public_members(const key_data& d) {
    bj::object o;
    const EVP_PKEY* p = d.pkey.get();
    switch (d.type) {
        case key_type::rsa:
            o["e"] = b64_bn(p, OSSL_PKEY_PARAM_RSA_E);
            o["kty"] = "RSA";
            o["n"] = b64_bn(p, OSSL_PKEY_PARAM_RSA_N);
            break;
        case key_type::ec: {
            const std::size_t size = detail::coordinate_bytes(d.curve);
            o["crv"] = d.curve;
            o["kty"] = "EC";
            o["x"] = b64_bn(p, OSSL_PKEY_PARAM_EC_PUB_X, size);
            o["y"] = b64_bn(p, OSSL_PKEY_PARAM_EC_PUB_Y, size);
            break;
        }
        case key_type::okp: {
            std::array<std::uint8_t, 32> x{};
            std::size_t len = x.size();
            EVP_PKEY_get_raw_public_key(p, x.data(), &len);
            o["crv"] = "Ed25519";
            o["kty"] = "OKP";
            o["x"] = base64url_encode(std::span<const std::uint8_t>(x.data(), len));
            break;
        }
        case key_type::oct:
            o["k"] = base64url_encode(d.secret);
            o["kty"] = "oct";
            break;
    }
    return o;
}

void add_metadata(const key_data& d, bj::object& o) {
    if (!d.kid.empty()) {
        o["kid"] = d.kid;
    }
    if (!d.use.empty()) {
        o["use"] = d.use;
    }
    if (d.alg) {
        o["alg"] = algorithm_name(*d.alg);
    }
}

}  // namespace

result<key> key::from_jwk(std::string_view json, const json_limits& limits) {
    auto object = parse_json_object(json, limits);
    if (!object) {
        return object.error();
    }
    return from_jwk(*object);
}

result<key> key::from_jwk(const boost::json::object& jwk) {
    try {
        const bj::string* kty = nullptr;
        const bj::string* crv = nullptr;
        if (!get_string(jwk, "kty", kty) || kty == nullptr || !get_string(jwk, "crv", crv)) {
            return errc::bad_key;
        }
        auto data = std::make_shared<key_data>();
        if (auto ec = read_metadata(jwk, *data)) {
            return ec;
        }
        const std::string_view curve =
            crv == nullptr ? std::string_view() : std::string_view(crv->data(), crv->size());
        std::error_code ec;
        if (*kty == "RSA") {
            ec = import_rsa(jwk, *data);
        } else if (*kty == "EC") {
            ec = import_ec(jwk, curve, *data);
        } else if (*kty == "OKP") {
            ec = import_okp(jwk, curve, *data);
        } else if (*kty == "oct") {
            ec = import_oct(jwk, *data);
        } else {
            ec = errc::unsupported_key;
        }
        ossl::clear_errors();
        if (ec) {
            return ec;
        }
        if (data->type == key_type::oct && data->alg) {
            data->sig_bytes = hash_size(*data->alg);
        }
        const auto pinned = data->alg;
        data->alg.reset();
        key candidate = key_data::make(data);
        if (pinned && !candidate.allows(*pinned)) {
            return errc::alg_key_mismatch;  // e.g. "alg":"HS256" on an RSA key, ES384 on P-256
        }
        data->alg = pinned;
        return candidate;
    } catch (const std::exception&) {
        ossl::clear_errors();
        return errc::bad_key;
    }
}

result<boost::json::object> key::public_jwk() const {
    if (data_->type == key_type::oct) {
        return errc::bad_key;
    }
    bj::object o = public_members(*data_);
    add_metadata(*data_, o);
    return o;
}

result<std::string> key::to_public_jwk() const {
    auto o = public_jwk();
    if (!o) {
        return o.error();
    }
    return bj::serialize(*o);
}

result<std::string> key::to_private_jwk() const {
    if (!data_->is_private) {
        return errc::not_private_key;
    }
    bj::object o = public_members(*data_);
    const EVP_PKEY* p = data_->pkey.get();
    switch (data_->type) {
        case key_type::rsa:
            o["d"] = b64_bn(p, OSSL_PKEY_PARAM_RSA_D);
            o["p"] = b64_bn(p, OSSL_PKEY_PARAM_RSA_FACTOR1);
            o["q"] = b64_bn(p, OSSL_PKEY_PARAM_RSA_FACTOR2);
            o["dp"] = b64_bn(p, OSSL_PKEY_PARAM_RSA_EXPONENT1);
            o["dq"] = b64_bn(p, OSSL_PKEY_PARAM_RSA_EXPONENT2);
            o["qi"] = b64_bn(p, OSSL_PKEY_PARAM_RSA_COEFFICIENT1);
            break;
        case key_type::ec:
            o["d"] = b64_bn(p, OSSL_PKEY_PARAM_PRIV_KEY, detail::coordinate_bytes(data_->curve));
            break;
        case key_type::okp: {
            secure_bytes d;
            d.v.resize(32);
            std::size_t len = d.v.size();
            if (EVP_PKEY_get_raw_private_key(p, d.v.data(), &len) != 1) {
                return errc::crypto_failure;
            }
            o["d"] = base64url_encode(std::span<const std::uint8_t>(d.v.data(), len));
            break;
        }
        case key_type::oct:
            break;
    }
    add_metadata(*data_, o);
    return bj::serialize(o);
}

std::string key::thumbprint() const {
    // RFC 7638 §3: required members only, lexicographic order, no whitespace. public_members()
    // builds them in that order and Boost.JSON serializes without whitespace.
    const std::string canonical = bj::serialize(public_members(*data_));
    return base64url_encode(common::sha256(canonical));
}

}  // namespace tollgate::jose
