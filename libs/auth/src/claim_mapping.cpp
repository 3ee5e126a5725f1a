// claim_mapping: scopes from a configured claim (string or array) or dotted path; see the header.
#include <boost/json.hpp>

#include <tollgate/auth/claim_mapping.hpp>

namespace tollgate::auth {

namespace bj = boost::json;

const bj::value* find_claim(const bj::object& claims, std::string_view scope_claim,
                            std::size_t max_path_depth) {
    if (scope_claim.empty()) {
        return nullptr;
    }
    if (const bj::value* exact = claims.if_contains(scope_claim)) {
        return exact;
    }
    const bj::object* at = &claims;
    std::string_view rest = scope_claim;
    for (std::size_t depth = 0; depth < max_path_depth; ++depth) {
        const std::size_t dot = rest.find('.');
        const std::string_view segment = rest.substr(0, dot);
        if (segment.empty()) {
            return nullptr;  // "a..b", ".a", "a."
        }
        const bj::value* v = at->if_contains(segment);
        if (v == nullptr || dot == std::string_view::npos) {
            return v;
        }
        at = v->if_object();
        if (at == nullptr) {
            return nullptr;
        }
        rest = rest.substr(dot + 1);
    }
    return nullptr;  // deeper than max_path_depth
}

namespace {

void take(std::vector<std::string>& out, std::string_view scope, const claim_mapping_limits& limits) {
    if (!scope.empty() && scope.size() <= limits.max_scope_bytes && out.size() < limits.max_scopes) {
        out.emplace_back(scope);
    }
}

}  // namespace

std::vector<std::string> scopes_from_claims(const bj::object& claims, std::string_view scope_claim,
                                            const claim_mapping_limits& limits) {
    std::vector<std::string> out;
    const bj::value* v = find_claim(claims, scope_claim, limits.max_path_depth);
    if (v == nullptr) {
        return out;
    }
    if (const bj::string* s = v->if_string()) {
        std::string_view rest(*s);
        while (!rest.empty() && out.size() < limits.max_scopes) {
            const std::size_t sp = rest.find(' ');
            take(out, rest.substr(0, sp), limits);
            rest = sp == std::string_view::npos ? std::string_view() : rest.substr(sp + 1);
        }
    } else if (const bj::array* a = v->if_array()) {
        for (const bj::value& e : *a) {
            if (out.size() >= limits.max_scopes) {
                break;
            }
            if (const bj::string* es = e.if_string()) {
                take(out, std::string_view(*es), limits);
            }
        }
    }
    return out;
}

std::vector<std::string> scopes_from_claims(const bj::object& claims, std::string_view scope_claim) {
    return scopes_from_claims(claims, scope_claim, claim_mapping_limits{});
}

std::optional<std::string> claim_string(const bj::object& claims, std::string_view name) {
    const bj::value* v = find_claim(claims, name);
    if (v == nullptr || !v->is_string()) {
        return std::nullopt;
    }
    return std::string(v->get_string());
}

}  // namespace tollgate::auth
