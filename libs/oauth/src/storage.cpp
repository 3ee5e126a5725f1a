// storage over tollgate::store. Every record type has one codec (table, column list, values in
// column order, record from a row); the generic insert/select helpers below build every INSERT
// and SELECT from it, so a column is named once and a row is mapped once.
#include <algorithm>

#include <tollgate/oauth/storage.hpp>
#include <tollgate/store/migrate.hpp>

#include "schema.hpp"

namespace tollgate::oauth {
namespace {

using store::value;
using values = std::vector<value>;

std::vector<std::string> split_list(const std::string& text) {
    std::vector<std::string> out;
    std::size_t pos = 0;
    while (pos < text.size()) {
        auto sp = text.find(' ', pos);
        if (sp == std::string::npos) {
            sp = text.size();
        }
        if (sp > pos) {
            out.push_back(text.substr(pos, sp - pos));
        }
        pos = sp + 1;
    }
    return out;
}

std::string join_list(const std::vector<std::string>& items) {
    std::string out;
    for (const auto& s : items) {
        if (!out.empty()) {
            out.push_back(' ');
        }
        out += s;
    }
    return out;
}

value v(const std::string& s) {
    return value{s};
}
value v(std::string_view s) {
    return value{std::string(s)};
}
value v(std::int64_t i) {
    return value{i};
}
value v(bool b) {
    return value{static_cast<std::int64_t>(b ? 1 : 0)};
}
value v(const std::vector<std::string>& list) {
    return value{join_list(list)};
}

/// Reads the columns of a row in order, so a codec never repeats an index.
class cursor {
  public:
    explicit cursor(const store::row& r) : row_(&r) {}
    std::string text() { return row_->text(next_++); }
    std::int64_t integer() { return row_->integer(next_++); }
    bool flag() { return integer() != 0; }
    std::vector<std::string> list() { return split_list(text()); }

  private:
    const store::row* row_;
    std::size_t next_ = 0;
};

refresh_state refresh_state_from(const std::string& s) {
    if (s == "active") {
        return refresh_state::active;
    }
    return s == "rotated" ? refresh_state::rotated : refresh_state::revoked;
}

device_status device_status_from(const std::string& s) {
    if (s == "pending") {
        return device_status::pending;
    }
    if (s == "approved") {
        return device_status::approved;
    }
    return s == "denied" ? device_status::denied : device_status::used;
}

// --- codecs: table, columns, values (same order), record from a row (same order).
template <class Record>
struct codec;

template <>
struct codec<client_record> {
    static constexpr std::string_view table = "oauth_clients";
    static constexpr std::string_view columns =
        "client_id, name, secret_digest, auth_method, redirect_uris, grant_types, scopes, require_pkce, "
        "access_token_ttl, refresh_token_ttl, audience, jwks, tls_subject_dn, certificate_bound, created_at, "
        "post_logout_redirect_uris";
    static values of(const client_record& c) {
        return {v(c.client_id),        v(c.name),
                v(c.secret_digest),    v(c.auth_method),
                v(c.redirect_uris),    v(c.grant_types),
                v(c.scopes),           v(c.require_pkce),
                v(c.access_token_ttl), v(c.refresh_token_ttl),
                v(c.audience),         v(c.jwks),
                v(c.tls_subject_dn),   v(c.certificate_bound),
                v(c.created_at),       v(c.post_logout_redirect_uris)};
    }
    static client_record from(cursor c) {
        client_record x;
        x.client_id = c.text();
        x.name = c.text();
        x.secret_digest = c.text();
        x.auth_method = c.text();
        x.redirect_uris = c.list();
        x.grant_types = c.list();
        x.scopes = c.list();
        x.require_pkce = c.flag();
        x.access_token_ttl = c.integer();
        x.refresh_token_ttl = c.integer();
        x.audience = c.text();
        x.jwks = c.text();
        x.tls_subject_dn = c.text();
        x.certificate_bound = c.flag();
        x.created_at = c.integer();
        x.post_logout_redirect_uris = c.list();
        return x;
    }
};

template <>
struct codec<user_record> {
    static constexpr std::string_view table = "oauth_users";
    static constexpr std::string_view columns = "username, password_hash, created_at";
    static values of(const user_record& u) { return {v(u.username), v(u.password_hash), v(u.created_at)}; }
    static user_record from(cursor c) { return {c.text(), c.text(), c.integer()}; }
};

template <>
struct codec<signing_key_record> {
    static constexpr std::string_view table = "oauth_signing_keys";
    static constexpr std::string_view columns =
        "kid, alg, sealed_private_key, created_at, retired_at, keep_until";
    static values of(const signing_key_record& k) {
        return {v(k.kid),        v(k.alg),        v(k.sealed_private_key),
                v(k.created_at), v(k.retired_at), v(k.keep_until)};
    }
    static signing_key_record from(cursor c) {
        return {c.text(), c.text(), c.text(), c.integer(), c.integer(), c.integer()};
    }
};

template <>
struct codec<access_token_record> {
    static constexpr std::string_view table = "oauth_access_tokens";
    static constexpr std::string_view columns =
        "jti, client_id, subject, family_id, scope, audience, issued_at, expires_at, revoked";
    static values of(const access_token_record& t) {
        return {v(t.jti),      v(t.client_id), v(t.subject),    v(t.family_id), v(t.scope),
                v(t.audience), v(t.issued_at), v(t.expires_at), v(t.revoked)};
    }
    static access_token_record from(cursor c) {
        return {c.text(), c.text(),    c.text(),    c.text(), c.text(),
                c.text(), c.integer(), c.integer(), c.flag()};
    }
};

template <>
struct codec<code_record> {
    static constexpr std::string_view table = "oauth_codes";
    static constexpr std::string_view columns =
        "digest, client_id, subject, redirect_uri, scope, code_challenge, family_id, expires_at, used";
    static values of(const code_record& x) {
        return {v(x.digest),         v(x.client_id), v(x.subject),    v(x.redirect_uri), v(x.scope),
                v(x.code_challenge), v(x.family_id), v(x.expires_at), v(x.used)};
    }
    static code_record from(cursor c) {
        return {c.text(), c.text(), c.text(), c.text(), c.text(), c.text(), c.text(), c.integer(), c.flag()};
    }
};

template <>
struct codec<refresh_record> {
    static constexpr std::string_view table = "oauth_refresh_tokens";
    static constexpr std::string_view columns =
        "digest, family_id, client_id, subject, scope, audience, cnf_x5t, issued_at, expires_at, state, "
        "rotated_at, replaced_by";
    static values of(const refresh_record& x) {
        return {v(x.digest),     v(x.family_id),        v(x.client_id),  v(x.subject),
                v(x.scope),      v(x.audience),         v(x.cnf_x5t),    v(x.issued_at),
                v(x.expires_at), v(to_string(x.state)), v(x.rotated_at), v(x.replaced_by)};
    }
    static refresh_record from(cursor c) {
        refresh_record x;
        x.digest = c.text();
        x.family_id = c.text();
        x.client_id = c.text();
        x.subject = c.text();
        x.scope = c.text();
        x.audience = c.text();
        x.cnf_x5t = c.text();
        x.issued_at = c.integer();
        x.expires_at = c.integer();
        x.state = refresh_state_from(c.text());
        x.rotated_at = c.integer();
        x.replaced_by = c.text();
        return x;
    }
};

template <>
struct codec<device_record> {
    static constexpr std::string_view table = "oauth_device_codes";
    static constexpr std::string_view columns =
        "digest, user_code, client_id, scope, expires_at, poll_interval, last_poll, status, subject";
    static values of(const device_record& d) {
        return {v(d.digest),   v(d.user_code), v(d.client_id),         v(d.scope),  v(d.expires_at),
                v(d.interval), v(d.last_poll), v(to_string(d.status)), v(d.subject)};
    }
    static device_record from(cursor c) {
        device_record d;
        d.digest = c.text();
        d.user_code = c.text();
        d.client_id = c.text();
        d.scope = c.text();
        d.expires_at = c.integer();
        d.interval = c.integer();
        d.last_poll = c.integer();
        d.status = device_status_from(c.text());
        d.subject = c.text();
        return d;
    }
};

template <>
struct codec<pending_request> {
    static constexpr std::string_view table = "oauth_pending";
    static constexpr std::string_view columns =
        "digest, client_id, redirect_uri, redirect_uri_sent, response_type, scope, state, code_challenge, "
        "expires_at";
    static values of(const pending_request& p) {
        return {v(p.digest), v(p.client_id), v(p.redirect_uri),   v(p.redirect_uri_sent), v(p.response_type),
                v(p.scope),  v(p.state),     v(p.code_challenge), v(p.expires_at)};
    }
    static pending_request from(cursor c) {
        return {c.text(), c.text(), c.text(), c.flag(), c.text(), c.text(), c.text(), c.text(), c.integer()};
    }
};

template <>
struct codec<session_record> {
    static constexpr std::string_view table = "oauth_sessions";
    static constexpr std::string_view columns = "digest, subject, expires_at";
    static values of(const session_record& s) { return {v(s.digest), v(s.subject), v(s.expires_at)}; }
    static session_record from(cursor c) { return {c.text(), c.text(), c.integer()}; }
};

template <>
struct codec<consent_record> {
    static constexpr std::string_view table = "oauth_consents";
    static constexpr std::string_view columns = "subject, client_id, scope, granted_at, expires_at";
    static values of(const consent_record& x) {
        return {v(x.subject), v(x.client_id), v(x.scope), v(x.granted_at), v(x.expires_at)};
    }
    static consent_record from(cursor c) { return {c.text(), c.text(), c.text(), c.integer(), c.integer()}; }
};

// --- generic statements over a codec. `tail` is fixed SQL from this file (WHERE/ORDER BY),
// never built from input; values always travel as parameters.
template <class Record>
std::string insert_sql() {
    using c = codec<Record>;
    const auto n = static_cast<std::size_t>(std::count(c::columns.begin(), c::columns.end(), ',')) + 1;
    std::string marks;
    for (std::size_t i = 0; i < n; ++i) {
        marks += i == 0 ? "?" : ", ?";
    }
    return "INSERT INTO " + std::string(c::table) + " (" + std::string(c::columns) + ") VALUES (" + marks +
           ")";
}

template <class Record>
void insert(store::database& db, const Record& r) {
    const auto params = codec<Record>::of(r);
    db.execute(insert_sql<Record>(), params);
}

template <class Record>
std::vector<Record> select(store::database& db, std::string_view tail, const values& params = {}) {
    using c = codec<Record>;
    const auto sql =
        "SELECT " + std::string(c::columns) + " FROM " + std::string(c::table) + " " + std::string(tail);
    std::vector<Record> out;
    for (const auto& row : db.query(sql, params)) {
        out.push_back(c::from(cursor(row)));
    }
    return out;
}

template <class Record>
std::optional<Record> select_one(store::database& db, std::string_view tail, const values& params) {
    auto rows = select<Record>(db, tail, params);
    if (rows.empty()) {
        return std::nullopt;
    }
    return std::move(rows.front());
}

/// Marks the live access tokens whose `column` equals key as revoked; returns the jtis that were
/// live (not revoked, not expired), for revocation events. column is a fixed name from this file.
std::vector<std::string> revoke_access_tokens_where(store::database& db, std::string_view column,
                                                    const std::string& key, std::int64_t now) {
    const std::string col(column);
    store::transaction tx(db);
    std::vector<std::string> jtis;
    for (const auto& r : db.query(
             "SELECT jti FROM oauth_access_tokens WHERE " + col + " = ? AND revoked = 0 AND expires_at > ?",
             {v(key), v(now)})) {
        jtis.push_back(r.text(0));
    }
    db.execute("UPDATE oauth_access_tokens SET revoked = 1 WHERE " + col + " = ?", {v(key)});
    tx.commit();
    return jtis;
}

std::int64_t revoke_refresh_tokens_where(store::database& db, std::string_view column,
                                         const std::string& key) {
    return db.execute("UPDATE oauth_refresh_tokens SET state = 'revoked' WHERE " + std::string(column) +
                          " = ? AND state <> 'revoked'",
                      {v(key)});
}

}  // namespace

std::string_view to_string(refresh_state s) noexcept {
    switch (s) {
        case refresh_state::active:
            return "active";
        case refresh_state::rotated:
            return "rotated";
        case refresh_state::revoked:
            return "revoked";
    }
    return "revoked";
}

std::string_view to_string(device_status s) noexcept {
    switch (s) {
        case device_status::pending:
            return "pending";
        case device_status::approved:
            return "approved";
        case device_status::denied:
            return "denied";
        case device_status::used:
            return "used";
    }
    return "used";
}

bool client_record::has_grant(std::string_view grant) const {
    return std::find(grant_types.begin(), grant_types.end(), grant) != grant_types.end();
}

storage::storage(const std::string& url, std::size_t pool_size) : pool_(url, pool_size) {
    auto db = pool_.acquire();
    store::migrate(*db, "oauth", detail::schema_steps());
}

// --- clients

void storage::insert_client(const client_record& c) {
    insert(*pool_.acquire(), c);
}

std::optional<client_record> storage::find_client(const std::string& client_id) {
    return select_one<client_record>(*pool_.acquire(), "WHERE client_id = ?", {v(client_id)});
}

std::vector<client_record> storage::list_clients() {
    return select<client_record>(*pool_.acquire(), "ORDER BY client_id");
}

bool storage::delete_client(const std::string& client_id) {
    return pool_.acquire()->execute("DELETE FROM oauth_clients WHERE client_id = ?", {v(client_id)}) > 0;
}

bool storage::update_client_secret(const std::string& client_id, const std::string& secret_digest) {
    return pool_.acquire()->execute("UPDATE oauth_clients SET secret_digest = ? WHERE client_id = ?",
                                    {v(secret_digest), v(client_id)}) > 0;
}

std::vector<std::string> storage::enabled_grant_types() {
    std::vector<std::string> out;
    for (const auto& r : pool_.acquire()->query("SELECT DISTINCT grant_types FROM oauth_clients")) {
        for (auto& g : split_list(r.text(0))) {
            if (std::find(out.begin(), out.end(), g) == out.end()) {
                out.push_back(std::move(g));
            }
        }
    }
    std::sort(out.begin(), out.end());
    return out;
}

// --- users

void storage::insert_user(const user_record& u) {
    insert(*pool_.acquire(), u);
}

std::optional<user_record> storage::find_user(const std::string& username) {
    return select_one<user_record>(*pool_.acquire(), "WHERE username = ?", {v(username)});
}

bool storage::update_user_password(const std::string& username, const std::string& password_hash) {
    return pool_.acquire()->execute("UPDATE oauth_users SET password_hash = ? WHERE username = ?",
                                    {v(password_hash), v(username)}) > 0;
}

bool storage::delete_user(const std::string& username) {
    return pool_.acquire()->execute("DELETE FROM oauth_users WHERE username = ?", {v(username)}) > 0;
}

std::int64_t storage::count_users() {
    return pool_.acquire()->query("SELECT COUNT(*) FROM oauth_users")[0].integer(0);
}

// --- signing keys

void storage::insert_signing_key(const signing_key_record& k) {
    insert(*pool_.acquire(), k);
}

std::vector<signing_key_record> storage::list_signing_keys() {
    return select<signing_key_record>(*pool_.acquire(), "ORDER BY created_at, kid");
}

void storage::retire_signing_keys_except(const std::string& keep_kid, std::int64_t now,
                                         std::int64_t keep_until) {
    pool_.acquire()->execute(
        "UPDATE oauth_signing_keys SET retired_at = ?, keep_until = ? WHERE retired_at = 0 AND kid <> ?",
        {v(now), v(keep_until), v(keep_kid)});
}

// --- access tokens

void storage::insert_access_token(const access_token_record& t) {
    insert(*pool_.acquire(), t);
}

std::optional<access_token_record> storage::find_access_token(const std::string& jti) {
    return select_one<access_token_record>(*pool_.acquire(), "WHERE jti = ?", {v(jti)});
}

bool storage::revoke_access_token(const std::string& jti) {
    return pool_.acquire()->execute(
               "UPDATE oauth_access_tokens SET revoked = 1 WHERE jti = ? AND revoked = 0", {v(jti)}) > 0;
}

std::vector<std::string> storage::revoke_family_access_tokens(const std::string& family_id,
                                                              std::int64_t now) {
    return revoke_access_tokens_where(*pool_.acquire(), "family_id", family_id, now);
}

std::vector<std::string> storage::revoke_client_access_tokens(const std::string& client_id,
                                                              std::int64_t now) {
    return revoke_access_tokens_where(*pool_.acquire(), "client_id", client_id, now);
}

std::vector<std::string> storage::revoke_subject_access_tokens(const std::string& subject, std::int64_t now) {
    return revoke_access_tokens_where(*pool_.acquire(), "subject", subject, now);
}

// --- authorization codes

void storage::insert_code(const code_record& c) {
    insert(*pool_.acquire(), c);
}

storage::consumed_code storage::consume_code(const std::string& digest) {
    auto db = pool_.acquire();
    consumed_code out;
    out.first_use =
        db->execute("UPDATE oauth_codes SET used = 1 WHERE digest = ? AND used = 0", {v(digest)}) == 1;
    out.code = select_one<code_record>(*db, "WHERE digest = ?", {v(digest)});
    return out;
}

// --- refresh tokens

void storage::insert_refresh(const refresh_record& x) {
    insert(*pool_.acquire(), x);
}

std::optional<refresh_record> storage::find_refresh(const std::string& digest) {
    return select_one<refresh_record>(*pool_.acquire(), "WHERE digest = ?", {v(digest)});
}

bool storage::rotate_refresh(const std::string& old_digest, const refresh_record& x, std::int64_t now) {
    auto db = pool_.acquire();
    store::transaction tx(*db);
    if (db->execute("UPDATE oauth_refresh_tokens SET state = 'rotated', rotated_at = ?, replaced_by = ? "
                    "WHERE digest = ? AND state = 'active'",
                    {v(now), v(x.digest), v(old_digest)}) != 1) {
        return false;
    }
    insert(*db, x);
    tx.commit();
    return true;
}

std::int64_t storage::revoke_refresh_family(const std::string& family_id) {
    return revoke_refresh_tokens_where(*pool_.acquire(), "family_id", family_id);
}

std::int64_t storage::revoke_client_refresh_tokens(const std::string& client_id) {
    return revoke_refresh_tokens_where(*pool_.acquire(), "client_id", client_id);
}

std::int64_t storage::revoke_subject_refresh_tokens(const std::string& subject) {
    return revoke_refresh_tokens_where(*pool_.acquire(), "subject", subject);
}

// --- device codes

void storage::insert_device(const device_record& d) {
    insert(*pool_.acquire(), d);
}

std::optional<device_record> storage::find_device(const std::string& digest) {
    return select_one<device_record>(*pool_.acquire(), "WHERE digest = ?", {v(digest)});
}

std::optional<device_record> storage::find_device_by_user_code(const std::string& user_code) {
    return select_one<device_record>(*pool_.acquire(), "WHERE user_code = ?", {v(user_code)});
}

void storage::update_device_poll(const std::string& digest, std::int64_t last_poll, std::int64_t interval) {
    pool_.acquire()->execute(
        "UPDATE oauth_device_codes SET last_poll = ?, poll_interval = ? WHERE digest = ?",
        {v(last_poll), v(interval), v(digest)});
}

bool storage::decide_device(const std::string& user_code, device_status decision,
                            const std::string& subject) {
    return pool_.acquire()->execute(
               "UPDATE oauth_device_codes SET status = ?, subject = ? "
               "WHERE user_code = ? AND status = 'pending'",
               {v(to_string(decision)), v(subject), v(user_code)}) == 1;
}

bool storage::claim_device(const std::string& digest) {
    return pool_.acquire()->execute(
               "UPDATE oauth_device_codes SET status = 'used' WHERE digest = ? AND status = 'approved'",
               {v(digest)}) == 1;
}

// --- browser flow

void storage::insert_pending(const pending_request& p) {
    insert(*pool_.acquire(), p);
}

std::optional<pending_request> storage::find_pending(const std::string& digest) {
    return select_one<pending_request>(*pool_.acquire(), "WHERE digest = ?", {v(digest)});
}

bool storage::delete_pending(const std::string& digest) {
    return pool_.acquire()->execute("DELETE FROM oauth_pending WHERE digest = ?", {v(digest)}) == 1;
}

void storage::insert_session(const session_record& s) {
    insert(*pool_.acquire(), s);
}

std::optional<session_record> storage::find_session(const std::string& digest) {
    return select_one<session_record>(*pool_.acquire(), "WHERE digest = ?", {v(digest)});
}

bool storage::delete_session(const std::string& digest) {
    return pool_.acquire()->execute("DELETE FROM oauth_sessions WHERE digest = ?", {v(digest)}) == 1;
}

std::int64_t storage::delete_sessions_of_subject(const std::string& subject) {
    return pool_.acquire()->execute("DELETE FROM oauth_sessions WHERE subject = ?", {v(subject)});
}

// --- remembered consent

void storage::save_consent(const consent_record& c) {
    auto db = pool_.acquire();
    store::transaction tx(*db);
    db->execute("DELETE FROM oauth_consents WHERE subject = ? AND client_id = ?",
                {v(c.subject), v(c.client_id)});
    insert(*db, c);
    tx.commit();
}

std::optional<consent_record> storage::find_consent(const std::string& subject,
                                                    const std::string& client_id) {
    return select_one<consent_record>(*pool_.acquire(), "WHERE subject = ? AND client_id = ?",
                                      {v(subject), v(client_id)});
}

std::int64_t storage::delete_consents_of_subject(const std::string& subject) {
    return pool_.acquire()->execute("DELETE FROM oauth_consents WHERE subject = ?", {v(subject)});
}

std::int64_t storage::delete_consents_of_client(const std::string& client_id) {
    return pool_.acquire()->execute("DELETE FROM oauth_consents WHERE client_id = ?", {v(client_id)});
}

// --- replay cache and janitor

bool storage::remember_jti(const std::string& key, std::int64_t expires_at) {
    return pool_.acquire()->execute(
               "INSERT INTO oauth_replay (replay_key, expires_at) VALUES (?, ?) ON CONFLICT DO NOTHING",
               {v(key), v(expires_at)}) == 1;
}

janitor_report storage::purge_expired(std::int64_t now) {
    auto db = pool_.acquire();
    auto purge = [&](std::string_view table, std::string_view condition) {
        return db->execute("DELETE FROM " + std::string(table) + " WHERE " + std::string(condition),
                           {v(now)});
    };
    janitor_report r;
    r.codes = purge("oauth_codes", "expires_at < ?");
    r.access_tokens = purge("oauth_access_tokens", "expires_at < ?");
    // A family's rows are kept while any member can still be presented: reuse detection needs them.
    r.refresh_tokens = purge("oauth_refresh_tokens",
                             "family_id IN (SELECT family_id FROM oauth_refresh_tokens GROUP BY family_id "
                             "HAVING MAX(expires_at) < ?)");
    r.device_codes = purge("oauth_device_codes", "expires_at < ?");
    r.pending = purge("oauth_pending", "expires_at < ?");
    r.sessions = purge("oauth_sessions", "expires_at < ?");
    r.replay = purge("oauth_replay", "expires_at < ?");
    r.keys = purge("oauth_signing_keys", "retired_at > 0 AND keep_until < ?");
    r.consents = purge("oauth_consents", "expires_at < ?");
    return r;
}

}  // namespace tollgate::oauth
