#pragma once
// tollgate::oauth::authorization_server: every endpoint of the authorization server as a function
// request -> response, over storage, the signing keys and the revocation hub.
//
//   GET  /.well-known/oauth-authorization-server, /.well-known/openid-configuration  (RFC 8414)
//   GET  /jwks                                    (RFC 7517 key set, public keys only)
//   POST /token                                   (RFC 6749 §3.2; grants below)
//   GET  /authorize                               (RFC 6749 §3.1, RFC 7636), then the pages
//   POST /login, GET /consent, POST /consent      (login and consent pages, CSRF-protected;
//                                                  remembered consent skips the page)
//   GET|POST /logout                              (ends the browser session; RP-initiated style,
//                                                  CSRF-protected, registered post-logout URIs only)
//   POST /device_authorization                    (RFC 8628 §3.1)
//   GET|POST /device, POST /device/decision       (RFC 8628 §3.3 user pages)
//   POST /revoke                                  (RFC 7009)
//   POST /introspect                              (RFC 7662, client authentication required)
// Grants: authorization_code (+PKCE S256), refresh_token (rotation, family revocation on reuse,
// grace for the immediately preceding token), client_credentials (no refresh token),
// urn:ietf:params:oauth:grant-type:device_code, password (opt-in per client, rate-limited).
// Client authentication: client_secret_basic, client_secret_post, private_key_jwt (RFC 7523, jti
// replay cache), tls_client_auth (RFC 8705), none (public clients, PKCE only).
//
// handle() blocks (SQL, argon2id): call it from a work pool, never from an I/O thread.
// Never logs a secret: tokens, codes, secrets and passwords appear only as secret_fingerprint().
// Thread-safety: handle() and the administrative members may be called from any number of
// threads at once.
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include <tollgate/common/clock.hpp>
#include <tollgate/oauth/config.hpp>
#include <tollgate/oauth/crypto.hpp>
#include <tollgate/oauth/error.hpp>
#include <tollgate/oauth/events.hpp>
#include <tollgate/oauth/form.hpp>
#include <tollgate/oauth/http.hpp>
#include <tollgate/oauth/keys.hpp>
#include <tollgate/oauth/rate_limit.hpp>
#include <tollgate/oauth/storage.hpp>

namespace tollgate::oauth {

/// What `client add` asks for.
struct client_options {
    std::string client_id;  ///< empty: generated
    std::string name;
    std::string auth_method = "client_secret_basic";
    std::vector<std::string> redirect_uris;
    std::vector<std::string> grant_types{"client_credentials"};
    std::vector<std::string> scopes;
    bool require_pkce = true;
    std::int64_t access_token_ttl = 0;  ///< 0: server default
    std::int64_t refresh_token_ttl = 30 * 24 * 3600;
    std::string audience;
    std::string jwks;
    std::string tls_subject_dn;
    bool certificate_bound = false;
    std::vector<std::string> post_logout_redirect_uris;
};

struct created_client {
    client_record record;
    std::string secret;  ///< plaintext, shown once; empty for clients without a secret
};

/// A validated grant, ready to become tokens.
struct grant_context {
    std::string client_id;
    std::string subject;
    std::string scope;
    std::string audience;
    std::string family_id;  ///< empty: no refresh token family (client_credentials, implicit)
    std::string cnf_x5t;
    std::int64_t ttl = 3600;
};

class authorization_server {
  public:
    /// Opens (creating if needed) the data directory's key file and database, migrates the
    /// schema and makes a signing key if none exists. Throws std::runtime_error / store::error.
    authorization_server(server_config config, const common::clock& clock);
    ~authorization_server();
    authorization_server(const authorization_server&) = delete;
    authorization_server& operator=(const authorization_server&) = delete;

    /// Routes one request to its endpoint. Never throws: unexpected failures become a 500
    /// server_error without details.
    [[nodiscard]] response handle(const request& req);

    // --- administration (tollgate admin, and the first start)
    /// Validates options (auth method, grants, redirect URIs) and stores the client. Throws
    /// std::invalid_argument naming the bad option; store::error(constraint) for a duplicate id.
    created_client create_client(const client_options& options);
    /// New secret for a secret-based client; nullopt if the client does not exist or has none.
    std::optional<std::string> rotate_client_secret(const std::string& client_id);
    /// Deletes the client and revokes everything it holds, its remembered consents included
    /// (publishes a client event).
    bool remove_client(const std::string& client_id);
    void add_user(const std::string& username, const std::string& password);
    /// New password; ends the user's browser sessions and revokes the user's refresh and access
    /// tokens (RFC 9700 §4.14.2: revoked on a password change), publishing a subject event.
    bool set_user_password(const std::string& username, const std::string& password);
    /// As set_user_password, and forgets the user's remembered consents.
    bool remove_user(const std::string& username);
    /// Revokes an access token (a JWT we issued, or its jti) or a refresh token; true if something
    /// was revoked.
    bool revoke_token(const std::string& token_or_jti);
    /// On an empty database: creates the client "admin" (client_credentials, scope "admin") and
    /// returns its secret, to be printed once. nullopt when clients already exist.
    std::optional<created_client> bootstrap_admin_client();
    janitor_report run_janitor();

    [[nodiscard]] storage& store() noexcept { return *db_; }
    [[nodiscard]] key_manager& keys() noexcept { return *signing_; }
    /// Every revocation this server makes is published here and appended to the revocation
    /// journal; follow_revocation_journal() publishes here those of other processes.
    [[nodiscard]] revocation_hub& revocations() noexcept { return hub_; }
    /// This instance's origin in the revocation journal (random, per instance).
    [[nodiscard]] const std::string& journal_origin() const noexcept { return origin_; }
    /// Publishes on revocations(), in journal order, the rows appended since the previous call
    /// (the first call: since construction) by other instances: another process on the same
    /// database (`tollgate admin`, a second server), never this one's own rows, and without
    /// journaling them again. Returns how many it published. Throws store::error when the
    /// database fails; the position stays, so the next call retries. Thread-safe (serialized).
    std::size_t follow_revocation_journal();
    /// Publishes on revocations() every revocation still in force that the journal holds, whatever
    /// process made it (this one before a restart included): client and subject revocations of the
    /// retention window, and access-token revocations until the token's expiry. `serve` calls it
    /// once, after the broker subscribed and before any listener opens, so a revoked token is still
    /// refused after a restart (RFC 7009 §2, hostile-inputs #78). Returns how many it published.
    /// Throws store::error when the database fails. Thread-safe.
    std::size_t replay_revocations();
    [[nodiscard]] const server_config& config() const noexcept { return config_; }
    [[nodiscard]] const server_keys& secrets() const noexcept { return *server_keys_; }

    /// Signs an RFC 9068 access token for g and records its jti. Returns {token, jti}.
    std::pair<std::string, std::string> issue_access_token(const grant_context& g);

  private:
    struct authenticated_client {
        client_record client;
        std::string method;
        std::string cert_x5t;  ///< x5t#S256 of the TLS client certificate, when one was presented
    };
    using client_result = std::variant<authenticated_client, oauth_error>;

    response dispatch(const request& req);
    response metadata();
    response jwks();
    response token(const request& req);
    response revoke(const request& req);
    response introspect(const request& req);
    response authorize(const request& req);
    response login(const request& req);
    response consent_page(const request& req);
    response consent_decision(const request& req);
    response logout(const request& req);
    response device_authorization(const request& req);
    response device_page(const request& req);
    response device_decision(const request& req);

    client_result authenticate_client(const request& req, const form& params, bool allow_public);
    std::optional<oauth_error> check_private_key_jwt(const client_record& c, const form& params);

    response grant_client_credentials(const authenticated_client& c, const form& params);
    response grant_authorization_code(const authenticated_client& c, const form& params);
    response grant_refresh_token(const authenticated_client& c, const form& params);
    response grant_device_code(const authenticated_client& c, const form& params);
    response grant_password(const authenticated_client& c, const form& params, const request& req);

    /// Token response JSON with a new access token and refresh_token when non-empty.
    response token_response(const grant_context& g, const std::string& refresh_token);
    /// A refresh record for g holding a fresh token (returned in token); not stored.
    refresh_record make_refresh(const grant_context& g, const client_record& c, std::string& token);
    /// Issues access + (if the client may refresh) a new refresh family member.
    response issue_with_refresh(const grant_context& g, const client_record& c);
    /// The one way this server announces a revocation: publishes e on the hub, then appends it to
    /// the journal under origin_ (a journal failure is logged; the local hub already has it).
    void publish_revocation(const revocation_event& e);
    void revoke_family(const std::string& family_id, const std::string& client_id,
                       const std::string& subject);
    std::optional<std::string> session_subject(const request& req);
    /// Remembered consent is offered only for confidential clients in the code flow (RFC 6749
    /// §10.2: no automatic repeat for a client that cannot be authenticated) and consent_ttl > 0.
    [[nodiscard]] bool may_remember_consent(const client_record& c, const pending_request& p) const;
    [[nodiscard]] bool consent_remembered(const std::string& subject, const client_record& c,
                                          const pending_request& p);
    /// The approved request's redirect: a code (code flow) or an access token in the fragment.
    response finish_authorization(const pending_request& p, const client_record& c,
                                  const std::string& subject);
    /// 303 to the request's redirect URI with q, state and iss (RFC 9207).
    response redirect_to_client(const pending_request& p, std::vector<std::pair<std::string, std::string>> q);
    /// Ends every session, refresh family and access token of a user (password change, removal).
    void end_user_grants(const std::string& username);
    std::string resolve_scope(const client_record& c, std::optional<std::string_view> requested, bool& ok);
    std::string audience_for(const client_record& c) const;
    std::int64_t ttl_for(const client_record& c) const;

    server_config config_;
    const common::clock* clock_;
    std::unique_ptr<server_keys> server_keys_;
    std::unique_ptr<storage> db_;
    std::unique_ptr<key_manager> signing_;
    revocation_hub hub_;
    std::string origin_;
    std::mutex journal_mutex_;
    std::int64_t journal_seen_ = 0;  ///< guarded by journal_mutex_
    rate_limiter login_by_user_;
    rate_limiter login_by_address_;
    rate_limiter user_code_by_address_;
};

}  // namespace tollgate::oauth
