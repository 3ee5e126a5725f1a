#pragma once
// The broker's two authentication/authorization extension points (DESIGN.md, STYLE.md point 6),
// and the allow-anonymous implementations this library ships. Token-based ones live in libs/auth.
//
// Both interfaces are asynchronous: an implementation may answer inline or later from any thread.
// While an answer is pending, the connection that asked reads no further packets (its later
// packets wait, in order); the worker's event loop never blocks.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <tollgate/broker/transport.hpp>
#include <tollgate/common/bytes.hpp>
#include <tollgate/common/clock.hpp>
#include <tollgate/mqtt/reason_code.hpp>

namespace tollgate::broker {

/// Who is connected. Immutable once built; shared between the session and the auth layer.
struct principal {
    std::string client_id;
    std::optional<std::string> username;
    std::string subject;   ///< authenticated identity ("" for anonymous)
    std::string issuer;    ///< token issuer, if any
    std::string token_id;  ///< jti or token fingerprint; never the token itself
    /// The broker ends the session at this wall-clock time (token expiry) unless the client
    /// re-authenticates first: v5 DISCONNECT `expiry_reason` + `expiry_reason_string`, v3.1.1 close.
    std::optional<common::system_time> expires_at;
    mqtt::reason_code expiry_reason = mqtt::reason_code::not_authorized;
    std::string expiry_reason_string = "token expired";
    std::shared_ptr<const void> context;  ///< opaque data of the auth layer (compiled permissions, ...)
};

struct auth_request {
    enum class step {
        connect,         ///< CONNECT arrived (with or without an Authentication Method)
        continue_auth,   ///< AUTH 0x18 during the CONNECT exchange
        reauthenticate,  ///< AUTH 0x19 on an established connection (v5 only)
    } kind = step::connect;
    mqtt::protocol_version version = mqtt::protocol_version::v5;
    std::string client_id;  ///< as the client sent it (or assigned, when it sent none)
    std::optional<std::string> username;
    std::optional<common::shared_bytes> password;  ///< a secret: never log it
    std::optional<std::string> method;             ///< Authentication Method (v5 enhanced auth)
    std::optional<common::shared_bytes> data;      ///< Authentication Data
    const connection_info* connection = nullptr;   ///< valid only during authenticate()'s call
    /// The principal of the session being re-authenticated (reauthenticate only).
    std::shared_ptr<const principal> current;
};

struct auth_result {
    enum class outcome { success, failure, continue_auth } result = outcome::failure;
    /// For failure: the reason for CONNACK (v3.1.1 mapped by mqtt::v311_connack_code) or, on
    /// re-authentication, for DISCONNECT. Ignored for success / continue_auth.
    mqtt::reason_code reason = mqtt::reason_code::not_authorized;
    std::string reason_string;
    /// For failure: which check failed, in words ("signature", "token expired", "issuer not
    /// trusted", ...), for the audit log and `tollgate admin explain`. Never sent to the client and
    /// never holds a secret. May be empty.
    std::string detail;
    std::optional<common::shared_bytes> data;  ///< Authentication Data for CONNACK / AUTH
    std::shared_ptr<const principal> who;      ///< required for success
};

class authenticator {
  public:
    virtual ~authenticator();
    /// Judges one authentication step. `done` must be called exactly once, from any thread, possibly
    /// inline. The broker supports methods only if the authenticator does: an unknown method should
    /// fail with bad_authentication_method (0x8C).
    virtual void authenticate(auth_request request, std::function<void(auth_result)> done) = 0;
};

enum class action { publish, subscribe };

struct verdict {
    bool allow = false;
    std::string rule;    ///< which rule decided (for logs and the decision explanation)
    std::string reason;  ///< human-readable reason; sent as Reason String on a v5 denial
};

class authorizer {
  public:
    virtual ~authorizer();
    /// Answers now when it can (returns the verdict; `done` is then never called) or returns
    /// nullopt and later calls `done` exactly once from any thread. Called for every PUBLISH
    /// (including wills, at the time the will is published) and every SUBSCRIBE filter
    /// (`topic_or_filter` is the filter as the client sent it, "$share/g/f" included).
    virtual std::optional<verdict> check(const principal& who, action what, std::string_view topic_or_filter,
                                         std::uint8_t qos, bool retain,
                                         std::function<void(verdict)> done) = 0;
};

/// Accepts every CONNECT without an Authentication Method (the principal has the client id and
/// username, subject empty) and refuses enhanced authentication with 0x8C. With
/// `allow = false` it refuses every CONNECT with 0x87 (not authorized), so a misconfigured
/// deployment fails closed.
class anonymous_authenticator final : public authenticator {
  public:
    explicit anonymous_authenticator(bool allow = true) : allow_(allow) {}
    void authenticate(auth_request request, std::function<void(auth_result)> done) override;

  private:
    bool allow_;
};

/// Allows everything, inline. For anonymous development setups and tests.
class allow_all_authorizer final : public authorizer {
  public:
    std::optional<verdict> check(const principal& who, action what, std::string_view topic_or_filter,
                                 std::uint8_t qos, bool retain, std::function<void(verdict)> done) override;
};

}  // namespace tollgate::broker
