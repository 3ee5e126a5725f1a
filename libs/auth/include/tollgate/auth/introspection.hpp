#pragma once
// RFC 7662 token introspection, as the resource server's client of an authorization server.
//
//  - introspection_client: POSTs `token=<token>&token_type_hint=access_token`
//    (application/x-www-form-urlencoded, RFC 7662 §2.1) to the issuer's introspection endpoint
//    through an injected http_fetch, authenticated with client_secret_basic (RFC 6749 §2.3.1: the
//    client id and secret are each form-urlencoded, then joined by ':' and base64-encoded), and
//    parses the answer strictly (parse_introspection_response).
//  - token_recheck: the re-check state of one token shared by every live session authenticated
//    with it (the age of its last fresh verdict, whether a check is in flight, whether the issuer
//    said it is no longer active). token_authenticator creates it; introspection_monitor (an
//    authorizer decorator, introspection_monitor.hpp) starts the periodic checks.
//
// A verdict is one of: active (the response is a JSON object with "active": true and every known
// member well-typed and within the limits), inactive ("active": false, or a 200 response that is
// not usable: not JSON, "active" missing or not a boolean, a member of the wrong type, beyond the
// limits), or unavailable (no 200 response: transport error, timeout, 4xx/5xx). Only unavailable
// means "no fresh verdict"; the caller then applies its grace period.
//
// The token is a secret: it is sent in the request body only, never logged; logs name it by
// fingerprint (common::secret_fingerprint). The client secret is never logged either.
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

#include <tollgate/auth/http_fetch.hpp>
#include <tollgate/common/clock.hpp>

namespace tollgate::auth {

/// Bounds on an introspection response (untrusted input).
struct introspection_limits {
    std::size_t max_body_bytes = 64 * 1024;
    std::size_t max_depth = 16;
    std::size_t max_members = 1024;
    std::size_t max_string_bytes = 8 * 1024;
    std::size_t max_scopes = 256;    ///< scope tokens in "scope"
    std::size_t max_audiences = 64;  ///< entries of an "aud" array
};

struct introspection_result {
    enum class verdict { active, inactive, unavailable } state = verdict::unavailable;
    /// Why inactive or unavailable (for logs; never contains the token or a secret).
    std::string error;
    std::optional<std::int64_t> exp;
    std::optional<std::int64_t> iat;
    std::optional<std::int64_t> nbf;
    std::string sub;
    std::string client_id;
    std::string username;
    std::string token_type;
    std::string jti;
    std::optional<std::string> iss;
    std::vector<std::string> aud;     ///< "aud" as a string or an array of strings
    std::vector<std::string> scopes;  ///< "scope" split on spaces (RFC 7662 §2.2)
    boost::json::object claims;       ///< the whole response (for {claim:NAME} and bindings)

    [[nodiscard]] bool active() const noexcept { return state == verdict::active; }
};

/// Judges an HTTP response of an introspection endpoint (see the verdict rules above). Never throws
/// on any input.
[[nodiscard]] introspection_result parse_introspection_response(const http_response& response,
                                                                const introspection_limits& limits = {});

/// application/x-www-form-urlencoded encoding of one name or value (WHATWG URL §5.2: unreserved
/// ALPHA / DIGIT / "*-._" kept, space as '+', everything else %XX upper-case).
[[nodiscard]] std::string form_urlencode(std::string_view s);

/// The Authorization header value for client_secret_basic (RFC 6749 §2.3.1).
[[nodiscard]] std::string basic_authorization(std::string_view client_id, std::string_view client_secret);

/// What an active verdict must also satisfy to be accepted for this broker.
struct introspection_expectations {
    std::string issuer;                  ///< "iss", when present, must equal it
    std::vector<std::string> audiences;  ///< "aud", when present, must contain one of them
    std::chrono::seconds leeway{30};
    bool require_exp = false;  ///< opaque tokens: the session deadline comes from "exp"
};

/// nullopt when `r` is active and meets `e` at `now` (Unix seconds): exp (+leeway) not passed, nbf
/// (-leeway) reached, iss and aud as expected; otherwise what failed.
[[nodiscard]] std::optional<std::string> check_introspected(const introspection_result& r,
                                                            const introspection_expectations& e,
                                                            std::int64_t now);

struct introspection_client_config {
    std::string endpoint;  ///< https://... (http:// only if the fetch allows it)
    /// Asked for the endpoint on each request when `endpoint` is empty (the issuer's discovery
    /// metadata, which may arrive after start-up); an empty answer makes the verdict unavailable.
    std::function<std::string()> discovered_endpoint;
    std::string client_id;
    std::string client_secret;  ///< a secret: never logged
    introspection_limits limits;
};

/// Thread-safety: introspect() may be called from any number of threads at once.
class introspection_client {
  public:
    /// Throws std::invalid_argument if both endpoint and discovered_endpoint, the client id or `fetch`
    /// are empty.
    introspection_client(introspection_client_config config, http_fetch fetch);

    /// Asks the endpoint about `token`; `done` runs exactly once, on the fetch's thread (or inline if
    /// the fetch answers inline).
    void introspect(std::string_view token, std::function<void(introspection_result)> done) const;

    /// The endpoint requests go to now ("" if not known yet).
    [[nodiscard]] std::string endpoint() const;
    /// Requests sent so far.
    [[nodiscard]] std::uint64_t requests() const noexcept { return requests_.load(); }

  private:
    introspection_client_config config_;
    std::string authorization_;  ///< precomputed Basic credentials
    http_fetch fetch_;
    mutable std::atomic<std::uint64_t> requests_{0};
};

struct recheck_policy {
    std::chrono::seconds interval{300};  ///< a verdict older than this is due for a re-check
    std::chrono::seconds grace{60};      ///< no fresh verdict for interval + grace: fail closed
    std::chrono::seconds retry{10};      ///< after an unavailable answer, wait this before retrying
};

/// The re-check state of one token (design): the steady time of its last fresh verdict, of the last
/// attempt, an in-flight flag and an inactive flag, all atomics, so the hot path (status()) is a few
/// relaxed loads and starting a check is one compare-exchange: however many sessions and messages
/// use the token, at most one introspection is in flight and a busy client costs one check per
/// interval. The token is kept here, in memory only, because re-checking needs it. Shared (via
/// shared_ptr) by every session authenticated with the token; immutable members are set at
/// construction. Thread-safety: all members are thread-safe.
class token_recheck : public std::enable_shared_from_this<token_recheck> {
  public:
    enum class status {
        fresh,     ///< verdict younger than the interval
        due,       ///< older than the interval, within the grace
        stale,     ///< older than interval + grace: fail closed
        inactive,  ///< the issuer said the token is no longer active
    };

    /// Make it with std::make_shared (start() keeps it alive while a check is in flight). `clock`
    /// and `client` must outlive it.
    token_recheck(std::string token, std::string fingerprint,
                  std::shared_ptr<const introspection_client> client, introspection_expectations expect,
                  recheck_policy policy, const common::clock& clock, common::steady_time verified_at);
    token_recheck(const token_recheck&) = delete;
    token_recheck& operator=(const token_recheck&) = delete;

    [[nodiscard]] status state(common::steady_time now) const noexcept;

    /// Starts one introspection when the verdict is due or stale, none is in flight and the last
    /// failed attempt is older than policy.retry. `after` runs on the fetch's thread once the state
    /// is updated (active: fresh again; inactive: marked inactive; unavailable: unchanged). Returns
    /// whether a check started.
    bool start_if_due(std::function<void(const introspection_result&)> after);

    /// Like start_if_due but unconditionally (unless one is in flight, then returns false); for a
    /// CONNECT whose token verdict is due.
    bool start(std::function<void(const introspection_result&)> after);

    void mark_inactive() noexcept { inactive_.store(true); }
    /// Records a fresh active verdict obtained elsewhere (a CONNECT's introspection) at `at`.
    void mark_fresh(common::steady_time at) noexcept;
    [[nodiscard]] bool inactive() const noexcept { return inactive_.load(); }
    [[nodiscard]] const std::string& fingerprint() const noexcept { return fingerprint_; }
    [[nodiscard]] const recheck_policy& policy() const noexcept { return policy_; }
    [[nodiscard]] common::steady_time verified_at() const noexcept;
    /// Introspections this state started.
    [[nodiscard]] std::uint64_t checks() const noexcept { return checks_.load(); }

  private:
    void launch(std::function<void(const introspection_result&)> after);

    const std::string token_;  ///< a secret: never logged
    const std::string fingerprint_;
    const std::shared_ptr<const introspection_client> client_;
    const introspection_expectations expect_;
    const recheck_policy policy_;
    const common::clock& clock_;
    std::atomic<std::int64_t> verified_ns_;  ///< steady ns of the last fresh verdict
    std::atomic<std::int64_t> failed_ns_;    ///< steady ns of the last unavailable answer
    std::atomic<bool> in_flight_{false};
    std::atomic<bool> inactive_{false};
    std::atomic<std::uint64_t> checks_{0};
};

}  // namespace tollgate::auth
