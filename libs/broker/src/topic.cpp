#include <tollgate/broker/topic.hpp>

namespace tollgate::broker::topic {

void split_levels(std::string_view text, std::vector<std::string_view>& out) {
    out.clear();
    for_each_level(text, [&out](std::string_view level) { out.push_back(level); });
}

shared_filter parse_shared(std::string_view text) noexcept {
    constexpr std::string_view prefix = "$share/";
    if (text.substr(0, prefix.size()) != prefix) {
        return {false, {}, text};
    }
    const std::string_view rest = text.substr(prefix.size());
    const std::size_t slash = rest.find('/');
    if (slash == std::string_view::npos || slash == 0) {
        return {false, {}, text};
    }
    return {true, rest.substr(0, slash), rest.substr(slash + 1)};
}

bool matches(std::string_view filter, std::string_view name) noexcept {
    if (is_dollar_topic(name) && !filter.empty() && (filter.front() == '+' || filter.front() == '#')) {
        return false;  // [MQTT-4.7.2-1]
    }
    std::size_t f = 0;
    std::size_t n = 0;
    for (;;) {
        const std::size_t f_end = filter.find('/', f);
        const std::string_view f_level =
            filter.substr(f, f_end == std::string_view::npos ? std::string_view::npos : f_end - f);
        if (f_level == "#") {
            return true;  // matches the parent level and any number of child levels
        }
        if (n == std::string_view::npos) {
            return false;  // the name is exhausted but the filter has more levels
        }
        const std::size_t n_end = name.find('/', n);
        const std::string_view n_level =
            name.substr(n, n_end == std::string_view::npos ? std::string_view::npos : n_end - n);
        if (f_level != "+" && f_level != n_level) {
            return false;
        }
        if (f_end == std::string_view::npos) {
            return n_end == std::string_view::npos;
        }
        f = f_end + 1;
        n = n_end == std::string_view::npos ? std::string_view::npos : n_end + 1;
    }
}

}  // namespace tollgate::broker::topic
