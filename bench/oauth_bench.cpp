// Token endpoint throughput: client_credentials through authorization_server::handle(), per
// signing algorithm, on SQLite (WAL) in a temporary data directory. Each iteration is a whole
// token request: form parsing, client authentication (HMAC compare), scope check, JWT signing and
// the insert of the jti row. Run: build/<dir>/bench/oauth_bench --benchmark_min_time=2s
#include <filesystem>
#include <memory>

#include <benchmark/benchmark.h>

#include <tollgate/common/clock.hpp>
#include <tollgate/common/secret.hpp>
#include <tollgate/oauth/server.hpp>

namespace {

using namespace tollgate;

struct bench_server {
    explicit bench_server(jose::algorithm alg) {
        dir = std::filesystem::temp_directory_path() /
              ("tg-oauth-bench-" + common::to_hex(common::random_bytes(6)));
        std::filesystem::create_directories(dir);
        oauth::server_config config;
        config.data_dir = dir.string();
        config.signing_alg = alg;
        server = std::make_unique<oauth::authorization_server>(config, clock);
        oauth::client_options o;
        o.client_id = "bench";
        o.grant_types = {"client_credentials"};
        o.scopes = {"mqtt:pub:bench/#"};
        const auto secret = server->create_client(o).secret;
        req.method = "POST";
        req.target = "/token";
        req.headers = {{"content-type", "application/x-www-form-urlencoded"},
                       {"authorization", oauth::make_basic_authorization("bench", secret)}};
        req.body = "grant_type=client_credentials&scope=mqtt%3Apub%3Abench%2F%23";
        req.peer_address = "127.0.0.1";
    }
    ~bench_server() {
        server.reset();
        std::error_code ec;
        std::filesystem::remove_all(dir, ec);
    }
    common::real_clock clock;
    std::filesystem::path dir;
    std::unique_ptr<oauth::authorization_server> server;
    oauth::request req;
};

void client_credentials(benchmark::State& state, jose::algorithm alg) {
    bench_server s(alg);
    for (auto _ : state) {
        auto r = s.server->handle(s.req);
        if (r.status != 200) {
            state.SkipWithError("token request failed");
            break;
        }
        benchmark::DoNotOptimize(r.body.data());
    }
    state.SetItemsProcessed(state.iterations());
}

BENCHMARK_CAPTURE(client_credentials, es256, jose::algorithm::es256)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(client_credentials, eddsa, jose::algorithm::eddsa)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(client_credentials, rs256, jose::algorithm::rs256)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
