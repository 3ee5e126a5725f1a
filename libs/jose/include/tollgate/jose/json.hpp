#pragma once
// Strict JSON for JOSE: Boost.JSON under explicit limits, duplicate member names rejected.
// RFC 7515 §4 / RFC 7519 §4 allow "last member wins", but two readers disagreeing about which
// "alg" or "exp" counts is an attack (RFC 8725 §3.7), so a duplicate is an error here.
// Also rejected: invalid UTF-8, comments, trailing commas, trailing garbage, a top level that is
// not an object (for parse_json_object), and anything beyond the limits below.
// Thread-safety: pure functions.
#include <cstddef>
#include <string_view>

#include <boost/json/object.hpp>
#include <boost/json/storage_ptr.hpp>

#include <tollgate/jose/error.hpp>

namespace tollgate::jose {

struct json_limits {
    std::size_t max_bytes = 64 * 1024;         ///< JSON text size (errc::json_too_large)
    std::size_t max_depth = 32;                ///< nesting of objects/arrays (errc::json_too_deep)
    std::size_t max_members = 1024;            ///< members + elements in the whole document
    std::size_t max_string_bytes = 16 * 1024;  ///< one string or key
};

/// Parses text that must be one JSON object. Errors: bad_json, json_too_deep, json_too_large,
/// duplicate_member. Never throws on bad input. The result's memory comes from storage (default:
/// the heap); pass a shared monotonic resource to make one allocation serve a whole token.
result<boost::json::object> parse_json_object(std::string_view text, const json_limits& limits = {},
                                              boost::json::storage_ptr storage = {});

}  // namespace tollgate::jose
