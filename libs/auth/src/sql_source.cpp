// Policy rules from SQL (see sql_source.hpp).
#include <cctype>
#include <stdexcept>
#include <variant>

#include <tollgate/auth/claim_mapping.hpp>
#include <tollgate/auth/sql_source.hpp>
#include <tollgate/auth/token_authenticator.hpp>
#include <tollgate/common/log.hpp>
#include <tollgate/store/pool.hpp>

namespace tollgate::auth {

const std::string_view default_sql_query =
    "SELECT effect, action, filter FROM mqtt_acl "
    "WHERE (username IS NULL OR username = $username) AND (client_id IS NULL OR client_id = $client_id)";

namespace {

bool is_ident_char(char c) noexcept {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_';
}

/// The end (one past the closing quote) of the quoted text starting at `open`. '' (or "") inside is
/// an escaped quote; with `backslash` (PostgreSQL E'...'), so is \'. Throws when unterminated.
std::size_t skip_quoted(std::string_view q, std::size_t open, char quote, bool backslash) {
    std::size_t j = open + 1;
    while (j < q.size()) {
        if (backslash && q[j] == '\\') {
            j += 2;
        } else if (q[j] == quote) {
            if (j + 1 < q.size() && q[j + 1] == quote) {
                j += 2;
            } else {
                return j + 1;
            }
        } else {
            ++j;
        }
    }
    throw std::invalid_argument(std::string("unterminated ") +
                                (quote == '"' ? "quoted identifier" : "string") + " in the query");
}

/// The end of the block comment starting at `open` ("/*"). Nested comments are refused: SQLite and
/// PostgreSQL disagree on them, so a parameter inside one would be bound on one backend only.
std::size_t skip_block_comment(std::string_view q, std::size_t open) {
    const std::size_t close = q.find("*/", open + 2);
    if (close == std::string_view::npos) {
        throw std::invalid_argument("unterminated /* comment in the query");
    }
    if (q.substr(open + 2, close - open - 2).find("/*") != std::string_view::npos) {
        throw std::invalid_argument("nested /* comments are not supported in the query");
    }
    return close + 2;
}

constexpr const char* known_parameters = "$username, $client_id, $sub, $claim:NAME)";

translated_query::param parameter_named(std::string_view name) {
    if (name == "username") {
        return translated_query::param::username;
    }
    if (name == "client_id") {
        return translated_query::param::client_id;
    }
    if (name == "sub") {
        return translated_query::param::subject;
    }
    throw std::invalid_argument("unknown parameter $" + std::string(name) +
                                " in the query (known: " + known_parameters);
}

/// The NAME of "$claim:NAME" starting at `from` (just past the ':'): identifier runs joined by single
/// dots. Returns its end. Throws when there is no NAME or it is too long.
std::size_t claim_name_end(std::string_view q, std::size_t from) {
    std::size_t j = from;
    for (;;) {
        const std::size_t run = j;
        while (j < q.size() && is_ident_char(q[j])) {
            ++j;
        }
        if (j == run) {
            throw std::invalid_argument("$claim: without a claim name in the query (write $claim:NAME)");
        }
        if (j + 1 < q.size() && q[j] == '.' && is_ident_char(q[j + 1])) {
            ++j;  // a nested claim: $claim:org.id
            continue;
        }
        break;
    }
    if (j - from > max_sql_claim_name) {
        throw std::invalid_argument("$claim:NAME longer than " + std::to_string(max_sql_claim_name) +
                                    " bytes in the query");
    }
    return j;
}

std::string clip(std::string_view s) {
    constexpr std::size_t max = 80;
    return s.size() <= max ? std::string(s) : std::string(s.substr(0, max)) + "...";
}

/// Column positions of effect, action and filter in a result.
struct columns {
    std::size_t effect = 0, action = 1, filter = 2;
};

std::optional<columns> resolve_columns(const store::row& first) {
    columns c;
    bool e = false, a = false, f = false;
    for (std::size_t i = 0; i < first.size(); ++i) {
        const auto& n = first.column_name(i);
        if (n == "effect" && !e) {
            c.effect = i;
            e = true;
        } else if (n == "action" && !a) {
            c.action = i;
            a = true;
        } else if (n == "filter" && !f) {
            c.filter = i;
            f = true;
        }
    }
    if ((e && a && f) || first.size() == 3) {
        return (e && a && f) ? c : columns{};
    }
    return std::nullopt;
}

const std::string* text_at(const store::row& r, std::size_t i) {
    return std::get_if<std::string>(&r.at(i));
}

}  // namespace

translated_query translate_query(std::string_view q) {
    translated_query out;
    bool statement = false;
    bool ended = false;  // a ';' was seen: only blanks and comments may follow
    std::size_t i = 0;
    auto copy_to = [&](std::size_t end) {
        out.sql.append(q.substr(i, end - i));
        i = end;
    };
    while (i < q.size()) {
        const char c = q[i];
        const char next = i + 1 < q.size() ? q[i + 1] : '\0';
        const bool comment = (c == '-' && next == '-') || (c == '/' && next == '*');
        if (ended && !comment && c != ';' && std::isspace(static_cast<unsigned char>(c)) == 0) {
            throw std::invalid_argument("more than one statement in the query");
        }
        if (c == '\'') {
            const bool e_string =
                i > 0 && (q[i - 1] == 'E' || q[i - 1] == 'e') && (i < 2 || !is_ident_char(q[i - 2]));
            copy_to(skip_quoted(q, i, '\'', e_string));
        } else if (c == '"') {
            copy_to(skip_quoted(q, i, '"', false));
        } else if (c == '-' && next == '-') {
            const std::size_t eol = q.find('\n', i);
            copy_to(eol == std::string_view::npos ? q.size() : eol);
        } else if (c == '/' && next == '*') {
            copy_to(skip_block_comment(q, i));
        } else if (c == '$' && i > 0 && is_ident_char(q[i - 1])) {
            out.sql.push_back(c);  // part of an identifier (PostgreSQL allows '$' after the first char)
            ++i;
        } else if (c == '$') {
            std::size_t j = i + 1;
            while (j < q.size() && is_ident_char(q[j])) {
                ++j;
            }
            const std::string_view name = q.substr(i + 1, j - i - 1);
            if (!name.empty() && std::isdigit(static_cast<unsigned char>(name.front())) != 0) {
                throw std::invalid_argument("positional parameter $" + std::string(name) +
                                            " in the query: use $username, $client_id, $sub or $claim:NAME");
            }
            if (j < q.size() && q[j] == '$') {  // dollar-quoted string $tag$...$tag$
                const std::string_view tag = q.substr(i, j - i + 1);
                const std::size_t close = q.find(tag, j + 1);
                if (close == std::string_view::npos) {
                    throw std::invalid_argument("unterminated dollar-quoted string in the query");
                }
                copy_to(close + tag.size());
                continue;
            }
            if (name.empty()) {
                throw std::invalid_argument("stray '$' in the query");
            }
            if (name == "claim" && j < q.size() && q[j] == ':') {
                const std::size_t end = claim_name_end(q, j + 1);
                out.params.push_back(translated_query::param::claim);
                out.claims.emplace_back(q.substr(j + 1, end - j - 1));
                j = end;
            } else {
                out.params.push_back(parameter_named(name));
            }
            out.sql.push_back('?');
            i = j;
            statement = true;
        } else if (c == '?') {
            throw std::invalid_argument(
                "'?' placeholder in the query: use $username, $client_id, $sub or $claim:NAME");
        } else if (c == ';') {
            ended = true;  // dropped: the statement becomes a subquery
            ++i;
        } else {
            if (std::isspace(static_cast<unsigned char>(c)) == 0) {
                statement = true;
            }
            out.sql.push_back(c);
            ++i;
        }
    }
    if (!statement) {
        throw std::invalid_argument("the query is empty");
    }
    // One statement, without the trailing ';' (the source wraps it to bound the rows it reads).
    while (!out.sql.empty() &&
           (out.sql.back() == ';' || std::isspace(static_cast<unsigned char>(out.sql.back())))) {
        out.sql.pop_back();
    }
    return out;
}

sql_source::sql_source(sql_source_config config)
    : config_(std::move(config))
    , query_(translate_query(config_.query.empty() ? default_sql_query : std::string_view(config_.query)))
    , name_(config_.label.empty() ? "sql" : "sql " + config_.label) {
    if (config_.max_rows == 0) {
        throw std::invalid_argument("max_rows must be at least 1");
    }
    // The query becomes a subquery so that at most max_rows + 1 rows are ever read (a line
    // comment at its end must not swallow the closing parenthesis: hence the newline).
    query_.sql = "SELECT * FROM (" + query_.sql + "\n) AS tollgate_policy LIMIT " +
                 std::to_string(config_.max_rows + 1);
    pool_ = std::make_unique<store::pool>(config_.database, config_.pool_size);
}

sql_source::~sql_source() = default;

namespace {

/// The values of `query`'s parameters for `who`. Throws std::runtime_error for a value holding NUL.
std::vector<store::value> bind_values(const translated_query& query, const broker::principal& who,
                                      const std::string& source) {
    std::vector<store::value> params;
    params.reserve(query.params.size());
    const session_context* ctx = context_of(who);
    const boost::json::object* claims = ctx != nullptr ? ctx->claims.get() : nullptr;
    std::size_t next_claim = 0;
    for (auto p : query.params) {
        switch (p) {
            case translated_query::param::username:
                params.push_back(who.username ? store::value(*who.username) : store::value(std::monostate{}));
                break;
            case translated_query::param::client_id:
                params.emplace_back(who.client_id);
                break;
            case translated_query::param::subject:
                params.emplace_back(who.subject);
                break;
            case translated_query::param::claim: {
                const std::string& name = query.claims.at(next_claim++);
                auto value = claims != nullptr ? claim_string(*claims, name) : std::nullopt;
                params.push_back(value ? store::value(std::move(*value)) : store::value(std::monostate{}));
                break;
            }
        }
        if (const auto* text = std::get_if<std::string>(&params.back());
            text != nullptr && text->find('\0') != std::string::npos) {
            throw std::runtime_error(source + ": a value bound to the query holds NUL (refused)");
        }
    }
    return params;
}

}  // namespace

std::vector<policy_rule> sql_source::load(const broker::principal& who) {
    const std::vector<store::value> params = bind_values(query_, who, name_);
    std::vector<store::row> rows;
    {
        auto db = pool_->acquire_for(config_.acquire_timeout);
        rows = db->query(query_.sql, params);
    }
    if (rows.size() > config_.max_rows) {
        throw std::runtime_error(name_ + ": the query returned more than " +
                                 std::to_string(config_.max_rows) + " rows");
    }
    std::vector<policy_rule> out;
    if (rows.empty()) {
        return out;
    }
    auto log = common::logger("auth");
    const auto cols = resolve_columns(rows.front());
    if (!cols) {
        throw std::runtime_error(name_ +
                                 ": the query must return columns effect, action, filter (or exactly three)");
    }
    for (std::size_t n = 0; n < rows.size(); ++n) {
        const auto& r = rows[n];
        const std::string* effect = text_at(r, cols->effect);
        const std::string* action = text_at(r, cols->action);
        const std::string* filter = text_at(r, cols->filter);
        std::string problem;
        std::optional<policy_effect> e;
        std::optional<grant_action> a;
        if (effect == nullptr || !(e = parse_policy_effect(*effect))) {
            problem =
                "effect must be the text allow or deny" + (effect ? " (got \"" + clip(*effect) + "\")" : "");
        } else if (action == nullptr || !(a = parse_policy_action(*action))) {
            problem = "action must be the text pub, sub or all" +
                      (action ? " (got \"" + clip(*action) + "\")" : "");
        } else if (filter == nullptr || filter->empty()) {
            problem = "filter must be a non-empty text";
        }
        if (!problem.empty()) {
            log->warn("{}: row {} skipped for client '{}': {}", name_, n + 1, who.client_id, problem);
            continue;
        }
        out.push_back(policy_rule{*e, *a, *filter, name_});
    }
    return out;
}

}  // namespace tollgate::auth
