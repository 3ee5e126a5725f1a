// RFC 7662 introspection: the request, the strict response parser and the per-token re-check state
// (see introspection.hpp).
#include <cmath>
#include <limits>
#include <stdexcept>

#include <spdlog/spdlog.h>

#include <tollgate/auth/introspection.hpp>
#include <tollgate/common/log.hpp>
#include <tollgate/jose/base64url.hpp>
#include <tollgate/jose/json.hpp>

namespace tollgate::auth {

namespace bj = boost::json;

namespace {

using verdict = introspection_result::verdict;

introspection_result unusable(verdict v, std::string why) {
    introspection_result r;
    r.state = v;
    r.error = std::move(why);
    return r;
}

char ascii_lower(char c) {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) {
        return false;
    }
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (ascii_lower(a[i]) != ascii_lower(b[i])) {
            return false;
        }
    }
    return true;
}

/// The media type of a Content-Type value, parameters and surrounding blanks removed.
std::string_view media_type(std::string_view content_type) {
    content_type = content_type.substr(0, content_type.find(';'));
    while (!content_type.empty() && (content_type.back() == ' ' || content_type.back() == '\t')) {
        content_type.remove_suffix(1);
    }
    while (!content_type.empty() && (content_type.front() == ' ' || content_type.front() == '\t')) {
        content_type.remove_prefix(1);
    }
    return content_type;
}

/// A NumericDate member (RFC 7519 §2): an integer, or a finite number (truncated). false: wrong type.
bool numeric_date(const bj::object& o, std::string_view name, std::optional<std::int64_t>& out) {
    const auto* v = o.if_contains(name);
    if (v == nullptr) {
        return true;
    }
    if (v->is_int64()) {
        out = v->as_int64();
        return true;
    }
    if (v->is_uint64() &&
        v->as_uint64() <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
        out = static_cast<std::int64_t>(v->as_uint64());
        return true;
    }
    if (v->is_double()) {
        const double d = v->as_double();
        if (std::isfinite(d) && std::fabs(d) < 9.0e15) {
            out = static_cast<std::int64_t>(d);
            return true;
        }
    }
    return false;
}

bool string_member(const bj::object& o, std::string_view name, std::string& out) {
    const auto* v = o.if_contains(name);
    if (v == nullptr) {
        return true;
    }
    if (!v->is_string()) {
        return false;
    }
    out = std::string(v->as_string());
    return true;
}

/// "scope": space-separated scope tokens (RFC 7662 §2.2, RFC 6749 §3.3).
bool scope_member(const bj::object& o, const introspection_limits& limits, std::vector<std::string>& out) {
    const auto* v = o.if_contains("scope");
    if (v == nullptr) {
        return true;
    }
    if (!v->is_string()) {
        return false;
    }
    const std::string_view s = v->as_string();
    std::size_t pos = 0;
    while (pos < s.size()) {
        const auto end = std::min(s.find(' ', pos), s.size());
        if (end > pos) {
            if (out.size() == limits.max_scopes) {
                return false;
            }
            out.emplace_back(s.substr(pos, end - pos));
        }
        pos = end + 1;
    }
    return true;
}

/// "aud": a string or an array of strings (RFC 7519 §4.1.3).
bool audience_member(const bj::object& o, const introspection_limits& limits, std::vector<std::string>& out) {
    const auto* v = o.if_contains("aud");
    if (v == nullptr) {
        return true;
    }
    if (v->is_string()) {
        out.emplace_back(v->as_string());
        return true;
    }
    if (!v->is_array() || v->as_array().size() > limits.max_audiences) {
        return false;
    }
    for (const auto& e : v->as_array()) {
        if (!e.is_string()) {
            return false;
        }
        out.emplace_back(e.as_string());
    }
    return true;
}

}  // namespace

introspection_result parse_introspection_response(const http_response& response,
                                                  const introspection_limits& limits) {
    if (response.status == 0) {
        return unusable(verdict::unavailable, "transport: " + response.error);
    }
    if (response.status != 200) {
        return unusable(verdict::unavailable, "HTTP status " + std::to_string(response.status));
    }
    if (!iequals(media_type(response.content_type), "application/json")) {
        return unusable(verdict::inactive, "response is not application/json");
    }
    if (response.body.size() > limits.max_body_bytes) {
        return unusable(verdict::inactive, "response too large");
    }
    jose::json_limits jl;
    jl.max_bytes = limits.max_body_bytes;
    jl.max_depth = limits.max_depth;
    jl.max_members = limits.max_members;
    jl.max_string_bytes = limits.max_string_bytes;
    auto parsed = jose::parse_json_object(response.body, jl);
    if (!parsed) {
        return unusable(verdict::inactive,
                        "response is not a usable JSON object: " + parsed.error().message());
    }
    const bj::object& o = *parsed;
    const auto* active = o.if_contains("active");
    if (active == nullptr || !active->is_bool()) {
        return unusable(verdict::inactive, "\"active\" missing or not a boolean");
    }
    if (!active->as_bool()) {
        return unusable(verdict::inactive, "active: false");
    }
    introspection_result r;
    std::string iss;
    const bool has_iss = o.contains("iss");
    const bool ok = numeric_date(o, "exp", r.exp) && numeric_date(o, "iat", r.iat) &&
                    numeric_date(o, "nbf", r.nbf) && string_member(o, "sub", r.sub) &&
                    string_member(o, "client_id", r.client_id) && string_member(o, "username", r.username) &&
                    string_member(o, "token_type", r.token_type) && string_member(o, "jti", r.jti) &&
                    string_member(o, "iss", iss) && scope_member(o, limits, r.scopes) &&
                    audience_member(o, limits, r.aud);
    if (!ok) {
        return unusable(verdict::inactive, "a member has the wrong type or is beyond the limits");
    }
    if (has_iss) {
        r.iss = std::move(iss);
    }
    r.claims = o;
    r.state = verdict::active;
    return r;
}

std::string form_urlencode(std::string_view s) {
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(s.size() * 3);
    for (const char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        const bool keep = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                          c == '*' || c == '-' || c == '.' || c == '_';
        if (keep) {
            out.push_back(ch);
        } else if (c == ' ') {
            out.push_back('+');
        } else {
            out.push_back('%');
            out.push_back(hex[c >> 4]);
            out.push_back(hex[c & 0xF]);
        }
    }
    return out;
}

std::string basic_authorization(std::string_view client_id, std::string_view client_secret) {
    // RFC 6749 §2.3.1: each part form-urlencoded first, then "id:secret" in base64 (RFC 7617).
    std::string b64 = jose::base64url_encode(form_urlencode(client_id) + ":" + form_urlencode(client_secret));
    for (auto& c : b64) {
        c = c == '-' ? '+' : c == '_' ? '/' : c;
    }
    b64.append((4 - b64.size() % 4) % 4, '=');
    return "Basic " + b64;
}

std::optional<std::string> check_introspected(const introspection_result& r,
                                              const introspection_expectations& e, std::int64_t now) {
    if (!r.active()) {
        return r.error.empty() ? std::string("not active") : r.error;
    }
    if (iequals(r.token_type, "refresh_token")) {
        return "token_type is refresh_token";
    }
    if (r.iss && *r.iss != e.issuer) {
        return "iss is not the configured issuer";
    }
    if (!r.aud.empty() && !e.audiences.empty()) {
        bool found = false;
        for (const auto& a : r.aud) {
            for (const auto& want : e.audiences) {
                found = found || a == want;
            }
        }
        if (!found) {
            return "aud does not name this broker";
        }
    }
    const auto leeway = e.leeway.count();
    if (!r.exp && e.require_exp) {
        return "no exp";
    }
    if (r.exp && now >= *r.exp + leeway) {
        return "expired";
    }
    if (r.nbf && now + leeway < *r.nbf) {
        return "not yet valid";
    }
    return std::nullopt;
}

introspection_client::introspection_client(introspection_client_config config, http_fetch fetch)
    : config_(std::move(config)), fetch_(std::move(fetch)) {
    if ((config_.endpoint.empty() && !config_.discovered_endpoint) || config_.client_id.empty() || !fetch_) {
        throw std::invalid_argument("introspection needs an endpoint, a client id and an HTTP client");
    }
    authorization_ = basic_authorization(config_.client_id, config_.client_secret);
}

std::string introspection_client::endpoint() const {
    return config_.endpoint.empty() ? config_.discovered_endpoint() : config_.endpoint;
}

void introspection_client::introspect(std::string_view token,
                                      std::function<void(introspection_result)> done) const {
    http_request req;
    req.method = "POST";
    req.url = endpoint();
    if (req.url.empty()) {
        done(unusable(verdict::unavailable, "no introspection endpoint known (discovery pending)"));
        return;
    }
    req.headers = {{"Authorization", authorization_},
                   {"Content-Type", "application/x-www-form-urlencoded"},
                   {"Accept", "application/json"}};
    req.body = "token=" + form_urlencode(token) + "&token_type_hint=access_token";
    ++requests_;
    fetch_(std::move(req), [limits = config_.limits, done = std::move(done)](http_response resp) {
        done(parse_introspection_response(resp, limits));
    });
}

namespace {

std::int64_t ns_of(common::steady_time t) {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

}  // namespace

token_recheck::token_recheck(std::string token, std::string fingerprint,
                             std::shared_ptr<const introspection_client> client,
                             introspection_expectations expect, recheck_policy policy,
                             const common::clock& clock, common::steady_time verified_at)
    : token_(std::move(token))
    , fingerprint_(std::move(fingerprint))
    , client_(std::move(client))
    , expect_(std::move(expect))
    , policy_(policy)
    , clock_(clock)
    , verified_ns_(ns_of(verified_at))
    , failed_ns_(std::numeric_limits<std::int64_t>::min()) {}

common::steady_time token_recheck::verified_at() const noexcept {
    return common::steady_time(std::chrono::nanoseconds(verified_ns_.load(std::memory_order_relaxed)));
}

token_recheck::status token_recheck::state(common::steady_time now) const noexcept {
    if (inactive_.load(std::memory_order_relaxed)) {
        return status::inactive;
    }
    const auto age = now - verified_at();
    if (age < policy_.interval) {
        return status::fresh;
    }
    return age < policy_.interval + policy_.grace ? status::due : status::stale;
}

void token_recheck::mark_fresh(common::steady_time at) noexcept {
    auto prev = verified_ns_.load();
    const auto at_ns = ns_of(at);
    while (prev < at_ns && !verified_ns_.compare_exchange_weak(prev, at_ns)) {
    }
}

bool token_recheck::start_if_due(std::function<void(const introspection_result&)> after) {
    const auto now = clock_.steady_now();
    const auto st = state(now);
    if (st == status::fresh || st == status::inactive) {
        return false;
    }
    const auto failed = failed_ns_.load(std::memory_order_relaxed);
    if (failed != std::numeric_limits<std::int64_t>::min() &&
        ns_of(now) - failed < std::chrono::duration_cast<std::chrono::nanoseconds>(policy_.retry).count()) {
        return false;
    }
    return start(std::move(after));
}

bool token_recheck::start(std::function<void(const introspection_result&)> after) {
    bool expected = false;
    if (!in_flight_.compare_exchange_strong(expected, true)) {
        return false;
    }
    launch(std::move(after));
    return true;
}

void token_recheck::launch(std::function<void(const introspection_result&)> after) {
    ++checks_;
    auto self = shared_from_this();
    const auto started = clock_.steady_now();
    client_->introspect(token_, [self, started, after = std::move(after)](introspection_result r) {
        auto log = common::logger("auth");
        if (r.state == introspection_result::verdict::unavailable) {
            self->failed_ns_.store(ns_of(self->clock_.steady_now()));
            log->warn("auth: introspection of token_fp={} unavailable: {}", self->fingerprint_, r.error);
        } else if (auto why = check_introspected(r, self->expect_, self->clock_.unix_seconds())) {
            self->inactive_.store(true);
            r.state = introspection_result::verdict::inactive;
            r.error = *why;
            log->info("auth: token_fp={} no longer active: {}", self->fingerprint_, *why);
        } else {
            self->mark_fresh(started);  // as fresh as the moment the request was sent
            log->debug("auth: token_fp={} still active", self->fingerprint_);
        }
        self->in_flight_.store(false);
        if (after) {
            after(r);
        }
    });
}

}  // namespace tollgate::auth
