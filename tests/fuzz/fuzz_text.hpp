#pragma once
// Small helpers shared by the fuzz targets that read line-structured inputs and topic filters.
#include <cstddef>
#include <string>
#include <string_view>

namespace tollgate::fuzz {

/// Removes and returns the next line of `in` (without its '\n'); the rest stays in `in`.
inline std::string_view next_line(std::string_view& in) {
    const auto nl = in.find('\n');
    auto line = in.substr(0, nl);
    in = nl == std::string_view::npos ? std::string_view{} : in.substr(nl + 1);
    return line;
}

/// A topic name the filter matches: each '+' or '#' level replaced by "x".
inline std::string instance_of(std::string_view filter) {
    std::string out;
    std::size_t start = 0;
    for (;;) {
        const auto slash = filter.find('/', start);
        auto level =
            filter.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
        out += (level == "+" || level == "#") ? std::string_view("x") : level;
        if (slash == std::string_view::npos) {
            return out;
        }
        out += '/';
        start = slash + 1;
    }
}

}  // namespace tollgate::fuzz
