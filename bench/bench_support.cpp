#include "bench_support.hpp"

#include <algorithm>
#include <exception>
#include <fstream>
#include <iostream>
#include <stdexcept>

namespace tollgate::bench {

std::vector<std::string> read_lines(const std::string& path, const std::string& what) {
    std::vector<std::string> lines;
    std::ifstream in(path);
    for (std::string line; std::getline(in, line);) {
        if (!line.empty()) {
            lines.push_back(line);
        }
    }
    if (lines.empty()) {
        throw std::runtime_error("no " + what + " in " + path);
    }
    return lines;
}

int guarded_parse(const char* tool, const std::function<int()>& parse) {
    try {
        return parse();
    } catch (const std::exception& e) {
        std::cerr << tool << ": " << e.what() << "\n";
        return 2;
    }
}

std::string option_value(int argc, char** argv, int& i) {
    if (i + 1 >= argc) {
        throw std::invalid_argument(std::string(argv[i]) + " needs a value");
    }
    return argv[++i];
}

latency_summary summarize(std::vector<std::int64_t>& samples) {
    std::sort(samples.begin(), samples.end());
    auto at = [&](double p) -> std::int64_t {
        if (samples.empty()) {
            return 0;
        }
        const auto i = static_cast<std::size_t>(p * static_cast<double>(samples.size()));
        return samples[std::min(samples.size() - 1, i)];
    };
    return {at(0.50), at(0.90), at(0.99), samples.empty() ? 0 : samples.back()};
}

std::string counts_json(const std::map<int, std::int64_t>& counts, std::int64_t& total) {
    std::string out = "{";
    total = 0;
    for (const auto& [code, n] : counts) {
        total += n;
        out += (out.size() == 1 ? "\"" : ",\"") + std::to_string(code) + "\":" + std::to_string(n);
    }
    return out + "}";
}

std::string json_escape(const std::string& s) {
    std::string out;
    out.reserve(s.size());
    for (const char c : s) {
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (static_cast<unsigned char>(c) < 0x20) {
            out += ' ';
        } else {
            out += c;
        }
    }
    return out;
}

}  // namespace tollgate::bench
