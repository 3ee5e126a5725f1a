// Strict JSON parsing: a Boost.JSON basic_parser whose handler builds the value through a
// value_stack (as boost::json::parser does) and additionally rejects duplicate member names and
// enforces member and string limits. Depth is bounded by parse_options::max_depth before any
// recursion happens, so a 10,000-deep document costs one pass and no stack.
#include <cmath>
#include <string>
#include <vector>

#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/value_stack.hpp>

#include <tollgate/jose/json.hpp>

namespace tollgate::jose {
namespace {

namespace bj = boost::json;
using bj_error = bj::error_code;

class strict_handler {
  public:
    static constexpr std::size_t max_array_size = static_cast<std::size_t>(-1);
    static constexpr std::size_t max_object_size = static_cast<std::size_t>(-1);
    static constexpr std::size_t max_string_size = static_cast<std::size_t>(-1);
    static constexpr std::size_t max_key_size = static_cast<std::size_t>(-1);

    strict_handler(const json_limits& limits, bj::storage_ptr storage, unsigned char* temp,
                   std::size_t temp_size)
        : limits_(limits), stack_(bj::storage_ptr(), temp, temp_size), storage_(std::move(storage)) {
        keys_.reserve(16);
        object_starts_.reserve(8);
    }

    errc failure() const noexcept { return failure_; }
    bj::value release() { return stack_.release(); }

    bool on_document_begin(bj_error&) {
        stack_.reset(storage_);
        return true;
    }
    bool on_document_end(bj_error&) { return true; }
    bool on_array_begin(bj_error& ec) { return count(ec); }
    bool on_array_end(std::size_t n, bj_error&) {
        stack_.push_array(n);
        return true;
    }
    bool on_object_begin(bj_error& ec) {
        object_starts_.push_back(keys_.size());
        return count(ec);
    }
    bool on_object_end(std::size_t n, bj_error&) {
        keys_.resize(object_starts_.back());
        object_starts_.pop_back();
        stack_.push_object(n);
        return true;
    }
    bool on_string_part(bj::string_view s, std::size_t n, bj_error& ec) {
        if (n > limits_.max_string_bytes) {
            return fail(ec, errc::json_too_large);
        }
        stack_.push_chars(s);
        return true;
    }
    bool on_string(bj::string_view s, std::size_t n, bj_error& ec) {
        if (n > limits_.max_string_bytes) {
            return fail(ec, errc::json_too_large);
        }
        stack_.push_string(s);
        return count(ec);
    }
    bool on_key_part(bj::string_view s, std::size_t n, bj_error& ec) {
        if (n > limits_.max_string_bytes) {
            return fail(ec, errc::json_too_large);
        }
        key_.append(s.data(), s.size());
        stack_.push_chars(s);
        return true;
    }
    bool on_key(bj::string_view s, std::size_t n, bj_error& ec) {
        if (n > limits_.max_string_bytes) {
            return fail(ec, errc::json_too_large);
        }
        // Keys of the open objects, innermost last; a linear scan is fastest for JOSE-sized objects
        // and max_members bounds the worst case.
        std::string_view name(s.data(), s.size());
        if (!key_.empty()) {
            key_.append(s.data(), s.size());
            name = key_;
        }
        for (std::size_t i = object_starts_.back(); i < keys_.size(); ++i) {
            if (keys_[i] == name) {
                return fail(ec, errc::duplicate_member);
            }
        }
        keys_.emplace_back(name);
        key_.clear();
        stack_.push_key(s);
        return true;
    }
    bool on_number_part(bj::string_view, bj_error&) { return true; }
    bool on_int64(std::int64_t i, bj::string_view, bj_error& ec) {
        stack_.push_int64(i);
        return count(ec);
    }
    bool on_uint64(std::uint64_t u, bj::string_view, bj_error& ec) {
        stack_.push_uint64(u);
        return count(ec);
    }
    bool on_double(double d, bj::string_view, bj_error& ec) {
        if (!std::isfinite(d)) {
            return fail(ec, errc::bad_json);
        }
        stack_.push_double(d);
        return count(ec);
    }
    bool on_bool(bool b, bj_error& ec) {
        stack_.push_bool(b);
        return count(ec);
    }
    bool on_null(bj_error& ec) {
        stack_.push_null();
        return count(ec);
    }
    bool on_comment_part(bj::string_view, bj_error& ec) { return fail(ec, errc::bad_json); }
    bool on_comment(bj::string_view, bj_error& ec) { return fail(ec, errc::bad_json); }

  private:
    bool count(bj_error& ec) {
        if (++items_ > limits_.max_members) {
            return fail(ec, errc::json_too_large);
        }
        return true;
    }
    bool fail(bj_error& ec, errc why) {
        failure_ = why;
        ec = bj::error::syntax;
        return false;
    }

    const json_limits& limits_;
    bj::value_stack stack_;
    bj::storage_ptr storage_;
    std::vector<std::string> keys_;           ///< member names of all open objects
    std::vector<std::size_t> object_starts_;  ///< index in keys_ where each open object begins
    std::string key_;
    std::size_t items_ = 0;
    errc failure_ = errc::bad_json;
};

}  // namespace

result<boost::json::object> parse_json_object(std::string_view text, const json_limits& limits,
                                              boost::json::storage_ptr storage) {
    if (text.size() > limits.max_bytes) {
        return errc::json_too_large;
    }
    // Cheap pre-check: the top level must be an object, so the first byte must be '{' (no BOM, no
    // whitespace games needed for JOSE, but RFC 8259 whitespace is still allowed).
    std::size_t first = text.find_first_not_of(" \t\r\n");
    if (first == std::string_view::npos || text[first] != '{') {
        return errc::bad_json;
    }
    bj::parse_options options;
    options.max_depth = limits.max_depth;
    options.allow_comments = false;
    options.allow_trailing_commas = false;
    options.allow_invalid_utf8 = false;
    // The value stack's scratch space lives on our stack for typical JOSE documents.
    alignas(std::max_align_t) unsigned char temp[2048];
    bj::basic_parser<strict_handler> parser(options, limits, std::move(storage), temp, sizeof temp);
    bj_error ec;
    try {
        const std::size_t used = parser.write_some(false, text.data(), text.size(), ec);
        if (ec) {
            if (ec == bj::error::too_deep) {
                return errc::json_too_deep;
            }
            return parser.handler().failure();
        }
        if (used != text.size() || !parser.done()) {
            return errc::bad_json;
        }
        bj::value v = parser.handler().release();
        if (!v.is_object()) {
            return errc::bad_json;
        }
        return std::move(v.get_object());
    } catch (const std::bad_alloc&) {
        return errc::json_too_large;
    } catch (const std::exception&) {
        return errc::bad_json;
    }
}

}  // namespace tollgate::jose
