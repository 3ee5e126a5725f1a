#pragma once
// Persistent state of the authorization server, over tollgate::store (SQLite in WAL mode or
// PostgreSQL; the same portable SQL on both). Tables (migration "oauth" v1, v2, v3):
//   oauth_clients, oauth_users, oauth_signing_keys, oauth_access_tokens (issued jti, for
//   revocation and introspection), oauth_codes, oauth_refresh_tokens (rotation chains grouped in
//   families), oauth_device_codes, oauth_pending (authorization requests waiting for login and
//   consent), oauth_sessions (browser logins), oauth_replay (client-assertion jti cache),
//   oauth_consents (remembered consent: one row per user and client, v2),
//   oauth_revocation_journal (v3: every revocation event, in order, so that a process other than
//   the one that revoked, e.g. `tollgate serve` after `tollgate admin client remove`, learns it).
// Each record type maps to its table through one codec in storage.cpp (column list, values, row),
// so a column is named in one place.
// Opaque values (codes, refresh tokens, device codes, secrets, session ids) are never stored: the
// columns named "digest" hold server_keys::digest() of them.
//
// The operations that decide a race (consuming a code, rotating a refresh token, claiming a
// device code, a replayed jti) are single conditional UPDATE/INSERT statements, so two server
// processes on one PostgreSQL database cannot both win.
//
// Errors: every member throws store::error when the database fails; "not found" is an empty
// optional, never an exception. Thread-safety: all members are thread-safe (each call leases a
// connection from the pool).
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <tollgate/oauth/events.hpp>
#include <tollgate/store/pool.hpp>

namespace tollgate::oauth {

struct client_record {
    std::string client_id;
    std::string name;
    std::string secret_digest;  ///< client_secret_basic/post only
    std::string
        auth_method;  ///< client_secret_basic, client_secret_post, private_key_jwt, tls_client_auth, none
    std::vector<std::string> redirect_uris;
    std::vector<std::string> grant_types;  ///< enabled grants (authorization_code, implicit, password, ...)
    std::vector<std::string> scopes;       ///< scopes the client may ask for
    bool require_pkce = true;
    std::int64_t access_token_ttl = 3600;
    std::int64_t refresh_token_ttl = 30 * 24 * 3600;
    std::string audience;            ///< empty: the server's default audience
    std::string jwks;                ///< private_key_jwt: the client's public keys (JWKS JSON)
    std::string tls_subject_dn;      ///< tls_client_auth: RFC 4514 subject DN the certificate must carry
    bool certificate_bound = false;  ///< add cnf.x5t#S256 when a client certificate is presented
    std::int64_t created_at = 0;
    /// Where /logout may send the browser afterwards (exact match, as redirect_uris).
    std::vector<std::string> post_logout_redirect_uris;

    [[nodiscard]] bool has_grant(std::string_view grant) const;
    [[nodiscard]] bool is_public() const { return auth_method == "none"; }
};

struct user_record {
    std::string username;
    std::string password_hash;  ///< argon2id PHC string
    std::int64_t created_at = 0;
};

struct signing_key_record {
    std::string kid;
    std::string alg;
    std::string sealed_private_key;  ///< AES-256-GCM box of the PKCS#8 PEM (aad = kid)
    std::int64_t created_at = 0;
    std::int64_t retired_at = 0;  ///< 0 while the key signs new tokens
    std::int64_t keep_until = 0;  ///< retired keys stay in the JWKS until then
};

struct access_token_record {
    std::string jti;
    std::string client_id;
    std::string subject;
    std::string family_id;  ///< grant the token came from (code/refresh family); empty for client_credentials
    std::string scope;
    std::string audience;
    std::int64_t issued_at = 0;
    std::int64_t expires_at = 0;
    bool revoked = false;
};

struct code_record {
    std::string digest;
    std::string client_id;
    std::string subject;
    std::string redirect_uri;  ///< as sent to /authorize; empty when it was omitted
    std::string scope;
    std::string code_challenge;  ///< S256 challenge; empty when none was sent
    std::string family_id;
    std::int64_t expires_at = 0;
    bool used = false;
};

enum class refresh_state { active, rotated, revoked };

struct refresh_record {
    std::string digest;
    std::string family_id;
    std::string client_id;
    std::string subject;
    std::string scope;
    std::string audience;
    std::string cnf_x5t;  ///< certificate binding carried over to new access tokens
    std::int64_t issued_at = 0;
    std::int64_t expires_at = 0;
    refresh_state state = refresh_state::active;
    std::int64_t rotated_at = 0;
    std::string replaced_by;  ///< digest of the successor
};

enum class device_status { pending, approved, denied, used };

struct device_record {
    std::string digest;     ///< of the device_code
    std::string user_code;  ///< normalized (8 letters, no dash)
    std::string client_id;
    std::string scope;
    std::int64_t expires_at = 0;
    std::int64_t interval = 5;
    std::int64_t last_poll = 0;
    device_status status = device_status::pending;
    std::string subject;
    std::int64_t failed_attempts = 0;  ///< wrong user codes are counted per address elsewhere
};

struct pending_request {
    std::string digest;  ///< of the request id carried by the pages
    std::string client_id;
    std::string redirect_uri;  ///< the one to use (sent or the single registered one)
    bool redirect_uri_sent = false;
    std::string response_type;  ///< "code" or "token"
    std::string scope;
    std::string state;
    std::string code_challenge;
    std::int64_t expires_at = 0;
};

struct session_record {
    std::string digest;
    std::string subject;
    std::int64_t expires_at = 0;
};

/// A remembered consent: subject approved scope (a set) for client_id until expires_at.
struct consent_record {
    std::string subject;
    std::string client_id;
    std::string scope;  ///< space-separated scope set as approved
    std::int64_t granted_at = 0;
    std::int64_t expires_at = 0;
};

/// One row of the revocation journal: the event, the process (server instance) that recorded it,
/// and its position. seq grows with every append, in commit order (see append_revocation).
struct journal_entry {
    std::int64_t seq = 0;
    revocation_event event;
    std::string origin;
};

/// Rows removed by a janitor pass, per table.
struct janitor_report {
    std::int64_t codes = 0, refresh_tokens = 0, access_tokens = 0, device_codes = 0, pending = 0,
                 sessions = 0, replay = 0, keys = 0, consents = 0, revocations = 0;
    [[nodiscard]] std::int64_t total() const {
        return codes + refresh_tokens + access_tokens + device_codes + pending + sessions + replay + keys +
               consents + revocations;
    }
};

class storage {
  public:
    /// Opens a pool of pool_size connections to url and migrates the schema.
    storage(const std::string& url, std::size_t pool_size);
    storage(const storage&) = delete;
    storage& operator=(const storage&) = delete;

    [[nodiscard]] store::pool& connections() noexcept { return pool_; }

    // --- clients. insert throws store::error(constraint) for a duplicate client_id.
    void insert_client(const client_record& c);
    [[nodiscard]] std::optional<client_record> find_client(const std::string& client_id);
    [[nodiscard]] std::vector<client_record> list_clients();
    bool delete_client(const std::string& client_id);
    bool update_client_secret(const std::string& client_id, const std::string& secret_digest);
    /// Grant types enabled for at least one client (for metadata).
    [[nodiscard]] std::vector<std::string> enabled_grant_types();

    // --- users
    void insert_user(const user_record& u);
    [[nodiscard]] std::optional<user_record> find_user(const std::string& username);
    bool update_user_password(const std::string& username, const std::string& password_hash);
    bool delete_user(const std::string& username);
    [[nodiscard]] std::int64_t count_users();

    // --- signing keys
    void insert_signing_key(const signing_key_record& k);
    [[nodiscard]] std::vector<signing_key_record> list_signing_keys();
    /// Retires every active key except keep_kid.
    void retire_signing_keys_except(const std::string& keep_kid, std::int64_t now, std::int64_t keep_until);

    // --- access tokens
    void insert_access_token(const access_token_record& t);
    [[nodiscard]] std::optional<access_token_record> find_access_token(const std::string& jti);
    /// True when the token existed and was not yet revoked.
    bool revoke_access_token(const std::string& jti);
    /// Revokes every access token of a family; returns the jtis that were live.
    std::vector<std::string> revoke_family_access_tokens(const std::string& family_id, std::int64_t now);
    std::vector<std::string> revoke_client_access_tokens(const std::string& client_id, std::int64_t now);
    std::vector<std::string> revoke_subject_access_tokens(const std::string& subject, std::int64_t now);

    // --- authorization codes
    void insert_code(const code_record& c);
    struct consumed_code {
        std::optional<code_record> code;  ///< the row, if it exists
        bool first_use = false;           ///< this call marked it used
    };
    consumed_code consume_code(const std::string& digest);

    // --- refresh tokens
    void insert_refresh(const refresh_record& r);
    [[nodiscard]] std::optional<refresh_record> find_refresh(const std::string& digest);
    /// Atomically: old (must be active) becomes rotated → successor inserted. False if old was no
    /// longer active (a concurrent rotation won).
    bool rotate_refresh(const std::string& old_digest, const refresh_record& successor, std::int64_t now);
    /// Revokes every refresh token of the family; returns how many were not yet revoked.
    std::int64_t revoke_refresh_family(const std::string& family_id);
    std::int64_t revoke_client_refresh_tokens(const std::string& client_id);
    std::int64_t revoke_subject_refresh_tokens(const std::string& subject);

    // --- device codes
    void insert_device(const device_record& d);
    [[nodiscard]] std::optional<device_record> find_device(const std::string& digest);
    [[nodiscard]] std::optional<device_record> find_device_by_user_code(const std::string& user_code);
    void update_device_poll(const std::string& digest, std::int64_t last_poll, std::int64_t interval);
    /// pending → approved/denied; false when the code was no longer pending.
    bool decide_device(const std::string& user_code, device_status decision, const std::string& subject);
    /// approved → used; false when another poll claimed it first.
    bool claim_device(const std::string& digest);

    // --- browser flow
    void insert_pending(const pending_request& p);
    [[nodiscard]] std::optional<pending_request> find_pending(const std::string& digest);
    bool delete_pending(const std::string& digest);
    void insert_session(const session_record& s);
    [[nodiscard]] std::optional<session_record> find_session(const std::string& digest);
    bool delete_session(const std::string& digest);
    std::int64_t delete_sessions_of_subject(const std::string& subject);

    // --- remembered consent: one row per (subject, client_id); save replaces it.
    void save_consent(const consent_record& c);
    [[nodiscard]] std::optional<consent_record> find_consent(const std::string& subject,
                                                             const std::string& client_id);
    std::int64_t delete_consents_of_subject(const std::string& subject);
    std::int64_t delete_consents_of_client(const std::string& client_id);

    // --- client assertion replay cache: false when key was already recorded (a replay).
    bool remember_jti(const std::string& key, std::int64_t expires_at);

    // --- revocation journal (append-only; read by seq).
    /// Journal rows are kept this long after their event (pollers read new rows within a second;
    /// the margin covers a stopped poller or a slow database). purge_expired removes older ones.
    static constexpr std::int64_t revocation_journal_retention = 2 * 24 * 3600;
    /// Appends the event with origin; returns its seq. Appends are serialized (SQLite: the write
    /// lock; PostgreSQL: an EXCLUSIVE table lock for the transaction), so a row becomes visible only
    /// after every row with a smaller seq: a reader that saw seq N never later finds a new row < N.
    std::int64_t append_revocation(const revocation_event& event, const std::string& origin);
    /// Up to limit rows with seq > after, by increasing seq. Rows of a kind this build does not
    /// know (written by a newer version) are skipped.
    [[nodiscard]] std::vector<journal_entry> revocations_after(std::int64_t after, std::size_t limit);
    /// The largest seq in the journal, 0 when it is empty.
    [[nodiscard]] std::int64_t latest_revocation_seq();

    /// Deletes rows whose lifetime ended before now (refresh families only when every member
    /// expired; journal rows older than revocation_journal_retention).
    janitor_report purge_expired(std::int64_t now);

  private:
    store::pool pool_;
};

std::string_view to_string(refresh_state s) noexcept;
std::string_view to_string(device_status s) noexcept;

}  // namespace tollgate::oauth
