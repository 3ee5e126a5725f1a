// `?` -> `$n` rewriting for PostgreSQL, aware of the lexical forms in which a `?` is data.
#include <tollgate/store/database.hpp>

namespace tollgate::store {

namespace {

bool ident_char(char c) noexcept {
    auto u = static_cast<unsigned char>(c);
    return (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9') || u == '_' ||
           u == '$' || u >= 0x80;
}

bool digit(char c) noexcept {
    return c >= '0' && c <= '9';
}

// Each scanner returns the index just past the construct starting at i (or the end of input for
// an unterminated one: the server then reports the syntax error).

std::size_t skip_quoted(std::string_view s, std::size_t i, char quote, bool backslash_escapes) {
    std::size_t j = i + 1;
    while (j < s.size()) {
        if (backslash_escapes && s[j] == '\\') {
            j += 2;
            continue;
        }
        if (s[j] == quote) {
            if (j + 1 < s.size() && s[j + 1] == quote) {
                j += 2;
                continue;
            }
            return j + 1;
        }
        ++j;
    }
    return s.size();
}

std::size_t skip_line_comment(std::string_view s, std::size_t i) {
    auto nl = s.find('\n', i);
    return nl == std::string_view::npos ? s.size() : nl + 1;
}

std::size_t skip_block_comment(std::string_view s, std::size_t i) {  // PostgreSQL nests them
    std::size_t depth = 0;
    std::size_t j = i;
    while (j + 1 < s.size()) {
        if (s[j] == '/' && s[j + 1] == '*') {
            ++depth;
            j += 2;
        } else if (s[j] == '*' && s[j + 1] == '/') {
            j += 2;
            if (--depth == 0) {
                return j;
            }
        } else {
            ++j;
        }
    }
    return s.size();
}

// $tag$ ... $tag$; returns i itself when s[i] does not start a dollar quote.
std::size_t skip_dollar_quote(std::string_view s, std::size_t i) {
    if (i > 0 && ident_char(s[i - 1])) {
        return i;  // part of an identifier such as a$b
    }
    std::size_t j = i + 1;
    if (j < s.size() && digit(s[j])) {
        return i;  // $1: a positional parameter
    }
    while (j < s.size() && ident_char(s[j]) && s[j] != '$') {
        ++j;
    }
    if (j >= s.size() || s[j] != '$') {
        return i;
    }
    std::string_view tag = s.substr(i, j - i + 1);
    auto end = s.find(tag, j + 1);
    return end == std::string_view::npos ? s.size() : end + tag.size();
}

}  // namespace

rewritten_sql rewrite_placeholders(std::string_view s) {
    rewritten_sql out;
    out.text.reserve(s.size() + 8);
    std::size_t i = 0;
    while (i < s.size()) {
        char c = s[i];
        std::size_t next = i + 1;
        if (c == '\'') {
            bool escapes = i > 0 && (s[i - 1] == 'E' || s[i - 1] == 'e') && (i < 2 || !ident_char(s[i - 2]));
            next = skip_quoted(s, i, '\'', escapes);
        } else if (c == '"') {
            next = skip_quoted(s, i, '"', false);
        } else if (c == '-' && i + 1 < s.size() && s[i + 1] == '-') {
            next = skip_line_comment(s, i);
        } else if (c == '/' && i + 1 < s.size() && s[i + 1] == '*') {
            next = skip_block_comment(s, i);
        } else if (c == '$') {
            std::size_t end = skip_dollar_quote(s, i);
            next = end == i ? i + 1 : end;
        } else if (c == '?') {
            out.text += '$';
            out.text += std::to_string(++out.parameters);
            i = next;
            continue;
        }
        out.text.append(s.substr(i, next - i));
        i = next;
    }
    return out;
}

}  // namespace tollgate::store
