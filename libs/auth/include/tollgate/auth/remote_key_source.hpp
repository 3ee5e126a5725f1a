#pragma once
// tollgate::auth::remote_key_source: an external issuer's verification keys, fetched over HTTPS.
//
// Where the keys come from (remote_key_options):
//  - discovery: the issuer's metadata at "<host>/.well-known/oauth-authorization-server<path>"
//    (RFC 8414 §3.1), or, when that answers anything but 200, at
//    "<issuer>/.well-known/openid-configuration" (OpenID Connect Discovery 1.0 §4). The document's
//    "issuer" must equal the configured issuer exactly (RFC 8414 §3.3), otherwise it is refused
//    (no fallback: a wrong issuer is an error, not an absence). Its "jwks_uri" gives the keys; the
//    metadata (introspection and revocation endpoints, ...) is published through metadata().
//  - or a configured jwks_uri (then no metadata is fetched).
//
// Behaviour:
//  - A fetch cycle starts at construction (from a thread of the source's own), then every
//    refresh_interval after a success; after a failure it is retried with exponential backoff
//    (retry_min doubling to retry_max, never later than refresh_interval). Periodic cycles also
//    re-read the metadata; cycles asked for by refresh() read only the JWKS.
//  - refresh() (a token named an unknown kid) asks for a cycle now, at most once per
//    min_refresh_interval, and never waits: it returns false, and current() returns the new set
//    once the cycle succeeds.
//  - refresh_async(done) (the authenticator's path) does the same but also registers `done`: a
//    caller arriving while any cycle is asked for or in flight joins it (no new fetch, no rate-limit
//    check); otherwise it starts one unless the rate limit forbids it. Every registered `done` runs
//    exactly once when that cycle finishes, success or failure, on the HTTP client's thread (or on
//    the destroying thread if the source goes away before the cycle started). At most
//    max_refresh_waiters are registered at once; beyond that, or when rate-limited, it returns
//    false at once and never calls `done`.
//  - A JWKS is accepted only with status 200, within max_jwks_bytes, parsed by
//    jose::key_set::from_json (unusable keys skipped) and holding at least one usable key. Anything
//    else (transport/TLS error, timeout, other status, garbage, an empty set) is logged and the last
//    good set is kept: an outage never empties the keys.
//  - current() never touches the network: it returns the last good set (an empty set until the
//    first success, so tokens of this issuer are refused until then).
//
// Thread-safety: every member function may be called from any thread. The destructor stops the
// scheduler thread; a fetch still in flight completes on the HTTP client's thread and is dropped.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <tollgate/auth/discovery.hpp>
#include <tollgate/auth/http_fetch.hpp>
#include <tollgate/auth/token_authenticator.hpp>
#include <tollgate/jose/key_set.hpp>

namespace tollgate::auth {

struct remote_key_options {
    std::string issuer;  ///< the exact "iss"; with discovery also the metadata's base URL
    bool discovery = false;
    std::string jwks_uri;     ///< used when discovery is off (required then)
    bool allow_http = false;  ///< accept http:// endpoints in metadata (loopback tests only)
    std::chrono::milliseconds refresh_interval{std::chrono::minutes{15}};
    std::chrono::milliseconds min_refresh_interval{std::chrono::seconds{10}};  ///< refresh() rate limit
    std::chrono::milliseconds retry_min{std::chrono::seconds{1}};
    std::chrono::milliseconds retry_max{std::chrono::seconds{60}};
    std::size_t max_jwks_bytes = 512 * 1024;
    std::size_t max_keys = 64;
    std::size_t max_metadata_bytes = 64 * 1024;
    std::size_t max_refresh_waiters = 1024;  ///< refresh_async callers waiting at once
};

/// Counters and state for logs, tests and the startup wait. A snapshot.
struct remote_key_status {
    std::uint64_t cycles = 0;     ///< fetch cycles finished (success or failure)
    std::uint64_t successes = 0;  ///< cycles that produced an acceptable key set
    std::uint64_t failures = 0;
    std::uint64_t updates = 0;   ///< times current() started returning a different set
    std::uint64_t demanded = 0;  ///< refresh() / refresh_async() calls that started a cycle
    std::uint64_t joined = 0;    ///< refresh_async() calls that joined a cycle already asked for
    std::size_t keys = 0;        ///< keys in the current set
    std::string last_error;      ///< of the latest failed cycle (cleared by a success)
    std::string jwks_uri;        ///< the JWKS URL in use (configured or discovered)
};

class remote_key_source final : public key_source {
  public:
    /// Starts the first fetch cycle at once. Throws std::invalid_argument when the options are
    /// unusable (no issuer; with discovery an issuer that is not an RFC 8414 §2 identifier; a bad
    /// jwks_uri; neither discovery nor jwks_uri; zero intervals).
    remote_key_source(remote_key_options options, http_fetch fetch);
    ~remote_key_source() override;
    remote_key_source(const remote_key_source&) = delete;
    remote_key_source& operator=(const remote_key_source&) = delete;

    std::shared_ptr<const jose::key_set> current() override;
    /// Asks for a JWKS fetch now (rate-limited); never blocks; returns false (see above).
    bool refresh() override;
    /// Starts or joins a JWKS fetch and calls `done` once it finished; false: rate-limited or too
    /// many waiters, `done` is never called (see above). Never blocks.
    bool refresh_async(std::function<void()> done) override;

    /// The discovered metadata, or nullptr (no discovery, or not fetched yet).
    [[nodiscard]] std::shared_ptr<const issuer_metadata> metadata() const;
    [[nodiscard]] remote_key_status status() const;
    [[nodiscard]] const std::string& issuer() const noexcept;

    /// Blocks until pred(status()) holds (checked now and after every finished cycle) or the timeout
    /// passes; returns whether it holds. For startup (wait for the first cycle) and tests.
    bool wait_for(const std::function<bool(const remote_key_status&)>& pred,
                  std::chrono::milliseconds timeout) const;

    struct state;

  private:
    std::shared_ptr<state> state_;
};

}  // namespace tollgate::auth
