// Micro-benchmarks of the broker's routing structures: subscription_index::match on 100k
// subscriptions with mixed wildcards, subscribe/unsubscribe churn, remove_session, and
// retained_store::match on 100k retained topics. Run: routing_bench [--benchmark_filter=...]
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include <tollgate/broker/retained_store.hpp>
#include <tollgate/broker/subscription_index.hpp>

namespace {

using tollgate::broker::delivery_target;
using tollgate::broker::message;
using tollgate::broker::retained_store;
using tollgate::broker::session_handle;
using tollgate::broker::subscription_index;
using tollgate::broker::subscription_options;

constexpr int sites = 100;
constexpr int devices = 1000;  // per site
const char* const metrics[] = {"temp", "humidity", "power", "status"};

// Concatenates by append (GCC 12 reports a false -Wrestrict for literal + std::string at -O3).
template <typename... Parts>
std::string cat(const Parts&... parts) {
    std::string text;
    (text.append(parts), ...);
    return text;
}

std::string num(int value) {
    return std::to_string(value);
}

std::string device_topic(int site, int device, int metric) {
    return cat("site/", num(site), "/device/", num(device), "/", metrics[metric]);
}

// 100k subscriptions from 20k sessions: 70% exact, 12% '+' on the device, 8% 'site/N/#',
// 5% '+' on the site with '#', 3% shared groups, 2% '#'-heavy monitoring filters.
struct routing_world {
    subscription_index index;
    std::vector<std::shared_ptr<session_handle>> sessions;
    std::vector<std::string> topics;

    routing_world(int subscriptions, bool with_identifiers) {
        std::mt19937 rng(42);
        std::uniform_int_distribution<int> site(0, sites - 1);
        std::uniform_int_distribution<int> device(0, devices - 1);
        std::uniform_int_distribution<int> metric(0, 3);
        std::uniform_int_distribution<int> kind(0, 99);
        const int session_count = subscriptions / 5;
        for (int i = 0; i < session_count; ++i) {
            sessions.push_back(std::make_shared<session_handle>(i + 1, cat("c", num(i)), 0));
            sessions.back()->connected = true;
        }
        std::uniform_int_distribution<int> who(0, session_count - 1);
        for (int i = 0; i < subscriptions; ++i) {
            const int k = kind(rng);
            std::string filter;
            if (k < 70) {
                filter = device_topic(site(rng), device(rng), metric(rng));
            } else if (k < 82) {
                filter = cat("site/", num(site(rng)), "/device/+/", metrics[metric(rng)]);
            } else if (k < 90) {
                filter = cat("site/", num(site(rng)), "/#");
            } else if (k < 95) {
                filter = cat("+/", num(site(rng)), "/device/", num(device(rng)), "/#");
            } else if (k < 98) {
                filter = cat("$share/g", num(k % 3), "/site/", num(site(rng)), "/device/+/+");
            } else {
                filter = cat("site/+/device/", num(device(rng)), "/+");
            }
            subscription_options options;
            options.max_qos = static_cast<std::uint8_t>(k % 3);
            options.subscription_identifier = with_identifiers ? static_cast<std::uint32_t>(k % 4) : 0;
            index.subscribe(filter, sessions[static_cast<std::size_t>(who(rng))], options);
        }
        for (int i = 0; i < 4096; ++i) {
            topics.push_back(device_topic(site(rng), device(rng), metric(rng)));
        }
    }
};

void bm_match_100k(benchmark::State& state) {
    routing_world world(static_cast<int>(state.range(0)), state.range(1) != 0);
    std::vector<delivery_target> out;
    std::size_t i = 0;
    std::size_t targets = 0;
    for (auto _ : state) {
        out.clear();
        world.index.match(world.topics[i++ & 4095], 0, out);
        targets += out.size();
        benchmark::DoNotOptimize(out.data());
    }
    state.counters["targets/match"] =
        benchmark::Counter(static_cast<double>(targets) / static_cast<double>(state.iterations()));
    state.counters["subscriptions"] = static_cast<double>(world.index.subscription_count());
    state.counters["nodes"] = static_cast<double>(world.index.node_count());
}
// ids=1: 75% of the subscriptions carry a subscription identifier (each merged target then allocates
// its identifier vector); ids=0: none do (MQTT 3.1.1 clients, most MQTT 5 clients).
BENCHMARK(bm_match_100k)
    ->ArgNames({"subs", "ids"})
    ->Args({100'000, 0})
    ->Args({100'000, 1})
    ->Args({10'000, 0});

void bm_match_no_subscriber(benchmark::State& state) {
    routing_world world(100'000, true);
    std::vector<delivery_target> out;
    for (auto _ : state) {
        out.clear();
        world.index.match("other/tree/with/no/subscriber", 0, out);
        benchmark::DoNotOptimize(out.data());
    }
}
BENCHMARK(bm_match_no_subscriber);

void bm_subscribe_unsubscribe_churn(benchmark::State& state) {
    routing_world world(100'000, true);
    auto churner = std::make_shared<session_handle>(1'000'000, "churner", 0);
    subscription_options options;
    options.max_qos = 1;
    std::vector<std::string> filters;
    for (int i = 0; i < 1024; ++i) {
        filters.push_back(cat("site/", num(i % sites), "/device/+/churn", num(i)));
    }
    std::size_t i = 0;
    for (auto _ : state) {  // one op = subscribe + unsubscribe of a filter with a new leaf
        const std::string& filter = filters[i++ & 1023];
        world.index.subscribe(filter, churner, options);
        world.index.unsubscribe(filter, churner->id);
    }
    state.counters["nodes"] = static_cast<double>(world.index.node_count());
}
BENCHMARK(bm_subscribe_unsubscribe_churn);

void bm_remove_session_with_50_subscriptions(benchmark::State& state) {
    routing_world world(100'000, true);
    auto s = std::make_shared<session_handle>(2'000'000, "leaver", 0);
    subscription_options options;
    for (auto _ : state) {
        state.PauseTiming();
        for (int i = 0; i < 50; ++i) {
            world.index.subscribe(device_topic(i, i, i % 4), s, options);
        }
        state.ResumeTiming();
        benchmark::DoNotOptimize(world.index.remove_session(s->id));
    }
}
BENCHMARK(bm_remove_session_with_50_subscriptions);

struct retained_world {
    retained_store store;
    explicit retained_world(int count) {
        int made = 0;
        for (int site = 0; made < count; ++site) {
            for (int device = 0; device < devices && made < count; ++device) {
                for (int metric = 0; metric < 4 && made < count; ++metric, ++made) {
                    auto msg = std::make_shared<message>();
                    msg->topic = device_topic(site, device, metric);
                    msg->payload = tollgate::common::shared_bytes::copy_of("42");
                    msg->retain = true;
                    store.set(std::move(msg));
                }
            }
        }
    }
};

void bm_retained_match(benchmark::State& state, const char* filter) {
    retained_world world(100'000);
    std::vector<std::shared_ptr<const message>> out;
    const tollgate::common::steady_time now{};
    std::size_t found = 0;
    for (auto _ : state) {
        out.clear();
        world.store.match(filter, now, out);
        found += out.size();
    }
    state.counters["messages/match"] =
        benchmark::Counter(static_cast<double>(found) / static_cast<double>(state.iterations()));
    state.counters["retained"] = static_cast<double>(world.store.size());
}
BENCHMARK_CAPTURE(bm_retained_match, exact_100k, "site/7/device/123/power");
BENCHMARK_CAPTURE(bm_retained_match, plus_device_100k, "site/7/device/+/power");
BENCHMARK_CAPTURE(bm_retained_match, hash_site_100k, "site/7/#");
BENCHMARK_CAPTURE(bm_retained_match, plus_site_and_metric_100k, "site/+/device/123/+");
BENCHMARK_CAPTURE(bm_retained_match, no_match_100k, "other/#");

}  // namespace

BENCHMARK_MAIN();
