#include "ready_file.hpp"

#include <cstdio>
#include <fstream>
#include <stdexcept>
#include <system_error>
#include <unistd.h>

namespace tollgate::app {
namespace {

// A JSON string literal (RFC 8259 escaping) of arbitrary bytes from the configuration.
std::string json_string(std::string_view text) {
    std::string out = "\"";
    for (const char c : text) {
        const auto u = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (u < 0x20) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", u);
            out += buf;
        } else {
            out += c;
        }
    }
    out += '"';
    return out;
}

}  // namespace

std::string ready_json(long pid, const std::vector<net::bound_listener>& listeners) {
    std::string out = "{\"pid\":" + std::to_string(pid) + ",\"listeners\":[";
    bool first = true;
    for (const auto& l : listeners) {
        out += first ? "" : ",";
        first = false;
        out += "{\"name\":" + json_string(l.name) + ",\"type\":" + json_string(net::to_string(l.kind)) +
               ",\"address\":" + json_string(l.address) + ",\"port\":" + std::to_string(l.port) + "}";
    }
    out += "]}\n";
    return out;
}

void write_ready_file(const std::filesystem::path& path, const std::string& json) {
    std::filesystem::path temp = path;
    temp += ".tmp" + std::to_string(::getpid());
    {
        std::ofstream out(temp, std::ios::binary | std::ios::trunc);
        out << json;
        out.flush();
        if (!out) {
            throw std::runtime_error("cannot write the ready file " + temp.string());
        }
    }
    std::error_code ec;
    std::filesystem::rename(temp, path, ec);
    if (ec) {
        std::filesystem::remove(temp, ec);
        throw std::runtime_error("cannot rename the ready file into " + path.string());
    }
}

}  // namespace tollgate::app
