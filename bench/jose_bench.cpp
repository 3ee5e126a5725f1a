// Google Benchmark: full JWT verification (parse + key lookup + signature + claims) per algorithm,
// for comparison with the raw primitive measured by `openssl speed` (bench/jose-vs-openssl-speed.sh).
#include <map>
#include <memory>
#include <string>

#include <benchmark/benchmark.h>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <tollgate/common/clock.hpp>
#include <tollgate/jose/base64url.hpp>
#include <tollgate/jose/jwt.hpp>

namespace {

using namespace tollgate;

struct fixture {
    common::real_clock clock;
    std::string token;
    jose::verifier verifier;

    explicit fixture(jose::algorithm alg) : verifier(make(alg, token), policy(alg), clock) {}

    static jose::validation_policy policy(jose::algorithm alg) {
        jose::validation_policy p;
        p.allowed_algs = {alg};
        p.issuers = {"https://as.example.com"};
        p.audiences = {"mqtt://broker.example.com"};
        p.expected_typ = "at+jwt";
        return p;
    }

    /// A typical RFC 9068 access token, and the key set that verifies it.
    static jose::key_set make(jose::algorithm alg, std::string& token) {
        const jose::key k = jose::key::generate(alg, "key-2026-11");
        const std::int64_t now = common::real_clock().unix_seconds();
        boost::json::object claims{{"iss", "https://as.example.com"},
                                   {"sub", "device-4711"},
                                   {"aud", "mqtt://broker.example.com"},
                                   {"client_id", "device-4711"},
                                   {"exp", now + 3600},
                                   {"iat", now},
                                   {"jti", "2f1c7e0a-5b1d-4c55-9a33-7c1d8e0f1a2b"},
                                   {"scope", "mqtt:pub:devices/4711/# mqtt:sub:devices/4711/cmd"}};
        token = *jose::sign(k, alg, claims,
                            jose::sign_options{.typ = "at+jwt", .include_kid = true, .extra_header = {}});
        jose::key_set set;
        if (k.type() == jose::key_type::oct) {
            set.add(k);
        } else {
            set.add(*jose::key::from_jwk(*k.to_public_jwk()));
        }
        return set;
    }
};

/// One fixture per algorithm for the whole run (key generation stays out of the measurement).
const fixture& fixture_for(jose::algorithm alg) {
    static std::map<jose::algorithm, std::unique_ptr<fixture>> fixtures;
    auto& f = fixtures[alg];
    if (!f) {
        f = std::make_unique<fixture>(alg);
    }
    return *f;
}

void verify_benchmark(benchmark::State& state, jose::algorithm alg) {
    const fixture& f = fixture_for(alg);
    for (auto _ : state) {
        auto r = f.verifier.verify(f.token);
        if (!r) {
            state.SkipWithError(r.error().message().c_str());
            break;
        }
        benchmark::DoNotOptimize(r);
    }
    state.SetItemsProcessed(state.iterations());
}

void parse_only(benchmark::State& state) {
    const fixture& f = fixture_for(jose::algorithm::hs256);
    for (auto _ : state) {
        auto r = jose::parse_compact(f.token);
        benchmark::DoNotOptimize(r);
    }
    state.SetItemsProcessed(state.iterations());
}

/// The HS256 primitive alone (HMAC-SHA256 over the same signing input, cached context), to split
/// the HS256 figure into crypto and parsing/validation.
void hs256_signature_only(benchmark::State& state) {
    const fixture& f = fixture_for(jose::algorithm::hs256);
    auto parsed = jose::parse_compact(f.token);
    const jose::key& k = f.verifier.keys().keys().front();
    for (auto _ : state) {
        auto ec =
            jose::verify_signature(k, jose::algorithm::hs256, parsed->signing_input(), parsed->signature);
        benchmark::DoNotOptimize(ec);
    }
    state.SetItemsProcessed(state.iterations());
}

/// Calibration: Boost.JSON's own parser on the same claims text, and our strict parser (limits,
/// duplicate detection) on it.
void claims_json(benchmark::State& state, bool strict) {
    const fixture& f = fixture_for(jose::algorithm::hs256);
    auto parsed = jose::parse_compact(f.token);
    const std::string claims = *jose::base64url_decode_string(parsed->payload_b64());
    for (auto _ : state) {
        if (strict) {
            auto o = jose::parse_json_object(claims);
            benchmark::DoNotOptimize(o);
        } else {
            boost::system::error_code ec;
            auto v = boost::json::parse(claims, ec);
            benchmark::DoNotOptimize(v);
        }
    }
    state.SetItemsProcessed(state.iterations());
}

}  // namespace

BENCHMARK_CAPTURE(claims_json, boost_json_parse, false);
BENCHMARK_CAPTURE(claims_json, strict_parse, true);
BENCHMARK(hs256_signature_only);
BENCHMARK_CAPTURE(verify_benchmark, RS256, jose::algorithm::rs256);
BENCHMARK_CAPTURE(verify_benchmark, PS256, jose::algorithm::ps256);
BENCHMARK_CAPTURE(verify_benchmark, ES256, jose::algorithm::es256);
BENCHMARK_CAPTURE(verify_benchmark, ES384, jose::algorithm::es384);
BENCHMARK_CAPTURE(verify_benchmark, EdDSA, jose::algorithm::eddsa);
BENCHMARK_CAPTURE(verify_benchmark, HS256, jose::algorithm::hs256);
BENCHMARK(parse_only);

BENCHMARK_MAIN();
