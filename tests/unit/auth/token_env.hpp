#pragma once
// Token-minting helpers for the auth tests: an issuer with a generated ES256 key, claims built
// relative to the harness's manual clock, and a broker fixture wired with token_authenticator and
// scope_authorizer.
#include <memory>
#include <string>

#include <boost/json.hpp>

#include <tollgate/auth/scope_authorizer.hpp>
#include <tollgate/auth/token_authenticator.hpp>
#include <tollgate/jose/jws.hpp>
#include <tollgate/jose/key.hpp>

#include "harness.hpp"

namespace tollgate::auth::test {

inline constexpr std::string_view issuer = "https://as.example";
inline constexpr std::string_view audience = "urn:tollgate:broker";

inline common::shared_bytes bytes_of(std::string_view s) {
    return common::shared_bytes::copy_of(s);
}

/// One issuer key (ES256) and a token factory.
struct token_env {
    explicit token_env(const common::clock& c) : clock(c) {}

    [[nodiscard]] boost::json::object claims(const std::string& scope = "mqtt:all:#",
                                             std::int64_t ttl = 300) const {
        const auto now = clock.unix_seconds();
        boost::json::object o;
        o["iss"] = issuer;
        o["aud"] = audience;
        o["sub"] = "alice";
        o["client_id"] = "app-1";
        o["jti"] = "jti-" + std::to_string(++serial_);
        o["iat"] = now;
        o["exp"] = now + ttl;
        o["scope"] = scope;
        return o;
    }
    [[nodiscard]] std::string sign(const boost::json::object& c, const jose::key* k = nullptr,
                                   std::optional<std::string> typ = std::string("at+jwt")) const {
        jose::sign_options o;
        o.typ = std::move(typ);
        const jose::key& use = k != nullptr ? *k : key;
        auto alg = use.alg() ? *use.alg() : jose::algorithm::es256;
        return jose::sign(use, alg, c, o).value();
    }
    [[nodiscard]] std::string token(const std::string& scope = "mqtt:all:#", std::int64_t ttl = 300) const {
        return sign(claims(scope, ttl));
    }
    [[nodiscard]] issuer_config config() const {
        issuer_config ic;
        ic.issuer = std::string(issuer);
        ic.keys = std::make_shared<static_key_source>(
            jose::key_set({key.with_options({"k1", jose::algorithm::es256, "sig"})}));
        ic.allowed_algs = {jose::algorithm::rs256, jose::algorithm::es256};
        return ic;
    }

    const common::clock& clock;
    jose::key key = jose::key::generate(jose::algorithm::es256, "k1");  // fast to generate
    mutable int serial_ = 0;
};

/// A broker (deterministic harness) authenticating with tokens and authorizing from scopes.
struct auth_fixture {
    explicit auth_fixture(token_auth_config base = {}, std::uint32_t max_packet_before_connect = 64 * 1024)
        : env(f.clock) {
        f.config.max_packet_size_before_connect = max_packet_before_connect;
        base.issuers.push_back(env.config());
        base.audience = std::string(audience);
        authn = std::make_unique<token_authenticator>(std::move(base), f.clock);
        f.start(&authz, authn.get());
    }
    broker::test::test_client& client(mqtt::protocol_version v = mqtt::protocol_version::v5) {
        return f.client(0, v);
    }
    /// CONNECT with the token as password; returns the CONNACK.
    mqtt::connack connect(broker::test::test_client& c, const std::string& id, const std::string& token,
                          std::optional<std::string> username = std::nullopt) {
        auto conn = c.make_connect(id);
        if (!username && c.version == mqtt::protocol_version::v311) {
            username = "token";  // [MQTT-3.1.2-22]: no password without a user name in 3.1.1
        }
        conn.username = std::move(username);
        conn.password = bytes_of(token);
        c.send(conn);
        f.settle();
        return c.expect<mqtt::connack>();
    }
    /// CONNECT with enhanced authentication.
    mqtt::connack connect_enhanced(broker::test::test_client& c, const std::string& id,
                                   const std::string& token, const std::string& method = "CUSTOM-JWT") {
        auto conn = c.make_connect(id);
        conn.properties.authentication_method = method;
        conn.properties.authentication_data = bytes_of(token);
        c.send(conn);
        f.settle();
        return c.expect<mqtt::connack>();
    }

    broker::test::broker_fixture f;
    token_env env;
    std::unique_ptr<token_authenticator> authn;
    scope_authorizer authz;
};

}  // namespace tollgate::auth::test
