#include <algorithm>
#include <charconv>
#include <chrono>
#include <random>
#include <stdexcept>
#include <thread>

#include <tollgate/store/database.hpp>

#include "detail.hpp"

namespace tollgate::store {

database::~database() = default;

transaction::transaction(database& db) : db_(db) {
    db_.begin();
}

void transaction::commit() {
    db_.commit();
    done_ = true;
}

transaction::~transaction() {
    if (done_) {
        return;
    }
    try {
        db_.rollback();
    } catch (...) {  // NOLINT(bugprone-empty-catch): a destructor must not throw; healthy() tells
    }
}

void run_transaction(database& db, const std::function<void(database&)>& work, int attempts) {
    std::minstd_rand jitter(std::random_device{}());
    for (int attempt = 1;; ++attempt) {
        try {
            transaction tx(db);
            work(db);
            tx.commit();
            return;
        } catch (const error& e) {
            if (e.what_kind() != error::kind::busy || attempt >= attempts) {
                throw;
            }
        }
        // Back off before retrying so that contenders do not collide again at once: a random
        // delay below 2^attempt ms, at most 64 ms.
        const int ceiling = 1 << std::min(attempt, 6);
        std::this_thread::sleep_for(
            std::chrono::microseconds(jitter() % (static_cast<unsigned>(ceiling) * 1000U)));
    }
}

namespace {

bool starts_with_icase(std::string_view s, std::string_view prefix) {
    if (s.size() < prefix.size()) {
        return false;
    }
    for (std::size_t i = 0; i < prefix.size(); ++i) {
        char a = s[i];
        if (a >= 'A' && a <= 'Z') {
            a = static_cast<char>(a - 'A' + 'a');
        }
        if (a != prefix[i]) {
            return false;
        }
    }
    return true;
}

// Replaces the value of every `...password=` key (query string or key=value conninfo).
std::string redact_password_keys(std::string s) {
    static constexpr std::string_view key = "password=";
    for (std::size_t i = 0; i + key.size() <= s.size(); ++i) {
        if (!starts_with_icase(std::string_view(s).substr(i), key)) {
            continue;
        }
        std::size_t start = i + key.size();
        std::size_t end = start;
        if (end < s.size() && s[end] == '\'') {
            end = s.find('\'', end + 1);
            end = end == std::string::npos ? s.size() : end + 1;
        } else {
            while (end < s.size() && s[end] != '&' && s[end] != ' ' && s[end] != '#') {
                ++end;
            }
        }
        s.replace(start, end - start, "***");
        i = start + 3;
    }
    return s;
}

std::size_t parse_size(std::string_view name, std::string_view text, std::size_t max) {
    std::size_t v = 0;
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc{} || p != text.data() + text.size() || v > max) {
        throw std::invalid_argument("sqlite URL: bad value for " + std::string(name));
    }
    return v;
}

}  // namespace

std::string redact_url(std::string_view url) {
    std::string s(url);
    auto scheme_end = s.find("://");
    if (scheme_end != std::string::npos) {
        std::size_t auth = scheme_end + 3;
        std::size_t query = s.find('?', auth);
        std::size_t at = s.rfind('@', query == std::string::npos ? std::string::npos : query);
        if (at != std::string::npos && at >= auth) {
            std::size_t colon = s.find(':', auth);
            if (colon != std::string::npos && colon < at) {
                s.replace(colon + 1, at - colon - 1, "***");
            }
        }
    }
    return redact_password_keys(std::move(s));
}

namespace detail {

void check_text_parameters(std::span<const value> params) {
    for (std::size_t i = 0; i < params.size(); ++i) {
        const auto* s = std::get_if<std::string>(&params[i]);
        if (s != nullptr && s->find('\0') != std::string::npos) {
            throw error(error::kind::other, "text parameter " + std::to_string(i + 1) +
                                                " contains a NUL character (use a blob for arbitrary bytes)");
        }
    }
}

std::string sql_excerpt(std::string_view sql) {
    constexpr std::size_t max = 120;
    std::string out;
    for (char c : sql.substr(0, max)) {
        out += (c == '\n' || c == '\r' || c == '\t') ? ' ' : c;
    }
    if (sql.size() > max) {
        out += "...";
    }
    return out;
}

sqlite_options parse_sqlite_url(std::string_view rest) {
    sqlite_options o;
    if (rest.starts_with("//")) {
        rest.remove_prefix(2);
    }
    auto q = rest.find('?');
    std::string_view query = q == std::string_view::npos ? std::string_view{} : rest.substr(q + 1);
    o.path = std::string(rest.substr(0, q));
    if (o.path.empty()) {
        throw std::invalid_argument("sqlite URL without a path");
    }
    while (!query.empty()) {
        auto amp = query.find('&');
        std::string_view item = query.substr(0, amp);
        query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
        auto eq = item.find('=');
        std::string_view name = item.substr(0, eq);
        std::string_view val = eq == std::string_view::npos ? std::string_view{} : item.substr(eq + 1);
        if (name == "busy_timeout_ms") {
            o.busy_timeout_ms = static_cast<int>(parse_size(name, val, 600'000));
        } else if (name == "statement_cache") {
            o.statement_cache = parse_size(name, val, 10'000);
        } else {
            throw std::invalid_argument("sqlite URL: unknown option '" + std::string(name) + "'");
        }
    }
    return o;
}

}  // namespace detail

std::unique_ptr<database> open(const std::string& url) {
    std::string_view u(url);
    if (u.starts_with("sqlite:")) {
        return detail::open_sqlite(detail::parse_sqlite_url(u.substr(7)));
    }
    if (u.starts_with("postgresql://") || u.starts_with("postgres://")) {
        return detail::open_postgres(url);
    }
    throw std::invalid_argument("unsupported database URL (expected sqlite: or postgresql://): " +
                                redact_url(url));
}

}  // namespace tollgate::store
