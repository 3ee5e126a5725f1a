// Compact JWS: strict parsing with header rules (RFC 7515 §4, §5.2, §7.1; RFC 8725 §3) and signing.
#include <array>

#include <boost/json/serialize.hpp>

#include <tollgate/jose/base64url.hpp>
#include <tollgate/jose/json.hpp>
#include <tollgate/jose/jws.hpp>

namespace tollgate::jose {
namespace {

namespace bj = boost::json;

/// Splits into exactly three segments, scanning once and stopping at the third '.'.
std::error_code split(std::string_view token, std::array<std::string_view, 3>& parts) {
    const std::size_t d1 = token.find('.');
    if (d1 == std::string_view::npos) {
        return errc::malformed_token;
    }
    const std::size_t d2 = token.find('.', d1 + 1);
    if (d2 == std::string_view::npos) {
        return errc::malformed_token;
    }
    if (token.find('.', d2 + 1) != std::string_view::npos) {
        return errc::too_many_segments;
    }
    parts = {token.substr(0, d1), token.substr(d1 + 1, d2 - d1 - 1), token.substr(d2 + 1)};
    // An empty header or signature is never valid (an unsecured JWS has an empty signature).
    if (parts[0].empty() || parts[2].empty()) {
        return errc::malformed_token;
    }
    return {};
}

/// The header members we interpret, found in one pass over the header.
struct header_members {
    const bj::value* alg = nullptr;
    const bj::value* kid = nullptr;
    const bj::value* typ = nullptr;
    const bj::value* cty = nullptr;
    bool crit = false;      ///< crit or b64
    bool embedded = false;  ///< jwk, jku, x5u, x5c
    bool jwe = false;       ///< enc, zip, epk, p2c, p2s
};

header_members scan(const bj::object& header) noexcept {
    header_members m;
    for (const auto& member : header) {
        const std::string_view name(member.key());
        if (name == "alg") {
            m.alg = &member.value();
        } else if (name == "kid") {
            m.kid = &member.value();
        } else if (name == "typ") {
            m.typ = &member.value();
        } else if (name == "cty") {
            m.cty = &member.value();
        } else if (name == "crit" || name == "b64") {
            m.crit = true;
        } else if (name == "jwk" || name == "jku" || name == "x5u" || name == "x5c") {
            m.embedded = true;
        } else if (name == "enc" || name == "zip" || name == "epk" || name == "p2c" || name == "p2s") {
            m.jwe = true;
        }
    }
    return m;
}

/// Optional string member; error if present and not a string.
bool optional_string(const bj::value* v, std::optional<std::string>& out) {
    if (v == nullptr) {
        return true;
    }
    const bj::string* s = v->if_string();
    if (s == nullptr) {
        return false;
    }
    out.emplace(s->data(), s->size());
    return true;
}

std::error_code check_header(const bj::object& header, parsed_jws& out) {
    const header_members m = scan(header);
    if (m.alg == nullptr || !m.alg->is_string()) {
        return errc::missing_alg;
    }
    const std::string_view name(m.alg->get_string());
    if (is_none_spelling(name)) {
        return errc::alg_none;
    }
    auto a = algorithm_from_name(name);
    if (!a) {
        return errc::unknown_alg;
    }
    out.alg = *a;
    // RFC 7515 §4.1.11: we understand no extension, so any crit (even empty, which §4.1.11 forbids)
    // is a rejection. RFC 7797 "b64" is only meaningful under crit, so it is refused too.
    if (m.crit) {
        return errc::crit_unsupported;
    }
    if (m.embedded) {
        return errc::embedded_key_rejected;  // RFC 8725 §3.10: never a source of keys
    }
    if (m.jwe) {
        return errc::unsupported_header;
    }
    std::optional<std::string> cty;
    if (!optional_string(m.kid, out.kid) || !optional_string(m.typ, out.typ) ||
        !optional_string(m.cty, cty)) {
        return errc::bad_header_type;
    }
    return {};
}

}  // namespace

result<parsed_jws> parse_compact(std::string_view token, const token_limits& limits,
                                 boost::json::storage_ptr storage) {
    if (token.size() > limits.max_token_bytes) {
        return errc::token_too_large;
    }
    std::array<std::string_view, 3> parts;
    if (auto ec = split(token, parts)) {
        return ec;
    }
    // Every segment must be canonical base64url, the payload included, before anything is used.
    for (char c : parts[1]) {
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
              c == '_')) {
            return errc::bad_base64;
        }
    }
    if (parts[1].size() % 4 == 1) {
        return errc::bad_base64;
    }
    std::string header_json;
    if (!base64url_decode_append(parts[0], header_json)) {
        return errc::bad_base64;
    }
    auto sig = base64url_decode(parts[2]);
    if (!sig) {
        return sig.error();
    }
    auto header = parse_json_object(header_json, limits.header_json, std::move(storage));
    if (!header) {
        return header.error();
    }
    // Move-construct (not assign) so the header keeps its memory resource instead of being copied.
    parsed_jws out{.header = std::move(*header),
                   .alg = {},
                   .kid = {},
                   .typ = {},
                   .signature = std::move(*sig),
                   .token = {}};
    if (auto ec = check_header(out.header, out)) {
        return ec;
    }
    out.token.assign(token);
    out.signing_input_size = parts[0].size() + 1 + parts[1].size();
    out.payload_offset = parts[0].size() + 1;
    return out;
}

result<std::string> sign(const key& k, algorithm alg, std::string_view payload, const sign_options& options) {
    bj::object header;
    header["alg"] = algorithm_name(alg);
    if (options.typ) {
        header["typ"] = *options.typ;
    }
    if (options.include_kid && !k.kid().empty()) {
        header["kid"] = k.kid();
    }
    for (const auto& member : options.extra_header) {
        const std::string_view name(member.key());
        if (name == "crit" || name == "b64" || name == "jwk" || name == "jku" || name == "x5u" ||
            name == "x5c") {
            return errc::bad_header_type;
        }
        if (name != "alg" && name != "kid" && name != "typ") {
            header[member.key()] = member.value();
        }
    }
    std::string token = base64url_encode(bj::serialize(header));
    token.push_back('.');
    token += base64url_encode(payload);
    auto signature = create_signature(k, alg, token);
    if (!signature) {
        return signature.error();
    }
    token.push_back('.');
    token += base64url_encode(*signature);
    return token;
}

result<std::string> sign(const key& k, algorithm alg, const boost::json::object& claims,
                         const sign_options& options) {
    return sign(k, alg, bj::serialize(claims), options);
}

std::optional<boost::json::object> unverified_claims(std::string_view token, const token_limits& limits) {
    auto parsed = parse_compact(token, limits);
    if (!parsed) {
        return std::nullopt;
    }
    std::string json;
    if (!base64url_decode_append(parsed->payload_b64(), json)) {
        return std::nullopt;
    }
    auto claims = parse_json_object(json, limits.claims_json);
    if (!claims) {
        return std::nullopt;
    }
    return std::move(*claims);
}

}  // namespace tollgate::jose
