// The "oauth" component's schema steps. Portable SQL: TEXT and BIGINT only, flags as 0/1 BIGINT,
// so one text serves SQLite and PostgreSQL (v3 alone has a PostgreSQL text, for its identity key).
#include "schema.hpp"

#include <string>
#include <string_view>

namespace tollgate::oauth::detail {
namespace {

/// Step 3's text with `key` as the type of its seq column (the one part that differs by dialect).
std::string revocation_journal_sql(std::string_view key) {
    return std::string("\nCREATE TABLE oauth_revocation_journal (\n  seq ") + std::string(key) + R"sql(,
  kind TEXT NOT NULL,
  jti TEXT NOT NULL,
  family_id TEXT NOT NULL,
  client_id TEXT NOT NULL,
  subject TEXT NOT NULL,
  time BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  origin TEXT NOT NULL
);
CREATE INDEX oauth_revocation_journal_time ON oauth_revocation_journal (time)
)sql";
}

}  // namespace

const std::vector<store::migration>& schema_steps() {
    static const std::vector<store::migration> steps{
        {1, "oauth core tables",
         R"sql(
CREATE TABLE oauth_clients (
  client_id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  secret_digest TEXT NOT NULL,
  auth_method TEXT NOT NULL,
  redirect_uris TEXT NOT NULL,
  grant_types TEXT NOT NULL,
  scopes TEXT NOT NULL,
  require_pkce BIGINT NOT NULL,
  access_token_ttl BIGINT NOT NULL,
  refresh_token_ttl BIGINT NOT NULL,
  audience TEXT NOT NULL,
  jwks TEXT NOT NULL,
  tls_subject_dn TEXT NOT NULL,
  certificate_bound BIGINT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE TABLE oauth_users (
  username TEXT PRIMARY KEY,
  password_hash TEXT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE TABLE oauth_signing_keys (
  kid TEXT PRIMARY KEY,
  alg TEXT NOT NULL,
  sealed_private_key TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  retired_at BIGINT NOT NULL,
  keep_until BIGINT NOT NULL
);
CREATE TABLE oauth_access_tokens (
  jti TEXT PRIMARY KEY,
  client_id TEXT NOT NULL,
  subject TEXT NOT NULL,
  family_id TEXT NOT NULL,
  scope TEXT NOT NULL,
  audience TEXT NOT NULL,
  issued_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  revoked BIGINT NOT NULL
);
CREATE INDEX oauth_access_tokens_family ON oauth_access_tokens (family_id);
CREATE INDEX oauth_access_tokens_client ON oauth_access_tokens (client_id);
CREATE INDEX oauth_access_tokens_expiry ON oauth_access_tokens (expires_at);
CREATE TABLE oauth_codes (
  digest TEXT PRIMARY KEY,
  client_id TEXT NOT NULL,
  subject TEXT NOT NULL,
  redirect_uri TEXT NOT NULL,
  scope TEXT NOT NULL,
  code_challenge TEXT NOT NULL,
  family_id TEXT NOT NULL,
  expires_at BIGINT NOT NULL,
  used BIGINT NOT NULL
);
CREATE TABLE oauth_refresh_tokens (
  digest TEXT PRIMARY KEY,
  family_id TEXT NOT NULL,
  client_id TEXT NOT NULL,
  subject TEXT NOT NULL,
  scope TEXT NOT NULL,
  audience TEXT NOT NULL,
  cnf_x5t TEXT NOT NULL,
  issued_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  state TEXT NOT NULL,
  rotated_at BIGINT NOT NULL,
  replaced_by TEXT NOT NULL
);
CREATE INDEX oauth_refresh_family ON oauth_refresh_tokens (family_id);
CREATE INDEX oauth_refresh_client ON oauth_refresh_tokens (client_id);
CREATE TABLE oauth_device_codes (
  digest TEXT PRIMARY KEY,
  user_code TEXT NOT NULL UNIQUE,
  client_id TEXT NOT NULL,
  scope TEXT NOT NULL,
  expires_at BIGINT NOT NULL,
  poll_interval BIGINT NOT NULL,
  last_poll BIGINT NOT NULL,
  status TEXT NOT NULL,
  subject TEXT NOT NULL
);
CREATE TABLE oauth_pending (
  digest TEXT PRIMARY KEY,
  client_id TEXT NOT NULL,
  redirect_uri TEXT NOT NULL,
  redirect_uri_sent BIGINT NOT NULL,
  response_type TEXT NOT NULL,
  scope TEXT NOT NULL,
  state TEXT NOT NULL,
  code_challenge TEXT NOT NULL,
  expires_at BIGINT NOT NULL
);
CREATE TABLE oauth_sessions (
  digest TEXT PRIMARY KEY,
  subject TEXT NOT NULL,
  expires_at BIGINT NOT NULL
);
CREATE TABLE oauth_replay (
  replay_key TEXT PRIMARY KEY,
  expires_at BIGINT NOT NULL
)
)sql",
         ""},
        {2, "remembered consent, post-logout redirect URIs",
         R"sql(
CREATE TABLE oauth_consents (
  subject TEXT NOT NULL,
  client_id TEXT NOT NULL,
  scope TEXT NOT NULL,
  granted_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  PRIMARY KEY (subject, client_id)
);
CREATE INDEX oauth_consents_client ON oauth_consents (client_id);
ALTER TABLE oauth_clients ADD COLUMN post_logout_redirect_uris TEXT NOT NULL DEFAULT '';
CREATE INDEX oauth_sessions_subject ON oauth_sessions (subject);
CREATE INDEX oauth_refresh_subject ON oauth_refresh_tokens (subject);
CREATE INDEX oauth_access_tokens_subject ON oauth_access_tokens (subject)
)sql",
         ""},
        // The only step with a dialect: the auto-increment key. The other columns are portable.
        {3, "revocation journal", revocation_journal_sql("INTEGER PRIMARY KEY AUTOINCREMENT"),
         revocation_journal_sql("BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY")},
    };
    return steps;
}

}  // namespace tollgate::oauth::detail
