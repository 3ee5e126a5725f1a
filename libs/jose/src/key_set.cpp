// JWK Set parsing (RFC 7517 §5) and lookup.
#include <boost/json/serialize.hpp>

#include <tollgate/jose/key_set.hpp>

namespace tollgate::jose {

result<key_set> key_set::from_json(std::string_view jwks, const jwks_limits& limits) {
    auto doc = parse_json_object(jwks, limits.json);
    if (!doc) {
        return doc.error();
    }
    const boost::json::value* keys = doc->if_contains("keys");
    if (keys == nullptr || !keys->is_array()) {
        return errc::bad_key;
    }
    const auto& list = keys->get_array();
    if (list.size() > limits.max_keys) {
        return errc::too_many_keys;
    }
    key_set set;
    set.keys_.reserve(list.size());
    for (const auto& entry : list) {
        const auto* jwk = entry.if_object();
        if (jwk == nullptr) {
            return errc::bad_key;
        }
        // RFC 7517 §5: ignore keys we cannot use (unknown kty, enc keys, short keys, ...).
        auto k = key::from_jwk(*jwk);
        if (k) {
            set.keys_.push_back(std::move(*k));
        } else {
            ++set.skipped_;
        }
    }
    return set;
}

std::size_t key_set::remove(std::string_view kid) {
    return std::erase_if(keys_, [kid](const key& k) { return k.kid() == kid; });
}

const key* key_set::find(std::string_view kid, algorithm alg) const noexcept {
    for (const auto& k : keys_) {
        if (k.kid() == kid && k.allows(alg)) {
            return &k;
        }
    }
    return nullptr;
}

std::vector<const key*> key_set::candidates(algorithm alg) const {
    std::vector<const key*> out;
    for (const auto& k : keys_) {
        if (k.allows(alg)) {
            out.push_back(&k);
        }
    }
    return out;
}

bool key_set::has_kid(std::string_view kid) const noexcept {
    for (const auto& k : keys_) {
        if (k.kid() == kid) {
            return true;
        }
    }
    return false;
}

std::string key_set::to_json() const {
    boost::json::array list;
    for (const auto& k : keys_) {
        if (auto jwk = k.public_jwk()) {
            list.push_back(std::move(*jwk));
        }
    }
    boost::json::object doc;
    doc["keys"] = std::move(list);
    return boost::json::serialize(doc);
}

}  // namespace tollgate::jose
