// storage over tollgate::store; rows and records meet in storage_codec.hpp.
#include <algorithm>

#include <tollgate/oauth/storage.hpp>
#include <tollgate/store/migrate.hpp>

#include "schema.hpp"
#include "storage_codec.hpp"

namespace tollgate::oauth {
namespace {

using detail::insert;
using detail::select;
using detail::select_one;
using detail::split_list;
using detail::v;
using store::value;

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
    return detail::name_of(detail::refresh_state_names, s);
}

std::string_view to_string(device_status s) noexcept {
    return detail::name_of(detail::device_status_names, s);
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

// --- revocation journal

std::int64_t storage::append_revocation(const revocation_event& e, const std::string& origin) {
    auto db = pool_.acquire();
    store::transaction tx(*db);
    if (db->kind() == store::dialect::postgres) {
        // Identity values are handed out at INSERT but become visible at COMMIT, possibly out of
        // order; the lock makes appends (rare) one at a time, so visibility follows seq.
        db->execute("LOCK TABLE oauth_revocation_journal IN EXCLUSIVE MODE");
    }
    const auto rows = db->query(detail::insert_sql<journal_entry>() + " RETURNING seq",
                                detail::values_of(journal_entry{0, e, origin}));
    tx.commit();
    return rows.at(0).integer(0);
}

std::vector<journal_entry> storage::revocations_after(std::int64_t after, std::size_t limit) {
    static const std::string sql = "SELECT seq, " + detail::columns<journal_entry>() + " FROM " +
                                   std::string(detail::codec<journal_entry>::table) +
                                   " WHERE seq > ? ORDER BY seq LIMIT ?";
    std::vector<journal_entry> out;
    for (const auto& r : pool_.acquire()->query(sql, {v(after), v(static_cast<std::int64_t>(limit))})) {
        detail::cursor c(r, 1);
        auto j = detail::read_record<journal_entry>(c);
        if (!c.complete()) {
            continue;  // a kind this build does not know (a newer instance wrote it): skipped, never guessed
        }
        j.seq = r.integer(0);
        out.push_back(std::move(j));
    }
    return out;
}

std::int64_t storage::latest_revocation_seq() {
    const auto rows = pool_.acquire()->query("SELECT COALESCE(MAX(seq), 0) FROM oauth_revocation_journal");
    return rows.empty() ? 0 : rows[0].integer(0);
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
    // An access-token row stays while its token could still be presented (replay_revocations()
    // restores it after a restart); every row stays for the retention window.
    r.revocations =
        db->execute("DELETE FROM oauth_revocation_journal WHERE time < ? AND (kind <> ? OR expires_at < ?)",
                    {v(now - revocation_journal_retention), v(revocation_kind::access_token), v(now)});
    return r;
}

}  // namespace tollgate::oauth
