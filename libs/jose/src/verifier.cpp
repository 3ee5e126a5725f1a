// JWT validation: verifier::verify() and the claims rules (RFC 7519 §4.1, RFC 8725 §3, RFC 9068 §4).
#include <algorithm>
#include <cmath>

#include <boost/json/monotonic_resource.hpp>

#include <tollgate/jose/base64url.hpp>
#include <tollgate/jose/jwt.hpp>

namespace tollgate::jose {
namespace {

namespace bj = boost::json;

constexpr std::int64_t max_numeric_date = std::int64_t{1} << 53;

/// The registered claims we interpret, found in one pass over the claims object.
struct registered {
    const bj::value* iss = nullptr;
    const bj::value* aud = nullptr;
    const bj::value* exp = nullptr;
    const bj::value* nbf = nullptr;
    const bj::value* iat = nullptr;
    const bj::value* scope = nullptr;
    const bj::value* cnf = nullptr;
    bool strings_ok = true;  ///< sub, jti, client_id (and iss) are strings when present
};

registered scan(const bj::object& claims) noexcept {
    registered r;
    for (const auto& member : claims) {
        const std::string_view name(member.key());
        const bj::value* v = &member.value();
        if (name == "iss") {
            r.iss = v;
            r.strings_ok = r.strings_ok && v->is_string();
        } else if (name == "aud") {
            r.aud = v;
        } else if (name == "exp") {
            r.exp = v;
        } else if (name == "nbf") {
            r.nbf = v;
        } else if (name == "iat") {
            r.iat = v;
        } else if (name == "scope") {
            r.scope = v;
        } else if (name == "cnf") {
            r.cnf = v;
        } else if (name == "sub" || name == "jti" || name == "client_id") {
            r.strings_ok = r.strings_ok && v->is_string();
        }
    }
    return r;
}

/// A NumericDate from a value (nullptr: absent).
std::error_code numeric_date(const bj::value* v, std::optional<std::int64_t>& out) {
    out.reset();
    if (v == nullptr) {
        return {};
    }
    if (const auto* i = v->if_int64()) {
        if (*i < 0 || *i > max_numeric_date) {
            return errc::bad_claim_type;
        }
        out = *i;
        return {};
    }
    if (const auto* u = v->if_uint64()) {
        if (*u > static_cast<std::uint64_t>(max_numeric_date)) {
            return errc::bad_claim_type;
        }
        out = static_cast<std::int64_t>(*u);
        return {};
    }
    if (const auto* d = v->if_double()) {
        if (!(*d >= 0.0) || *d > static_cast<double>(max_numeric_date) || std::floor(*d) != *d) {
            return errc::bad_claim_type;
        }
        out = static_cast<std::int64_t>(*d);
        return {};
    }
    return errc::bad_claim_type;
}

bool is_string_array(const bj::value& v) {
    const bj::array* a = v.if_array();
    return a != nullptr &&
           std::all_of(a->begin(), a->end(), [](const bj::value& e) { return e.is_string(); });
}

/// NumericDate claim by name (for the accessors of verified_token).
std::error_code numeric_date(const bj::object& claims, std::string_view name,
                             std::optional<std::int64_t>& out) {
    return numeric_date(claims.if_contains(name), out);
}

/// cnf (RFC 7800 §3.1): an object whose only confirmation method is a non-empty x5t#S256 string
/// (RFC 8705 §3.1). Any other method binds the token to a key nobody here checks: refused, never
/// treated as a bearer token.
std::error_code check_confirmation(const bj::value* cnf) {
    if (cnf == nullptr) {
        return {};
    }
    const bj::object* o = cnf->if_object();
    if (o == nullptr || o->empty()) {
        return errc::bad_claim_type;
    }
    for (const auto& member : *o) {
        if (member.key() != "x5t#S256") {
            return errc::unsupported_confirmation;
        }
        const bj::string* s = member.value().if_string();
        if (s == nullptr || s->empty()) {
            return errc::bad_claim_type;
        }
    }
    return {};
}

/// Types of the registered claims we interpret, whatever the policy says.
std::error_code check_types(const registered& r) {
    if (!r.strings_ok) {
        return errc::bad_claim_type;
    }
    if (r.aud != nullptr && !r.aud->is_string() && !is_string_array(*r.aud)) {
        return errc::bad_claim_type;
    }
    if (r.scope != nullptr && !r.scope->is_string() && !is_string_array(*r.scope)) {
        return errc::bad_claim_type;
    }
    return check_confirmation(r.cnf);
}

bool contains(const std::vector<std::string>& list, std::string_view value) {
    return std::find(list.begin(), list.end(), value) != list.end();
}

std::error_code check_audience(const bj::value* aud, const std::vector<std::string>& audiences) {
    if (audiences.empty()) {
        return {};
    }
    if (aud == nullptr) {
        return errc::missing_claim;
    }
    if (const bj::string* s = aud->if_string()) {
        return contains(audiences, *s) ? std::error_code{} : make_error_code(errc::bad_audience);
    }
    for (const auto& entry : aud->get_array()) {
        if (contains(audiences, entry.get_string())) {
            return {};
        }
    }
    return errc::bad_audience;  // includes the empty array
}

char lower(char c) noexcept {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

bool iequal(std::string_view a, std::string_view b) noexcept {
    return a.size() == b.size() &&
           std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return lower(x) == lower(y); });
}

/// RFC 7515 §4.1.9: "application/" may be omitted; media types compare case-insensitively.
bool typ_matches(std::string_view actual, std::string_view expected) noexcept {
    constexpr std::string_view prefix = "application/";
    auto strip = [&](std::string_view s) {
        return s.size() > prefix.size() && iequal(s.substr(0, prefix.size()), prefix)
                   ? s.substr(prefix.size())
                   : s;
    };
    return iequal(strip(actual), strip(expected));
}

}  // namespace

verified_token::verified_token(boost::json::object header, boost::json::object claims, algorithm alg,
                               std::string kid)
    : header_(std::move(header)), claims_(std::move(claims)), alg_(alg), kid_(std::move(kid)) {}

std::optional<std::string> verified_token::string_claim(std::string_view name) const {
    const bj::value* v = claims_.if_contains(name);
    if (v == nullptr || !v->is_string()) {
        return std::nullopt;
    }
    return std::string(v->get_string());
}

std::optional<std::string> verified_token::iss() const {
    return string_claim("iss");
}
std::optional<std::string> verified_token::sub() const {
    return string_claim("sub");
}
std::optional<std::string> verified_token::jti() const {
    return string_claim("jti");
}
std::optional<std::string> verified_token::client_id() const {
    return string_claim("client_id");
}

std::vector<std::string> verified_token::aud() const {
    std::vector<std::string> out;
    if (const bj::value* v = claims_.if_contains("aud")) {
        if (const auto* s = v->if_string()) {
            out.emplace_back(*s);
        } else if (const auto* a = v->if_array()) {
            for (const auto& e : *a) {
                if (const auto* es = e.if_string()) {
                    out.emplace_back(*es);
                }
            }
        }
    }
    return out;
}

std::optional<std::int64_t> verified_token::exp() const {
    std::optional<std::int64_t> v;
    return numeric_date(claims_, "exp", v) ? std::nullopt : v;
}
std::optional<std::int64_t> verified_token::nbf() const {
    std::optional<std::int64_t> v;
    return numeric_date(claims_, "nbf", v) ? std::nullopt : v;
}
std::optional<std::int64_t> verified_token::iat() const {
    std::optional<std::int64_t> v;
    return numeric_date(claims_, "iat", v) ? std::nullopt : v;
}

std::vector<std::string> verified_token::scope() const {
    std::vector<std::string> out;
    const bj::value* v = claims_.if_contains("scope");
    if (v == nullptr) {
        return out;
    }
    if (const auto* s = v->if_string()) {
        std::string_view rest(*s);
        while (!rest.empty()) {
            const std::size_t sp = rest.find(' ');
            const std::string_view part = rest.substr(0, sp);
            if (!part.empty()) {
                out.emplace_back(part);
            }
            rest = sp == std::string_view::npos ? std::string_view() : rest.substr(sp + 1);
        }
    } else if (const auto* a = v->if_array()) {
        for (const auto& e : *a) {
            if (const auto* es = e.if_string()) {
                out.emplace_back(*es);
            }
        }
    }
    return out;
}

std::optional<std::string> verified_token::cnf_x5t_s256() const {
    const bj::value* cnf = claims_.if_contains("cnf");
    if (cnf == nullptr || !cnf->is_object()) {
        return std::nullopt;
    }
    const bj::value* t = cnf->get_object().if_contains("x5t#S256");
    if (t == nullptr || !t->is_string()) {
        return std::nullopt;
    }
    return std::string(t->get_string());
}

verifier::verifier(std::shared_ptr<const key_set> keys, validation_policy policy, const common::clock& clock)
    : keys_(keys ? std::move(keys) : std::make_shared<const key_set>())
    , policy_(std::move(policy))
    , clock_(&clock) {}

verifier::verifier(key_set keys, validation_policy policy, const common::clock& clock)
    : verifier(std::make_shared<const key_set>(std::move(keys)), std::move(policy), clock) {}

std::error_code verifier::check_claims(const boost::json::object& claims) const {
    const registered r = scan(claims);
    if (auto ec = check_types(r)) {
        return ec;
    }
    std::optional<std::int64_t> exp;
    std::optional<std::int64_t> nbf;
    std::optional<std::int64_t> iat;
    for (auto [value, slot] : {std::pair{r.exp, &exp}, std::pair{r.nbf, &nbf}, std::pair{r.iat, &iat}}) {
        if (auto ec = numeric_date(value, *slot)) {
            return ec;
        }
    }
    const std::int64_t now = clock_->unix_seconds();
    const std::int64_t leeway = policy_.leeway.count();
    if (!exp) {
        if (policy_.require_exp) {
            return errc::missing_claim;
        }
    } else if (now >= *exp + leeway) {
        return errc::expired;  // RFC 7519 §4.1.4: valid only strictly before exp
    }
    if (nbf && now + leeway < *nbf) {
        return errc::not_yet_valid;
    }
    if (iat && *iat > now + leeway) {
        return errc::issued_in_future;
    }
    if (policy_.max_age) {
        if (!iat) {
            return errc::missing_claim;
        }
        if (now - *iat > policy_.max_age->count() + leeway) {
            return errc::too_old;
        }
    }
    if (policy_.max_lifetime && exp && *exp - iat.value_or(now) > policy_.max_lifetime->count() + leeway) {
        return errc::lifetime_too_long;
    }
    if (!policy_.issuers.empty()) {
        if (r.iss == nullptr) {
            return errc::missing_claim;
        }
        if (!contains(policy_.issuers, r.iss->get_string())) {
            return errc::bad_issuer;
        }
    }
    if (auto ec = check_audience(r.aud, policy_.audiences)) {
        return ec;
    }
    for (const auto& name : policy_.required_claims) {
        if (!claims.contains(name)) {
            return errc::missing_claim;
        }
    }
    return {};
}

result<verified_token> verifier::verify(std::string_view token) const {
    // One monotonic block holds the header and claims of this token (freed with the result).
    auto storage = boost::json::make_shared_resource<boost::json::monotonic_resource>(1024);
    auto parsed = parse_compact(token, policy_.limits, storage);
    if (!parsed) {
        return parsed.error();
    }
    const algorithm alg = parsed->alg;
    if (std::find(policy_.allowed_algs.begin(), policy_.allowed_algs.end(), alg) ==
        policy_.allowed_algs.end()) {
        return errc::alg_not_allowed;
    }
    if (policy_.expected_typ && (!parsed->typ || !typ_matches(*parsed->typ, *policy_.expected_typ))) {
        return errc::bad_type;
    }
    const key* used = nullptr;
    if (parsed->kid) {
        used = keys_->find(*parsed->kid, alg);
        if (used == nullptr) {
            return keys_->has_kid(*parsed->kid) ? errc::alg_key_mismatch : errc::unknown_kid;
        }
        if (auto ec = verify_signature(*used, alg, parsed->signing_input(), parsed->signature)) {
            return ec;
        }
    } else {
        const auto candidates = keys_->candidates(alg);
        if (candidates.empty()) {
            return errc::no_matching_key;
        }
        std::error_code last = errc::bad_signature;
        const std::size_t tries = std::min(candidates.size(), policy_.max_keys_without_kid);
        for (std::size_t i = 0; i < tries && used == nullptr; ++i) {
            last = verify_signature(*candidates[i], alg, parsed->signing_input(), parsed->signature);
            if (!last) {
                used = candidates[i];
            }
        }
        if (used == nullptr) {
            return last;
        }
    }
    std::string payload;
    if (!base64url_decode_append(parsed->payload_b64(), payload)) {
        return errc::bad_base64;
    }
    auto claims = parse_json_object(payload, policy_.limits.claims_json, storage);
    if (!claims) {
        return claims.error() == make_error_code(errc::bad_json) ? make_error_code(errc::bad_claims)
                                                                 : claims.error();
    }
    if (auto ec = check_claims(*claims)) {
        return ec;
    }
    return verified_token(std::move(parsed->header), std::move(*claims), alg, used->kid());
}

}  // namespace tollgate::jose
