// Client authentication at the token, revocation and introspection endpoints (RFC 6749 §2.3,
// RFC 7523 §2.2 and §3, RFC 8705 §2).
#include <memory>

#include <openssl/bio.h>
#include <openssl/x509.h>

#include <tollgate/common/log.hpp>
#include <tollgate/jose/base64url.hpp>
#include <tollgate/jose/json.hpp>
#include <tollgate/jose/jwt.hpp>
#include <tollgate/oauth/server.hpp>

namespace tollgate::oauth {
namespace {

constexpr std::string_view jwt_bearer_type = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

oauth_error invalid_client(std::string text = "client authentication failed") {
    return oauth_error{error_code::invalid_client, std::move(text)};
}

/// RFC 4514 string of the certificate's subject, e.g. "CN=device-1,O=Example".
std::optional<std::string> subject_dn(const std::vector<std::uint8_t>& der) {
    const unsigned char* p = der.data();
    std::unique_ptr<X509, decltype(&X509_free)> cert(d2i_X509(nullptr, &p, static_cast<long>(der.size())),
                                                     &X509_free);
    if (!cert) {
        return std::nullopt;
    }
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
    if (!bio || X509_NAME_print_ex(bio.get(), X509_get_subject_name(cert.get()), 0, XN_FLAG_RFC2253) < 0) {
        return std::nullopt;
    }
    char* data = nullptr;
    const long len = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(len));
}

/// The unverified "sub" of a client assertion, only to find which client's keys to verify with.
std::optional<std::string> assertion_subject(std::string_view assertion) {
    auto jws = jose::parse_compact(assertion);
    if (!jws) {
        return std::nullopt;
    }
    auto payload = jose::base64url_decode_string(jws->payload_b64());
    if (!payload) {
        return std::nullopt;
    }
    auto claims = jose::parse_json_object(*payload);
    if (!claims) {
        return std::nullopt;
    }
    const auto* sub = claims->if_contains("sub");
    if (sub == nullptr || !sub->is_string()) {
        return std::nullopt;
    }
    return std::string(sub->as_string());
}

}  // namespace

authorization_server::client_result authorization_server::authenticate_client(const request& req,
                                                                              const form& params,
                                                                              bool allow_public) {
    if (req.header_count("authorization") > 1) {
        return oauth_error{error_code::invalid_request, "more than one Authorization header"};
    }
    const auto auth_header = req.header("authorization");
    const bool basic = auth_header.has_value();
    const bool post = params.has("client_secret");
    const bool jwt = params.has("client_assertion") || params.has("client_assertion_type");
    if (static_cast<int>(basic) + static_cast<int>(post) + static_cast<int>(jwt) > 1) {
        // RFC 6749 §2.3: a client MUST NOT use more than one authentication method per request.
        return oauth_error{error_code::invalid_request, "more than one client authentication method"};
    }
    std::string client_id;
    std::string secret;
    if (basic) {
        auto creds = parse_basic_authorization(*auth_header);
        if (!creds) {
            return invalid_client("malformed Basic credentials");
        }
        client_id = creds->user;
        secret = creds->password;
        if (auto body_id = params.get("client_id"); body_id && *body_id != client_id) {
            return oauth_error{error_code::invalid_request,
                               "client_id differs from the authenticated client"};
        }
    } else if (jwt) {
        if (params.get("client_assertion_type") != jwt_bearer_type || !params.has("client_assertion")) {
            return invalid_client("unsupported client assertion");
        }
        auto sub = assertion_subject(*params.get("client_assertion"));
        if (!sub) {
            return invalid_client("malformed client assertion");
        }
        client_id = *sub;
        if (auto body_id = params.get("client_id"); body_id && *body_id != client_id) {
            return invalid_client("client_id differs from the assertion subject");
        }
    } else {
        client_id = params.value_or_empty("client_id");
        secret = params.value_or_empty("client_secret");
        if (client_id.empty()) {
            return invalid_client("no client authentication");
        }
    }
    auto client = client_id.size() <= 256 ? db_->find_client(client_id) : std::nullopt;
    if (!client) {
        (void)server_keys_->digest(secret);  // same work as a real check
        return invalid_client();
    }
    authenticated_client out{*client, client->auth_method, {}};
    if (!req.client_certificate_der.empty()) {
        if (auto x5t = jose::x5t_s256(req.client_certificate_der)) {
            out.cert_x5t = x5t.value();
        }
    }
    const auto& method = client->auth_method;
    if (basic || post) {
        const bool method_ok =
            (basic && method == "client_secret_basic") || (post && method == "client_secret_post");
        const bool secret_ok = server_keys_->matches(secret, client->secret_digest);
        if (!method_ok || !secret_ok || client->secret_digest.empty()) {
            return invalid_client();
        }
        return out;
    }
    if (jwt) {
        if (method != "private_key_jwt") {
            return invalid_client();
        }
        if (auto err = check_private_key_jwt(*client, params)) {
            return *err;
        }
        return out;
    }
    if (method == "tls_client_auth") {
        if (req.client_certificate_der.empty()) {
            return invalid_client("a client certificate is required");
        }
        auto dn = subject_dn(req.client_certificate_der);
        if (!dn || client->tls_subject_dn.empty() || *dn != client->tls_subject_dn) {
            return invalid_client("client certificate does not match");
        }
        return out;
    }
    if (method == "none" && allow_public) {
        return out;
    }
    return invalid_client();
}

std::optional<oauth_error> authorization_server::check_private_key_jwt(const client_record& c,
                                                                       const form& params) {
    auto keys = jose::key_set::from_json(c.jwks);
    if (!keys || keys->empty()) {
        return invalid_client("client has no usable keys");
    }
    jose::validation_policy policy;
    policy.allowed_algs = {jose::algorithm::es256, jose::algorithm::es384, jose::algorithm::es512,
                           jose::algorithm::eddsa, jose::algorithm::rs256, jose::algorithm::ps256};
    policy.issuers = {c.client_id};
    // RFC 7523 §3: aud identifies the authorization server; its issuer or the token endpoint URL.
    policy.audiences = {config_.issuer, config_.issuer + "/token", config_.issuer + "/revoke",
                        config_.issuer + "/introspect"};
    policy.required_claims = {"sub", "jti", "exp"};
    policy.leeway = std::chrono::seconds{30};
    jose::verifier verifier(std::move(keys.value()), policy, *clock_);
    auto verified = verifier.verify(*params.get("client_assertion"));
    if (!verified) {
        common::logger("oauth")->info("client assertion of {} refused: {}", c.client_id,
                                      verified.error().message());
        return invalid_client("client assertion refused");
    }
    const auto now = clock_->unix_seconds();
    const auto exp = verified->exp().value_or(0);
    if (verified->sub() != c.client_id || exp - now > config_.client_assertion_max_age.count()) {
        return invalid_client("client assertion refused");
    }
    const auto jti = verified->jti();
    if (!jti || jti->empty() || jti->size() > 256) {
        return invalid_client("client assertion refused");
    }
    // RFC 7523 §3 item 7: a jti is accepted once; the cache row lives until the assertion expires.
    if (!db_->remember_jti(c.client_id + "\n" + *jti, exp + 60)) {
        return invalid_client("client assertion replayed");
    }
    return std::nullopt;
}

}  // namespace tollgate::oauth
