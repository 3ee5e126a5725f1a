// token_mint: pre-mints RFC 9068 access tokens for the CONNECT benchmarks (bench/connect_load and
// mqtt_load --password-file), signed with a fresh key whose public JWKS goes to a file that
// tollgate's [[auth.issuers]] keys = [...] can load. Benchmark use only: the private key is never
// written anywhere.
//
//   token_mint --alg ES256 --count 20000 --issuer https://bench.invalid --scope "mqtt:pub:bench/#"
//              --ttl 3600 --jwks-out bench-jwks.json --out tokens.txt
//
// Every token is distinct (jti, sub and client_id carry its index: bench-<i>), so a broker sees
// each one cold; one token per line.
#include <chrono>
#include <cstdint>
#include <fstream>
#include <iostream>
#include <string>

#include <boost/json/object.hpp>

#include <tollgate/common/clock.hpp>
#include <tollgate/common/secret.hpp>
#include <tollgate/jose/algorithm.hpp>
#include <tollgate/jose/jws.hpp>
#include <tollgate/jose/key.hpp>

#include "bench_support.hpp"

namespace jose = tollgate::jose;

namespace {

struct options {
    jose::algorithm alg = jose::algorithm::es256;
    std::string alg_name = "ES256";
    long count = 1000;
    std::string issuer = "https://bench.invalid";
    std::string audience = "urn:tollgate:broker";
    std::string scope = "mqtt:all:bench/#";
    long ttl = 3600;
    std::string jwks_out;
    std::string out;
};

int usage() {
    std::cerr << "usage: token_mint --alg RS256|ES256|EdDSA|... --count N --jwks-out FILE --out FILE\n"
                 "                  [--issuer URL] [--audience AUD] [--scope SCOPE] [--ttl SECONDS]\n";
    return 2;
}

int parse(int argc, char** argv, options& o) {
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (i + 1 >= argc) {
            return usage();
        }
        const std::string v = argv[++i];
        if (a == "--alg") {
            auto alg = jose::algorithm_from_name(v);
            if (!alg) {
                std::cerr << "token_mint: unknown alg " << v << "\n";
                return 2;
            }
            o.alg = *alg;
            o.alg_name = v;
        } else if (a == "--count") {
            o.count = std::stol(v);
        } else if (a == "--issuer") {
            o.issuer = v;
        } else if (a == "--audience") {
            o.audience = v;
        } else if (a == "--scope") {
            o.scope = v;
        } else if (a == "--ttl") {
            o.ttl = std::stol(v);
        } else if (a == "--jwks-out") {
            o.jwks_out = v;
        } else if (a == "--out") {
            o.out = v;
        } else {
            return usage();
        }
    }
    if (o.count < 1 || o.ttl < 1 || o.jwks_out.empty() || o.out.empty()) {
        return usage();
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    options o;
    if (int rc = tollgate::bench::guarded_parse("token_mint", [&] { return parse(argc, argv, o); });
        rc != 0) {
        return rc;
    }
    const std::string kid = "bench-" + tollgate::common::to_hex(tollgate::common::random_bytes(6));
    const jose::key k = jose::key::generate(o.alg, kid);
    auto jwk = k.to_public_jwk();
    if (!jwk) {
        std::cerr << "token_mint: " << jwk.error().message() << " (a symmetric alg has no public key)\n";
        return 1;
    }
    std::ofstream(o.jwks_out) << "{\"keys\":[" << *jwk << "]}\n";
    std::ofstream out(o.out);
    const std::int64_t now = tollgate::common::real_clock().unix_seconds();
    const std::string run = tollgate::common::to_hex(tollgate::common::random_bytes(8));
    const jose::sign_options sign{.typ = "at+jwt", .include_kid = true, .extra_header = {}};
    for (long i = 0; i < o.count; ++i) {
        const std::string id = "bench-" + std::to_string(i);
        boost::json::object claims{{"iss", o.issuer},
                                   {"sub", id},
                                   {"aud", o.audience},
                                   {"client_id", id},
                                   {"exp", now + o.ttl},
                                   {"iat", now},
                                   {"jti", run + "-" + std::to_string(i)},
                                   {"scope", o.scope}};
        auto token = jose::sign(k, o.alg, claims, sign);
        if (!token) {
            std::cerr << "token_mint: " << token.error().message() << "\n";
            return 1;
        }
        out << *token << '\n';
    }
    out.flush();
    if (!out) {
        std::cerr << "token_mint: cannot write " << o.out << "\n";
        return 1;
    }
    std::cerr << "token_mint: " << o.count << " " << o.alg_name << " tokens in " << o.out << ", key " << kid
              << " in " << o.jwks_out << "\n";
    return 0;
}
