#include <algorithm>

#include <tollgate/oauth/storage.hpp>
#include <tollgate/store/migrate.hpp>

#include "schema.hpp"

namespace tollgate::oauth {
namespace {

using store::value;

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
value v(std::int64_t i) {
    return value{i};
}
value v(bool b) {
    return value{static_cast<std::int64_t>(b ? 1 : 0)};
}

constexpr const char* client_columns =
    "client_id, name, secret_digest, auth_method, redirect_uris, grant_types, scopes, require_pkce, "
    "access_token_ttl, refresh_token_ttl, audience, jwks, tls_subject_dn, certificate_bound, created_at";

client_record client_from(const store::row& r) {
    client_record c;
    c.client_id = r.text(0);
    c.name = r.text(1);
    c.secret_digest = r.text(2);
    c.auth_method = r.text(3);
    c.redirect_uris = split_list(r.text(4));
    c.grant_types = split_list(r.text(5));
    c.scopes = split_list(r.text(6));
    c.require_pkce = r.integer(7) != 0;
    c.access_token_ttl = r.integer(8);
    c.refresh_token_ttl = r.integer(9);
    c.audience = r.text(10);
    c.jwks = r.text(11);
    c.tls_subject_dn = r.text(12);
    c.certificate_bound = r.integer(13) != 0;
    c.created_at = r.integer(14);
    return c;
}

constexpr const char* access_columns =
    "jti, client_id, subject, family_id, scope, audience, issued_at, expires_at, revoked";

access_token_record access_from(const store::row& r) {
    return access_token_record{r.text(0), r.text(1),    r.text(2),    r.text(3),        r.text(4),
                               r.text(5), r.integer(6), r.integer(7), r.integer(8) != 0};
}

constexpr const char* refresh_columns =
    "digest, family_id, client_id, subject, scope, audience, cnf_x5t, issued_at, expires_at, state, "
    "rotated_at, "
    "replaced_by";

refresh_state refresh_state_from(const std::string& s) {
    if (s == "active") {
        return refresh_state::active;
    }
    return s == "rotated" ? refresh_state::rotated : refresh_state::revoked;
}

refresh_record refresh_from(const store::row& r) {
    refresh_record x;
    x.digest = r.text(0);
    x.family_id = r.text(1);
    x.client_id = r.text(2);
    x.subject = r.text(3);
    x.scope = r.text(4);
    x.audience = r.text(5);
    x.cnf_x5t = r.text(6);
    x.issued_at = r.integer(7);
    x.expires_at = r.integer(8);
    x.state = refresh_state_from(r.text(9));
    x.rotated_at = r.integer(10);
    x.replaced_by = r.text(11);
    return x;
}

constexpr const char* device_columns =
    "digest, user_code, client_id, scope, expires_at, poll_interval, last_poll, status, subject";

device_status device_status_from(const std::string& s) {
    if (s == "pending") {
        return device_status::pending;
    }
    if (s == "approved") {
        return device_status::approved;
    }
    return s == "denied" ? device_status::denied : device_status::used;
}

device_record device_from(const store::row& r) {
    device_record d;
    d.digest = r.text(0);
    d.user_code = r.text(1);
    d.client_id = r.text(2);
    d.scope = r.text(3);
    d.expires_at = r.integer(4);
    d.interval = r.integer(5);
    d.last_poll = r.integer(6);
    d.status = device_status_from(r.text(7));
    d.subject = r.text(8);
    return d;
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

void storage::insert_client(const client_record& c) {
    auto db = pool_.acquire();
    db->execute(std::string("INSERT INTO oauth_clients (") + client_columns +
                    ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                {v(c.client_id), v(c.name), v(c.secret_digest), v(c.auth_method),
                 v(join_list(c.redirect_uris)), v(join_list(c.grant_types)), v(join_list(c.scopes)),
                 v(c.require_pkce), v(c.access_token_ttl), v(c.refresh_token_ttl), v(c.audience), v(c.jwks),
                 v(c.tls_subject_dn), v(c.certificate_bound), v(c.created_at)});
}

std::optional<client_record> storage::find_client(const std::string& client_id) {
    auto db = pool_.acquire();
    auto rows = db->query(std::string("SELECT ") + client_columns + " FROM oauth_clients WHERE client_id = ?",
                          {v(client_id)});
    if (rows.empty()) {
        return std::nullopt;
    }
    return client_from(rows.front());
}

std::vector<client_record> storage::list_clients() {
    auto db = pool_.acquire();
    std::vector<client_record> out;
    for (const auto& r :
         db->query(std::string("SELECT ") + client_columns + " FROM oauth_clients ORDER BY client_id")) {
        out.push_back(client_from(r));
    }
    return out;
}

bool storage::delete_client(const std::string& client_id) {
    auto db = pool_.acquire();
    return db->execute("DELETE FROM oauth_clients WHERE client_id = ?", {v(client_id)}) > 0;
}

bool storage::update_client_secret(const std::string& client_id, const std::string& secret_digest) {
    auto db = pool_.acquire();
    return db->execute("UPDATE oauth_clients SET secret_digest = ? WHERE client_id = ?",
                       {v(secret_digest), v(client_id)}) > 0;
}

std::vector<std::string> storage::enabled_grant_types() {
    auto db = pool_.acquire();
    std::vector<std::string> out;
    for (const auto& r : db->query("SELECT DISTINCT grant_types FROM oauth_clients")) {
        for (auto& g : split_list(r.text(0))) {
            if (std::find(out.begin(), out.end(), g) == out.end()) {
                out.push_back(std::move(g));
            }
        }
    }
    std::sort(out.begin(), out.end());
    return out;
}

void storage::insert_user(const user_record& u) {
    auto db = pool_.acquire();
    db->execute("INSERT INTO oauth_users (username, password_hash, created_at) VALUES (?, ?, ?)",
                {v(u.username), v(u.password_hash), v(u.created_at)});
}

std::optional<user_record> storage::find_user(const std::string& username) {
    auto db = pool_.acquire();
    auto rows = db->query("SELECT username, password_hash, created_at FROM oauth_users WHERE username = ?",
                          {v(username)});
    if (rows.empty()) {
        return std::nullopt;
    }
    return user_record{rows[0].text(0), rows[0].text(1), rows[0].integer(2)};
}

bool storage::update_user_password(const std::string& username, const std::string& password_hash) {
    auto db = pool_.acquire();
    return db->execute("UPDATE oauth_users SET password_hash = ? WHERE username = ?",
                       {v(password_hash), v(username)}) > 0;
}

bool storage::delete_user(const std::string& username) {
    auto db = pool_.acquire();
    return db->execute("DELETE FROM oauth_users WHERE username = ?", {v(username)}) > 0;
}

std::int64_t storage::count_users() {
    auto db = pool_.acquire();
    return db->query("SELECT COUNT(*) FROM oauth_users")[0].integer(0);
}

void storage::insert_signing_key(const signing_key_record& k) {
    auto db = pool_.acquire();
    db->execute(
        "INSERT INTO oauth_signing_keys (kid, alg, sealed_private_key, created_at, retired_at, keep_until) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        {v(k.kid), v(k.alg), v(k.sealed_private_key), v(k.created_at), v(k.retired_at), v(k.keep_until)});
}

std::vector<signing_key_record> storage::list_signing_keys() {
    auto db = pool_.acquire();
    std::vector<signing_key_record> out;
    for (const auto& r : db->query("SELECT kid, alg, sealed_private_key, created_at, retired_at, keep_until "
                                   "FROM oauth_signing_keys "
                                   "ORDER BY created_at, kid")) {
        out.push_back({r.text(0), r.text(1), r.text(2), r.integer(3), r.integer(4), r.integer(5)});
    }
    return out;
}

void storage::retire_signing_keys_except(const std::string& keep_kid, std::int64_t now,
                                         std::int64_t keep_until) {
    auto db = pool_.acquire();
    db->execute(
        "UPDATE oauth_signing_keys SET retired_at = ?, keep_until = ? WHERE retired_at = 0 AND kid <> ?",
        {v(now), v(keep_until), v(keep_kid)});
}

void storage::insert_access_token(const access_token_record& t) {
    auto db = pool_.acquire();
    db->execute(std::string("INSERT INTO oauth_access_tokens (") + access_columns +
                    ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                {v(t.jti), v(t.client_id), v(t.subject), v(t.family_id), v(t.scope), v(t.audience),
                 v(t.issued_at), v(t.expires_at), v(t.revoked)});
}

std::optional<access_token_record> storage::find_access_token(const std::string& jti) {
    auto db = pool_.acquire();
    auto rows = db->query(std::string("SELECT ") + access_columns + " FROM oauth_access_tokens WHERE jti = ?",
                          {v(jti)});
    if (rows.empty()) {
        return std::nullopt;
    }
    return access_from(rows[0]);
}

bool storage::revoke_access_token(const std::string& jti) {
    auto db = pool_.acquire();
    return db->execute("UPDATE oauth_access_tokens SET revoked = 1 WHERE jti = ? AND revoked = 0", {v(jti)}) >
           0;
}

std::vector<std::string> storage::revoke_family_access_tokens(const std::string& family_id,
                                                              std::int64_t now) {
    auto db = pool_.acquire();
    store::transaction tx(*db);
    std::vector<std::string> jtis;
    for (const auto& r : db->query(
             "SELECT jti FROM oauth_access_tokens WHERE family_id = ? AND revoked = 0 AND expires_at > ?",
             {v(family_id), v(now)})) {
        jtis.push_back(r.text(0));
    }
    db->execute("UPDATE oauth_access_tokens SET revoked = 1 WHERE family_id = ?", {v(family_id)});
    tx.commit();
    return jtis;
}

std::vector<std::string> storage::revoke_client_access_tokens(const std::string& client_id,
                                                              std::int64_t now) {
    auto db = pool_.acquire();
    store::transaction tx(*db);
    std::vector<std::string> jtis;
    for (const auto& r : db->query(
             "SELECT jti FROM oauth_access_tokens WHERE client_id = ? AND revoked = 0 AND expires_at > ?",
             {v(client_id), v(now)})) {
        jtis.push_back(r.text(0));
    }
    db->execute("UPDATE oauth_access_tokens SET revoked = 1 WHERE client_id = ?", {v(client_id)});
    tx.commit();
    return jtis;
}

void storage::insert_code(const code_record& c) {
    auto db = pool_.acquire();
    db->execute(
        "INSERT INTO oauth_codes (digest, client_id, subject, redirect_uri, scope, code_challenge, "
        "family_id, "
        "expires_at, used) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        {v(c.digest), v(c.client_id), v(c.subject), v(c.redirect_uri), v(c.scope), v(c.code_challenge),
         v(c.family_id), v(c.expires_at), v(c.used)});
}

storage::consumed_code storage::consume_code(const std::string& digest) {
    auto db = pool_.acquire();
    consumed_code out;
    out.first_use =
        db->execute("UPDATE oauth_codes SET used = 1 WHERE digest = ? AND used = 0", {v(digest)}) == 1;
    auto rows = db->query(
        "SELECT digest, client_id, subject, redirect_uri, scope, code_challenge, family_id, expires_at, used "
        "FROM oauth_codes WHERE digest = ?",
        {v(digest)});
    if (!rows.empty()) {
        const auto& r = rows[0];
        out.code = code_record{r.text(0), r.text(1), r.text(2),    r.text(3),        r.text(4),
                               r.text(5), r.text(6), r.integer(7), r.integer(8) != 0};
    }
    return out;
}

void storage::insert_refresh(const refresh_record& x) {
    auto db = pool_.acquire();
    db->execute(std::string("INSERT INTO oauth_refresh_tokens (") + refresh_columns +
                    ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                {v(x.digest), v(x.family_id), v(x.client_id), v(x.subject), v(x.scope), v(x.audience),
                 v(x.cnf_x5t), v(x.issued_at), v(x.expires_at), v(std::string(to_string(x.state))),
                 v(x.rotated_at), v(x.replaced_by)});
}

std::optional<refresh_record> storage::find_refresh(const std::string& digest) {
    auto db = pool_.acquire();
    auto rows =
        db->query(std::string("SELECT ") + refresh_columns + " FROM oauth_refresh_tokens WHERE digest = ?",
                  {v(digest)});
    if (rows.empty()) {
        return std::nullopt;
    }
    return refresh_from(rows[0]);
}

bool storage::rotate_refresh(const std::string& old_digest, const refresh_record& x, std::int64_t now) {
    auto db = pool_.acquire();
    store::transaction tx(*db);
    if (db->execute("UPDATE oauth_refresh_tokens SET state = 'rotated', rotated_at = ?, replaced_by = ? "
                    "WHERE digest = ? AND state = 'active'",
                    {v(now), v(x.digest), v(old_digest)}) != 1) {
        return false;
    }
    db->execute(std::string("INSERT INTO oauth_refresh_tokens (") + refresh_columns +
                    ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                {v(x.digest), v(x.family_id), v(x.client_id), v(x.subject), v(x.scope), v(x.audience),
                 v(x.cnf_x5t), v(x.issued_at), v(x.expires_at), v(std::string(to_string(x.state))),
                 v(x.rotated_at), v(x.replaced_by)});
    tx.commit();
    return true;
}

std::int64_t storage::revoke_refresh_family(const std::string& family_id) {
    auto db = pool_.acquire();
    return db->execute(
        "UPDATE oauth_refresh_tokens SET state = 'revoked' WHERE family_id = ? AND state <> 'revoked'",
        {v(family_id)});
}

std::int64_t storage::revoke_client_refresh_tokens(const std::string& client_id) {
    auto db = pool_.acquire();
    return db->execute(
        "UPDATE oauth_refresh_tokens SET state = 'revoked' WHERE client_id = ? AND state <> 'revoked'",
        {v(client_id)});
}

void storage::insert_device(const device_record& d) {
    auto db = pool_.acquire();
    db->execute(std::string("INSERT INTO oauth_device_codes (") + device_columns +
                    ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                {v(d.digest), v(d.user_code), v(d.client_id), v(d.scope), v(d.expires_at), v(d.interval),
                 v(d.last_poll), v(std::string(to_string(d.status))), v(d.subject)});
}

std::optional<device_record> storage::find_device(const std::string& digest) {
    auto db = pool_.acquire();
    auto rows = db->query(
        std::string("SELECT ") + device_columns + " FROM oauth_device_codes WHERE digest = ?", {v(digest)});
    if (rows.empty()) {
        return std::nullopt;
    }
    return device_from(rows[0]);
}

std::optional<device_record> storage::find_device_by_user_code(const std::string& user_code) {
    auto db = pool_.acquire();
    auto rows =
        db->query(std::string("SELECT ") + device_columns + " FROM oauth_device_codes WHERE user_code = ?",
                  {v(user_code)});
    if (rows.empty()) {
        return std::nullopt;
    }
    return device_from(rows[0]);
}

void storage::update_device_poll(const std::string& digest, std::int64_t last_poll, std::int64_t interval) {
    auto db = pool_.acquire();
    db->execute("UPDATE oauth_device_codes SET last_poll = ?, poll_interval = ? WHERE digest = ?",
                {v(last_poll), v(interval), v(digest)});
}

bool storage::decide_device(const std::string& user_code, device_status decision,
                            const std::string& subject) {
    auto db = pool_.acquire();
    return db->execute(
               "UPDATE oauth_device_codes SET status = ?, subject = ? WHERE user_code = ? AND status = "
               "'pending'",
               {v(std::string(to_string(decision))), v(subject), v(user_code)}) == 1;
}

bool storage::claim_device(const std::string& digest) {
    auto db = pool_.acquire();
    return db->execute(
               "UPDATE oauth_device_codes SET status = 'used' WHERE digest = ? AND status = 'approved'",
               {v(digest)}) == 1;
}

void storage::insert_pending(const pending_request& p) {
    auto db = pool_.acquire();
    db->execute(
        "INSERT INTO oauth_pending (digest, client_id, redirect_uri, redirect_uri_sent, response_type, "
        "scope, state, "
        "code_challenge, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        {v(p.digest), v(p.client_id), v(p.redirect_uri), v(p.redirect_uri_sent), v(p.response_type),
         v(p.scope), v(p.state), v(p.code_challenge), v(p.expires_at)});
}

std::optional<pending_request> storage::find_pending(const std::string& digest) {
    auto db = pool_.acquire();
    auto rows = db->query(
        "SELECT digest, client_id, redirect_uri, redirect_uri_sent, response_type, scope, state, "
        "code_challenge, "
        "expires_at FROM oauth_pending WHERE digest = ?",
        {v(digest)});
    if (rows.empty()) {
        return std::nullopt;
    }
    const auto& r = rows[0];
    return pending_request{r.text(0), r.text(1), r.text(2), r.integer(3) != 0, r.text(4),
                           r.text(5), r.text(6), r.text(7), r.integer(8)};
}

bool storage::delete_pending(const std::string& digest) {
    auto db = pool_.acquire();
    return db->execute("DELETE FROM oauth_pending WHERE digest = ?", {v(digest)}) == 1;
}

void storage::insert_session(const session_record& s) {
    auto db = pool_.acquire();
    db->execute("INSERT INTO oauth_sessions (digest, subject, expires_at) VALUES (?, ?, ?)",
                {v(s.digest), v(s.subject), v(s.expires_at)});
}

std::optional<session_record> storage::find_session(const std::string& digest) {
    auto db = pool_.acquire();
    auto rows =
        db->query("SELECT digest, subject, expires_at FROM oauth_sessions WHERE digest = ?", {v(digest)});
    if (rows.empty()) {
        return std::nullopt;
    }
    return session_record{rows[0].text(0), rows[0].text(1), rows[0].integer(2)};
}

bool storage::remember_jti(const std::string& key, std::int64_t expires_at) {
    auto db = pool_.acquire();
    return db->execute(
               "INSERT INTO oauth_replay (replay_key, expires_at) VALUES (?, ?) ON CONFLICT DO NOTHING",
               {v(key), v(expires_at)}) == 1;
}

janitor_report storage::purge_expired(std::int64_t now) {
    auto db = pool_.acquire();
    janitor_report r;
    r.codes = db->execute("DELETE FROM oauth_codes WHERE expires_at < ?", {v(now)});
    r.access_tokens = db->execute("DELETE FROM oauth_access_tokens WHERE expires_at < ?", {v(now)});
    // A family's rows are kept while any member can still be presented: reuse detection needs them.
    r.refresh_tokens = db->execute(
        "DELETE FROM oauth_refresh_tokens WHERE family_id IN (SELECT family_id FROM oauth_refresh_tokens "
        "GROUP BY family_id HAVING MAX(expires_at) < ?)",
        {v(now)});
    r.device_codes = db->execute("DELETE FROM oauth_device_codes WHERE expires_at < ?", {v(now)});
    r.pending = db->execute("DELETE FROM oauth_pending WHERE expires_at < ?", {v(now)});
    r.sessions = db->execute("DELETE FROM oauth_sessions WHERE expires_at < ?", {v(now)});
    r.replay = db->execute("DELETE FROM oauth_replay WHERE expires_at < ?", {v(now)});
    r.keys = db->execute("DELETE FROM oauth_signing_keys WHERE retired_at > 0 AND keep_until < ?", {v(now)});
    return r;
}

}  // namespace tollgate::oauth
