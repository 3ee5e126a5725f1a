// jose_tool: a small CLI over libs/jose so cross-implementation scripts (tests/interop/jose) can
// make keys, sign and verify with our code. Not installed; test use only.
//
//   jose_tool keygen ALG KID                  private JWK (pinned to ALG) on stdout
//   jose_tool public JWK_FILE                 public JWK of a private JWK
//   jose_tool jwks JWK_FILE...                {"keys":[...]} of the public keys
//   jose_tool sign JWK_FILE ALG [TYP]         claims JSON on stdin, compact JWS on stdout
//   jose_tool verify JWKS_FILE ALGS [ISS] [AUD] [TYP]
//                                             token on stdin; claims JSON on stdout and exit 0,
//                                             or the error on stderr and exit 1
// ALGS is a comma-separated list. Exit status 2: usage or I/O error.
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include <boost/json/serialize.hpp>

#include <tollgate/common/clock.hpp>
#include <tollgate/jose/jwt.hpp>

namespace {

using namespace tollgate;

std::string read_all(std::istream& in) {
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw std::runtime_error("cannot read " + path);
    }
    return read_all(in);
}

std::string trim(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) {
        s.pop_back();
    }
    return s;
}

jose::algorithm parse_alg(const std::string& name) {
    auto alg = jose::algorithm_from_name(name);
    if (!alg) {
        throw std::runtime_error("unknown algorithm " + name);
    }
    return *alg;
}

jose::key load_key(const std::string& path) {
    auto k = jose::key::from_jwk(read_file(path));
    if (!k) {
        throw std::runtime_error(path + ": " + k.error().message());
    }
    return std::move(k).value();
}

int verify(const std::vector<std::string>& args) {
    auto keys = jose::key_set::from_json(read_file(args.at(2)));
    if (!keys) {
        std::cerr << "jwks: " << keys.error().message() << "\n";
        return 2;
    }
    jose::validation_policy policy;
    policy.allowed_algs.clear();
    std::stringstream list(args.at(3));
    for (std::string name; std::getline(list, name, ',');) {
        policy.allowed_algs.push_back(parse_alg(name));
    }
    if (args.size() > 4 && !args[4].empty()) {
        policy.issuers = {args[4]};
    }
    if (args.size() > 5 && !args[5].empty()) {
        policy.audiences = {args[5]};
    }
    if (args.size() > 6 && !args[6].empty()) {
        policy.expected_typ = args[6];
    }
    common::real_clock clock;
    jose::verifier v(std::move(*keys), policy, clock);
    auto token = v.verify(trim(read_all(std::cin)));
    if (!token) {
        std::cerr << "rejected: " << token.error().message() << "\n";
        return 1;
    }
    std::cout << boost::json::serialize(token->claims()) << "\n";
    return 0;
}

int run(const std::vector<std::string>& args) {
    const std::string& cmd = args.at(1);
    if (cmd == "keygen") {
        const jose::key k = jose::key::generate(parse_alg(args.at(2)), args.at(3));
        std::cout << *k.to_private_jwk() << "\n";
        return 0;
    }
    if (cmd == "public") {
        auto jwk = load_key(args.at(2)).to_public_jwk();
        if (!jwk) {
            std::cerr << jwk.error().message() << "\n";
            return 1;
        }
        std::cout << *jwk << "\n";
        return 0;
    }
    if (cmd == "jwks") {
        jose::key_set set;
        for (std::size_t i = 2; i < args.size(); ++i) {
            set.add(load_key(args[i]));
        }
        std::cout << set.to_json() << "\n";
        return 0;
    }
    if (cmd == "sign") {
        jose::sign_options options;
        if (args.size() > 4) {
            options.typ = args[4];
        }
        auto token =
            jose::sign(load_key(args.at(2)), parse_alg(args.at(3)), trim(read_all(std::cin)), options);
        if (!token) {
            std::cerr << token.error().message() << "\n";
            return 1;
        }
        std::cout << *token << "\n";
        return 0;
    }
    if (cmd == "verify") {
        return verify(args);
    }
    throw std::runtime_error("unknown command " + cmd);
}

}  // namespace

int main(int argc, char** argv) {
    const std::vector<std::string> args(argv, argv + argc);
    try {
        return run(args);
    } catch (const std::exception& e) {
        std::cerr << "jose_tool: " << e.what() << "\n";
        return 2;
    }
}
