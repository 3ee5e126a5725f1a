#pragma once
// The mapping between storage's records and their tables (internal to storage.cpp).
//
// Design: every record type has one codec: its table and its stored fields, listed once as
// f(column, member). columns(), values_of() and record_from() derive the column list, the values of
// an INSERT and the reading of a row from that list, and insert()/select()/select_one() build every
// INSERT and SELECT from them, so a column is named in one place and the order of columns, values
// and row fields cannot drift apart. Lists are stored as space-separated text, flags as 0/1,
// enums by name.
#include <algorithm>
#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <tollgate/oauth/scope.hpp>
#include <tollgate/oauth/storage.hpp>
#include <tollgate/store/database.hpp>

namespace tollgate::oauth::detail {

using store::value;
using values = std::vector<value>;

inline std::vector<std::string> split_list(const std::string& text) {
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

inline value v(const std::string& s) {
    return value{s};
}
inline value v(std::string_view s) {
    return value{std::string(s)};
}
inline value v(std::int64_t i) {
    return value{i};
}
inline value v(bool b) {
    return value{static_cast<std::int64_t>(b ? 1 : 0)};
}
inline value v(const std::vector<std::string>& list) {
    return value{join_scope(list)};  // space-separated, as scopes are
}

// Stored names of the enums, both ways.
template <class Enum, std::size_t N>
using enum_names = std::array<std::pair<Enum, std::string_view>, N>;
inline constexpr enum_names<refresh_state, 3> refresh_state_names{{{refresh_state::active, "active"},
                                                                   {refresh_state::rotated, "rotated"},
                                                                   {refresh_state::revoked, "revoked"}}};
inline constexpr enum_names<device_status, 4> device_status_names{{{device_status::pending, "pending"},
                                                                   {device_status::approved, "approved"},
                                                                   {device_status::denied, "denied"},
                                                                   {device_status::used, "used"}}};
inline constexpr enum_names<revocation_kind, 4> revocation_kind_names{
    {{revocation_kind::access_token, "access_token"},
     {revocation_kind::refresh_family, "refresh_family"},
     {revocation_kind::client, "client"},
     {revocation_kind::subject, "subject"}}};

/// The stored name of e (the last entry's name if e is not listed).
template <class Enum, std::size_t N>
constexpr std::string_view name_of(const enum_names<Enum, N>& names, Enum e) {
    for (const auto& [item, name] : names) {
        if (item == e) {
            return name;
        }
    }
    return names.back().second;
}

/// The enum stored as name, or nullopt if name is not listed.
template <class Enum, std::size_t N>
std::optional<Enum> find_enum(const enum_names<Enum, N>& names, std::string_view name) {
    for (const auto& [item, text] : names) {
        if (text == name) {
            return item;
        }
    }
    return std::nullopt;
}

/// The enum stored as name; an unknown name reads as the last entry (the most restrictive state).
template <class Enum, std::size_t N>
Enum enum_of(const enum_names<Enum, N>& names, std::string_view name) {
    return find_enum(names, name).value_or(names.back().first);
}

inline value v(refresh_state s) {
    return v(to_string(s));
}
inline value v(device_status s) {
    return v(to_string(s));
}
inline value v(revocation_kind k) {
    return v(name_of(revocation_kind_names, k));
}

/// Reads the columns of a row in order, one per field, from column `first` on.
class cursor {
  public:
    explicit cursor(const store::row& r, std::size_t first = 0) : row_(&r), next_(first) {}
    void read(std::string& out) { out = row_->text(next_++); }
    void read(std::int64_t& out) { out = row_->integer(next_++); }
    void read(bool& out) { out = row_->integer(next_++) != 0; }
    void read(std::vector<std::string>& out) { out = split_list(row_->text(next_++)); }
    void read(refresh_state& out) { out = enum_of(refresh_state_names, row_->text(next_++)); }
    void read(device_status& out) { out = enum_of(device_status_names, row_->text(next_++)); }
    /// A revocation kind is never guessed: an unknown name (written by a newer instance) clears
    /// complete() and the caller skips the row.
    void read(revocation_kind& out) {
        const auto kind = find_enum(revocation_kind_names, row_->text(next_++));
        complete_ = complete_ && kind.has_value();
        out = kind.value_or(revocation_kind{});
    }
    /// False once a field held a name that must not be guessed (see read(revocation_kind&)).
    [[nodiscard]] bool complete() const noexcept { return complete_; }

  private:
    const store::row* row_;
    std::size_t next_;
    bool complete_ = true;
};

// --- codecs. Each names its table and lists its stored fields once, as f(column, member); the
// column list, the values of an INSERT and the reading of a row are all derived from that list.
template <class Record>
struct codec;

template <>
struct codec<client_record> {
    static constexpr std::string_view table = "oauth_clients";
    template <class R, class F>
    static void fields(R& c, F&& f) {
        f("client_id", c.client_id), f("name", c.name), f("secret_digest", c.secret_digest);
        f("auth_method", c.auth_method), f("redirect_uris", c.redirect_uris), f("grant_types", c.grant_types);
        f("scopes", c.scopes), f("require_pkce", c.require_pkce), f("access_token_ttl", c.access_token_ttl);
        f("refresh_token_ttl", c.refresh_token_ttl), f("audience", c.audience), f("jwks", c.jwks);
        f("tls_subject_dn", c.tls_subject_dn), f("certificate_bound", c.certificate_bound);
        f("created_at", c.created_at), f("post_logout_redirect_uris", c.post_logout_redirect_uris);
    }
};

template <>
struct codec<user_record> {
    static constexpr std::string_view table = "oauth_users";
    template <class R, class F>
    static void fields(R& u, F&& f) {
        f("username", u.username), f("password_hash", u.password_hash), f("created_at", u.created_at);
    }
};

template <>
struct codec<signing_key_record> {
    static constexpr std::string_view table = "oauth_signing_keys";
    template <class R, class F>
    static void fields(R& k, F&& f) {
        f("kid", k.kid), f("alg", k.alg), f("sealed_private_key", k.sealed_private_key);
        f("created_at", k.created_at), f("retired_at", k.retired_at), f("keep_until", k.keep_until);
    }
};

template <>
struct codec<access_token_record> {
    static constexpr std::string_view table = "oauth_access_tokens";
    template <class R, class F>
    static void fields(R& t, F&& f) {
        f("jti", t.jti), f("client_id", t.client_id), f("subject", t.subject), f("family_id", t.family_id);
        f("scope", t.scope), f("audience", t.audience), f("issued_at", t.issued_at);
        f("expires_at", t.expires_at), f("revoked", t.revoked);
    }
};

template <>
struct codec<code_record> {
    static constexpr std::string_view table = "oauth_codes";
    template <class R, class F>
    static void fields(R& x, F&& f) {
        f("digest", x.digest), f("client_id", x.client_id), f("subject", x.subject);
        f("redirect_uri", x.redirect_uri), f("scope", x.scope), f("code_challenge", x.code_challenge);
        f("family_id", x.family_id), f("expires_at", x.expires_at), f("used", x.used);
    }
};

template <>
struct codec<refresh_record> {
    static constexpr std::string_view table = "oauth_refresh_tokens";
    template <class R, class F>
    static void fields(R& x, F&& f) {
        f("digest", x.digest), f("family_id", x.family_id), f("client_id", x.client_id),
            f("subject", x.subject);
        f("scope", x.scope), f("audience", x.audience), f("cnf_x5t", x.cnf_x5t), f("issued_at", x.issued_at);
        f("expires_at", x.expires_at), f("state", x.state), f("rotated_at", x.rotated_at);
        f("replaced_by", x.replaced_by);
    }
};

template <>
struct codec<device_record> {
    static constexpr std::string_view table = "oauth_device_codes";
    template <class R, class F>
    static void fields(R& d, F&& f) {
        f("digest", d.digest), f("user_code", d.user_code), f("client_id", d.client_id), f("scope", d.scope);
        f("expires_at", d.expires_at), f("poll_interval", d.interval), f("last_poll", d.last_poll);
        f("status", d.status), f("subject", d.subject);
    }
};

template <>
struct codec<pending_request> {
    static constexpr std::string_view table = "oauth_pending";
    template <class R, class F>
    static void fields(R& p, F&& f) {
        f("digest", p.digest), f("client_id", p.client_id), f("redirect_uri", p.redirect_uri);
        f("redirect_uri_sent", p.redirect_uri_sent), f("response_type", p.response_type);
        f("scope", p.scope), f("state", p.state), f("code_challenge", p.code_challenge);
        f("expires_at", p.expires_at);
    }
};

template <>
struct codec<session_record> {
    static constexpr std::string_view table = "oauth_sessions";
    template <class R, class F>
    static void fields(R& x, F&& f) {
        f("digest", x.digest), f("subject", x.subject), f("expires_at", x.expires_at);
    }
};

template <>
struct codec<consent_record> {
    static constexpr std::string_view table = "oauth_consents";
    template <class R, class F>
    static void fields(R& x, F&& f) {
        f("subject", x.subject), f("client_id", x.client_id), f("scope", x.scope);
        f("granted_at", x.granted_at), f("expires_at", x.expires_at);
    }
};

// seq is not a field: the database assigns it (INSERT ... RETURNING seq) and SELECTs name it first.
template <>
struct codec<journal_entry> {
    static constexpr std::string_view table = "oauth_revocation_journal";
    template <class R, class F>
    static void fields(R& j, F&& f) {
        f("kind", j.event.kind), f("jti", j.event.jti), f("family_id", j.event.family_id);
        f("client_id", j.event.client_id), f("subject", j.event.subject), f("time", j.event.time);
        f("expires_at", j.event.expires_at), f("origin", j.origin);
    }
};

/// "a, b, c": the columns of Record's table in codec order (computed once).
template <class Record>
const std::string& columns() {
    static const std::string list = [] {
        std::string out;
        Record probe{};
        codec<Record>::fields(probe, [&out](std::string_view name, const auto&) {
            out += out.empty() ? "" : ", ";
            out += name;
        });
        return out;
    }();
    return list;
}

template <class Record>
values values_of(const Record& r) {
    values out;
    codec<Record>::fields(r, [&out](std::string_view, const auto& field) { out.push_back(v(field)); });
    return out;
}

/// Reads Record's fields from c, in codec order.
template <class Record>
Record read_record(cursor& c) {
    Record r{};
    codec<Record>::fields(r, [&c](std::string_view, auto& field) { c.read(field); });
    return r;
}

template <class Record>
Record record_from(const store::row& row) {
    cursor c(row);
    return read_record<Record>(c);
}

// --- generic statements over a codec. `tail` is fixed SQL from this file (WHERE/ORDER BY),
// never built from input; values always travel as parameters.
/// "INSERT INTO table (columns) VALUES (?, ...)" for Record (computed once).
template <class Record>
const std::string& insert_sql() {
    static const std::string sql = [] {
        const auto count = values_of(Record{}).size();
        std::string marks = "?";
        for (std::size_t i = 1; i < count; ++i) {
            marks += ", ?";
        }
        return "INSERT INTO " + std::string(codec<Record>::table) + " (" + columns<Record>() + ") VALUES (" +
               marks + ")";
    }();
    return sql;
}

template <class Record>
void insert(store::database& db, const Record& r) {
    db.execute(insert_sql<Record>(), values_of(r));
}

template <class Record>
std::vector<Record> select(store::database& db, std::string_view tail, const values& params = {}) {
    const auto sql = "SELECT " + columns<Record>() + " FROM " + std::string(codec<Record>::table) + " " +
                     std::string(tail);
    std::vector<Record> out;
    for (const auto& row : db.query(sql, params)) {
        out.push_back(record_from<Record>(row));
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

}  // namespace tollgate::oauth::detail
