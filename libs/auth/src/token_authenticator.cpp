// token_authenticator: key sources, the entry point (token extraction, the verified-token cache,
// dispatch to cold verification or introspection) and the statistics. The rest of impl is split by
// concern (token_authenticator_impl.hpp lists the files).
#include <algorithm>
#include <stdexcept>
#include <utility>

#include <tollgate/common/secret.hpp>

#include "token_authenticator_impl.hpp"

namespace tollgate::auth {

using broker::auth_request;
using broker::auth_result;
using mqtt::reason_code;

key_source::~key_source() = default;

std::shared_ptr<const jose::key_set> function_key_source::current() {
    auto set = get_ ? get_() : nullptr;
    return set ? set : std::make_shared<const jose::key_set>();
}

bool function_key_source::refresh() {
    if (!reload_) {
        return false;
    }
    reload_();
    return true;
}

namespace detail {

bool looks_like_jws(std::string_view token) {
    return std::count(token.begin(), token.end(), '.') == 2;
}

std::optional<std::string> string_member(const boost::json::object& o, std::string_view name) {
    if (const auto* v = o.if_contains(name); v != nullptr && v->is_string()) {
        return std::string(v->as_string());
    }
    return std::nullopt;
}

}  // namespace detail

const session_context* context_of(const broker::principal& who) noexcept {
    if (who.context == nullptr || std::get_deleter<detail::session_context_deleter>(who.context) == nullptr) {
        return nullptr;
    }
    return static_cast<const session_context*>(who.context.get());
}

token_authenticator::impl::impl(token_auth_config c, const common::clock& clk)
    : config(std::move(c)), clock(clk), cache(config.cache_size), opaque_cache(config.cache_size) {
    for (auto& ic : config.issuers) {
        if (ic.issuer.empty() || (!ic.keys && !ic.opaque_tokens)) {
            throw std::invalid_argument("auth issuer needs a name and a key source");
        }
        if (ic.opaque_tokens && !ic.introspection) {
            throw std::invalid_argument("auth issuer " + ic.issuer + ": opaque tokens need introspection");
        }
        auto st = std::make_unique<issuer_state>();
        st->config = ic;
        if (!st->config.keys) {
            st->config.keys = std::make_shared<static_key_source>(jose::key_set{});
        }
        if (st->config.audiences.empty()) {
            st->config.audiences.push_back(config.audience);
        }
        if (ic.opaque_tokens) {
            if (opaque_issuer != nullptr) {
                throw std::invalid_argument("only one auth issuer may accept opaque tokens");
            }
            opaque_issuer = st.get();
        }
        issuers.push_back(std::move(st));
    }
    limits.max_token_bytes = config.max_token_bytes;
}

token_authenticator::token_authenticator(token_auth_config config, const common::clock& clock)
    : impl_(std::make_shared<impl>(std::move(config), clock)) {}

token_authenticator::~token_authenticator() = default;

namespace {

/// The token of a CONNECT / AUTH step (password, or Authentication Data of a supported method), or
/// the refusal to send when there is none or the step cannot carry one.
struct extracted {
    std::optional<common::shared_bytes> token;
    std::optional<auth_result> refusal;
};

extracted extract_token(token_authenticator::impl& m, const auth_request& req) {
    extracted out;
    if (req.kind == auth_request::step::continue_auth) {  // we never send a challenge
        out.refusal = m.fail(req, reason_code::protocol_error, "unexpected AUTH",
                             "AUTH 0x18 without a challenge", nullptr, {});
        return out;
    }
    if (req.method) {
        if (*req.method != "CUSTOM-JWT" && *req.method != "OAUTH2-JWT") {
            out.refusal = m.fail(req, reason_code::bad_authentication_method,
                                 "unsupported authentication method", "unknown method", nullptr, {});
            return out;
        }
        out.token = req.data;
    } else {
        if (m.config.required_username && req.username != m.config.required_username) {
            out.refusal = m.fail(req, reason_code::bad_user_name_or_password, "bad user name or password",
                                 "username is not the configured token marker", nullptr, {});
            return out;
        }
        out.token = req.password;
    }
    if (!out.token || out.token->size() == 0) {
        out.refusal = m.fail(req, reason_code::bad_user_name_or_password, detail::invalid_token, "no token",
                             nullptr, {});
    }
    return out;
}

}  // namespace

void token_authenticator::authenticate(auth_request req, std::function<void(auth_result)> done) {
    auto& m = *impl_;
    auto ex = extract_token(m, req);
    if (ex.refusal) {
        done(std::move(*ex.refusal));
        return;
    }
    common::shared_bytes token_bytes = std::move(*ex.token);
    const std::string_view token = token_bytes.as_string_view();
    const std::string fingerprint = common::secret_fingerprint(token);
    if (token.size() > m.config.max_token_bytes) {
        done(m.fail(req, reason_code::bad_user_name_or_password, detail::invalid_token, "token too large",
                    nullptr, fingerprint));
        return;
    }
    std::optional<common::shared_bytes> cert;
    if (req.connection != nullptr) {
        cert = req.connection->client_certificate_der;
    }
    req.connection = nullptr;  // valid only during this call
    const auto digest = common::sha256(token);
    std::string key(digest.begin(), digest.end());
    if (m.opaque_issuer != nullptr && !detail::looks_like_jws(token)) {
        m.authenticate_opaque(std::move(req), std::move(cert), std::move(token_bytes), std::move(key),
                              fingerprint, std::move(done));
        return;
    }
    if (auto hit = m.cache.get(key)) {
        if (!m.still_valid(*hit)) {
            m.cache.erase(key);
            done(m.fail(req, reason_code::bad_user_name_or_password, detail::invalid_token,
                        "expired (cached)", hit.get(), fingerprint));
            return;
        }
        ++m.cache_hits;
        const detail::token_ref tok{token, key, fingerprint, hit->exp, std::nullopt};
        done(m.finish(req, cert, std::move(hit), tok));
        return;
    }
    auto pending = std::make_shared<impl::cold_request>(
        impl::cold_request{std::move(req), std::move(cert), std::move(token_bytes), std::move(key),
                           fingerprint, std::move(done)});
    if (m.config.offload) {
        m.config.offload([me = impl_, pending] { me->verify_cold(pending, true); });
    } else {
        m.verify_cold(pending, true);
    }
}

auth_stats token_authenticator::stats() const {
    return auth_stats{impl_->verifications.load(), impl_->cache_hits.load(),    impl_->successes.load(),
                      impl_->failures.load(),      impl_->key_refreshes.load(), impl_->introspections.load()};
}

std::size_t token_authenticator::cache_entries() const {
    return impl_->cache.size();
}

}  // namespace tollgate::auth
