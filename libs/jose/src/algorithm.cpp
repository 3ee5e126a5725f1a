#include <array>
#include <utility>

#include <tollgate/jose/algorithm.hpp>

namespace tollgate::jose {
namespace {

constexpr std::array<std::pair<algorithm, std::string_view>, 13> names{{
    {algorithm::hs256, "HS256"},
    {algorithm::hs384, "HS384"},
    {algorithm::hs512, "HS512"},
    {algorithm::rs256, "RS256"},
    {algorithm::rs384, "RS384"},
    {algorithm::rs512, "RS512"},
    {algorithm::ps256, "PS256"},
    {algorithm::ps384, "PS384"},
    {algorithm::ps512, "PS512"},
    {algorithm::es256, "ES256"},
    {algorithm::es384, "ES384"},
    {algorithm::es512, "ES512"},
    {algorithm::eddsa, "EdDSA"},
}};

}  // namespace

std::string_view algorithm_name(algorithm alg) noexcept {
    for (const auto& [a, n] : names) {
        if (a == alg) {
            return n;
        }
    }
    return {};
}

std::optional<algorithm> algorithm_from_name(std::string_view name) noexcept {
    for (const auto& [a, n] : names) {
        if (n == name) {
            return a;
        }
    }
    return std::nullopt;
}

bool is_none_spelling(std::string_view name) noexcept {
    constexpr std::string_view none = "none";
    if (name.size() != none.size()) {
        return false;
    }
    for (std::size_t i = 0; i < none.size(); ++i) {
        char c = name[i];
        if (c >= 'A' && c <= 'Z') {
            c = static_cast<char>(c - 'A' + 'a');
        }
        if (c != none[i]) {
            return false;
        }
    }
    return true;
}

key_type required_key_type(algorithm alg) noexcept {
    switch (alg) {
        case algorithm::hs256:
        case algorithm::hs384:
        case algorithm::hs512:
            return key_type::oct;
        case algorithm::rs256:
        case algorithm::rs384:
        case algorithm::rs512:
        case algorithm::ps256:
        case algorithm::ps384:
        case algorithm::ps512:
            return key_type::rsa;
        case algorithm::es256:
        case algorithm::es384:
        case algorithm::es512:
            return key_type::ec;
        case algorithm::eddsa:
            return key_type::okp;
    }
    return key_type::oct;
}

std::string_view key_type_name(key_type type) noexcept {
    switch (type) {
        case key_type::rsa:
            return "RSA";
        case key_type::ec:
            return "EC";
        case key_type::okp:
            return "OKP";
        case key_type::oct:
            return "oct";
    }
    return {};
}

std::size_t hash_size(algorithm alg) noexcept {
    switch (alg) {
        case algorithm::hs256:
        case algorithm::rs256:
        case algorithm::ps256:
        case algorithm::es256:
            return 32;
        case algorithm::hs384:
        case algorithm::rs384:
        case algorithm::ps384:
        case algorithm::es384:
            return 48;
        case algorithm::hs512:
        case algorithm::rs512:
        case algorithm::ps512:
        case algorithm::es512:
        case algorithm::eddsa:
            return 64;
    }
    return 0;
}

}  // namespace tollgate::jose
