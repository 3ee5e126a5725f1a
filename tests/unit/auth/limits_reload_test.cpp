// apps/tollgate/auth_wiring and audit_wiring: the limits that used to be fixed ([auth]
// startup_key_wait; [[auth.issuers]] fetch_timeout, max_document_bytes, max_unknown_kid_waiters;
// [auth.audit] queue_bytes): parsing with bounds (errors name the key path), and each limit taking
// effect in the stack build_auth() makes, against a real HTTP server on loopback. Then the SIGHUP
// reload of static rule files (auth::file_source::reload, auth_stack::reload): new rules apply to the
// next check, a broken file keeps the old rules.
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <mutex>
#include <thread>
#include <unistd.h>

#include <gtest/gtest.h>

#include <tollgate/auth/file_source.hpp>
#include <tollgate/jose/key.hpp>
#include <tollgate/net/http_server.hpp>
#include <tollgate/net/io_pool.hpp>

#include "audit_wiring.hpp"
#include "auth_wiring.hpp"
#include "config.hpp"

namespace tollgate::app {
namespace {

using namespace std::chrono_literals;
constexpr auto event_timeout = 20s;

auth_settings parse(std::string_view text) {
    auto doc = toml::parse(text);
    return parse_auth_settings(*doc["auth"].as_table());
}

std::string error_of(std::string_view text) {
    try {
        (void)parse(text);
    } catch (const config_error& e) {
        return e.what();
    }
    return "";
}

constexpr std::string_view remote_issuer =
    "[auth]\n[[auth.issuers]]\nissuer = \"https://i.example\"\n"
    "jwks_uri = \"https://i.example/jwks\"\n";

TEST(limits_config, defaults_are_the_former_fixed_values) {
    auto s = parse(std::string(remote_issuer));
    EXPECT_EQ(s.startup_key_wait, 10s);
    EXPECT_EQ(s.startup_key_wait, remote_keys_startup_wait);
    ASSERT_EQ(s.issuers.size(), 1U);
    EXPECT_EQ(s.issuers[0].fetch_timeout, 5s);
    EXPECT_EQ(s.issuers[0].max_document_bytes, 1024U * 1024U);
    EXPECT_EQ(s.issuers[0].max_unknown_kid_waiters, 1024U);
    EXPECT_EQ(s.audit.queue_bytes, 16U * 1024U * 1024U);
}

TEST(limits_config, values_are_read) {
    auto s = parse(R"([auth]
startup_key_wait = "0s"
[auth.audit]
queue_bytes = 65536
[[auth.issuers]]
issuer = "https://i.example"
discovery = true
fetch_timeout = "250ms"
max_document_bytes = 2048
max_unknown_kid_waiters = 0
[[auth.issuers]]
issuer = "https://static.example"
keys = ["/etc/k.pem"]
fetch_timeout = "2m"
max_document_bytes = 16777216
)");
    EXPECT_EQ(s.startup_key_wait, 0ms);
    EXPECT_EQ(s.audit.queue_bytes, 65536U);
    EXPECT_EQ(s.issuers[0].fetch_timeout, 250ms);
    EXPECT_EQ(s.issuers[0].max_document_bytes, 2048U);
    EXPECT_EQ(s.issuers[0].max_unknown_kid_waiters, 0U);
    // An issuer with key files may still introspect over HTTP: the HTTP limits apply to it too.
    EXPECT_EQ(s.issuers[1].fetch_timeout, 2min);
    EXPECT_EQ(s.issuers[1].max_document_bytes, 16U * 1024U * 1024U);
}

TEST(limits_config, bounds_are_checked_naming_the_key_path) {
    const auto issuer_error = [](std::string_view line) {
        return error_of(std::string(remote_issuer) + std::string(line) + "\n");
    };
    const std::pair<std::string_view, std::string_view> cases[] = {
        {"fetch_timeout = \"99ms\"", "auth.issuers[0].fetch_timeout"},
        {"fetch_timeout = \"121s\"", "auth.issuers[0].fetch_timeout"},
        {"fetch_timeout = 121", "auth.issuers[0].fetch_timeout"},
        {"max_document_bytes = 1023", "auth.issuers[0].max_document_bytes"},
        {"max_document_bytes = 16777217", "auth.issuers[0].max_document_bytes"},
        {"max_document_bytes = \"1M\"", "auth.issuers[0].max_document_bytes"},
        {"max_unknown_kid_waiters = -1", "auth.issuers[0].max_unknown_kid_waiters"},
        {"max_unknown_kid_waiters = 1000001", "auth.issuers[0].max_unknown_kid_waiters"},
    };
    for (const auto& [line, key] : cases) {
        const auto e = issuer_error(line);
        EXPECT_EQ(e.rfind(std::string(key) + ":", 0), 0U) << line << " -> " << e;
    }
    EXPECT_NE(
        error_of("[auth]\n[[auth.issuers]]\nissuer = \"i\"\nkeys = [\"k\"]\nmax_unknown_kid_waiters = 5\n")
            .find("auth.issuers[0].max_unknown_kid_waiters: applies only with jwks_uri"),
        std::string::npos);
    EXPECT_EQ(error_of("[auth]\nstartup_key_wait = \"301s\"\n").rfind("auth.startup_key_wait:", 0), 0U);
    EXPECT_EQ(error_of("[auth]\nstartup_key_wait = -1\n").rfind("auth.startup_key_wait:", 0), 0U);
    EXPECT_EQ(error_of("[auth.audit]\nqueue_bytes = 65535\n").rfind("auth.audit.queue_bytes:", 0), 0U);
    EXPECT_EQ(error_of("[auth.audit]\nqueue_bytes = 1073741825\n").rfind("auth.audit.queue_bytes:", 0), 0U);
}

/// A plain-HTTP server on loopback: path -> (status, body); a path set to status 0 is never
/// answered (the responder is parked until the server stops): a server slower than any timeout.
class jwks_server {
  public:
    jwks_server() : pool_(1) {
        net::listener_config l;
        l.name = "jwks";
        l.kind = net::transport_kind::tcp;
        l.address = "127.0.0.1";
        net::http_limits limits;
        limits.keep_alive = false;
        server_ = std::make_unique<net::http_server>(
            pool_, std::vector<net::listener_config>{l},
            [this](net::http_request r, net::http_responder respond) {
                handle(std::move(r), std::move(respond));
            },
            limits);
        server_->start();
        thread_ = std::thread([this] { pool_.run(); });
        base_ = "http://127.0.0.1:" + std::to_string(server_->endpoints().at(0).port);
    }
    ~jwks_server() {
        server_->stop();
        pool_.stop();
        thread_.join();
        std::lock_guard lock(mutex_);
        parked_.clear();
    }
    [[nodiscard]] const std::string& base() const { return base_; }
    void set(const std::string& path, unsigned status, std::string body) {
        std::lock_guard lock(mutex_);
        routes_[path] = {status, std::move(body)};
    }

  private:
    void handle(net::http_request r, net::http_responder respond) {
        std::unique_lock lock(mutex_);
        auto it = routes_.find(r.target);
        if (it == routes_.end()) {
            lock.unlock();
            respond({404, {{"Content-Type", "text/plain"}}, "not found"});
            return;
        }
        if (it->second.first == 0) {
            parked_.push_back(std::move(respond));
            return;
        }
        net::http_response out{it->second.first, {{"Content-Type", "application/json"}}, it->second.second};
        lock.unlock();
        respond(std::move(out));
    }

    net::io_pool pool_;
    std::unique_ptr<net::http_server> server_;
    std::thread thread_;
    std::string base_;
    std::mutex mutex_;
    std::map<std::string, std::pair<unsigned, std::string>> routes_;
    std::vector<net::http_responder> parked_;
};

std::string jwk_of(const jose::key& k) {
    return k.to_public_jwk().value();
}

std::string jwks_of(const jose::key& k) {
    return R"({"keys":[)" + jwk_of(k) + "]}";
}

auth_settings remote_settings(const jwks_server& server) {
    auth_settings s;
    s.enabled = true;
    issuer_settings is;
    is.issuer = "https://idp.example";
    is.jwks_uri = server.base() + "/jwks";
    is.allow_http = true;
    is.algorithms = {"ES256"};
    s.issuers.push_back(is);
    return s;
}

bool wait_status(const auth::remote_key_source& keys,
                 const std::function<bool(const auth::remote_key_status&)>& p) {
    return keys.wait_for(p, event_timeout);
}

// [[auth.issuers]] max_document_bytes: a JWKS larger than the limit is refused (by the HTTP client
// and the key source alike) and the last good key set stays in force.
TEST(limits_effect, jwks_over_max_document_bytes_is_refused_and_the_last_good_set_kept) {
    jwks_server server;
    const auto k1 = jose::key::generate(jose::algorithm::es256, "k1");
    const auto k2 = jose::key::generate(jose::algorithm::es256, "k2");
    server.set("/jwks", 200, jwks_of(k1));
    common::manual_clock clock;
    auto s = remote_settings(server);
    s.issuers[0].max_document_bytes = 2048;
    s.issuers[0].jwks_refresh = 1s;  // periodic cycles: the next one reads the big document
    auto stack = build_auth(s, clock, nullptr);
    auto& keys = *stack->remote_issuers.at(0).keys;
    ASSERT_EQ(keys.status().keys, 1U) << keys.status().last_error;
    const auto good = keys.current();

    std::string big =
        R"({"keys":[)" + jwk_of(k1) + "," + jwk_of(k2) + R"(],"pad":")" + std::string(2048, 'p') + "\"}";
    server.set("/jwks", 200, big);
    ASSERT_TRUE(wait_status(keys, [](const auto& st) { return st.failures >= 1; }));
    const auto st = keys.status();
    EXPECT_NE(st.last_error.find("larger than 2048"), std::string::npos) << st.last_error;
    EXPECT_EQ(st.keys, 1U);
    EXPECT_EQ(keys.current(), good);

    // Under the limit again: accepted (the refusal came from the size, not from the content).
    server.set("/jwks", 200, R"({"keys":[)" + jwk_of(k1) + "," + jwk_of(k2) + "]}");
    EXPECT_TRUE(wait_status(keys, [](const auto& now) { return now.keys == 2; })) << keys.status().last_error;
}

// [[auth.issuers]] fetch_timeout: a server slower than the timeout is an outage (the fetch fails
// with a timeout, the last good set stays); [auth] startup_key_wait bounds the wait at startup.
TEST(limits_effect, server_slower_than_fetch_timeout_is_an_outage) {
    jwks_server server;
    const auto k1 = jose::key::generate(jose::algorithm::es256, "k1");
    server.set("/jwks", 200, jwks_of(k1));
    common::manual_clock clock;
    auto s = remote_settings(server);
    s.issuers[0].fetch_timeout = 200ms;
    s.issuers[0].jwks_refresh = 1s;
    auto stack = build_auth(s, clock, nullptr);
    const auto& keys = *stack->remote_issuers.at(0).keys;
    ASSERT_EQ(keys.status().keys, 1U) << keys.status().last_error;

    server.set("/jwks", 0, "");  // never answers
    const auto before = std::chrono::steady_clock::now();
    ASSERT_TRUE(wait_status(keys, [](const auto& st) { return st.failures >= 1; }));
    const auto st = keys.status();
    EXPECT_NE(st.last_error.find("timed out after 200 ms"), std::string::npos) << st.last_error;
    EXPECT_EQ(st.keys, 1U);
    // The failed cycle ended at the deadline, not after the former fixed 5 s (refresh 1 s + 200 ms).
    EXPECT_LT(std::chrono::steady_clock::now() - before, 4s);
}

TEST(limits_effect, startup_key_wait_bounds_the_wait_for_a_silent_issuer) {
    jwks_server server;
    server.set("/jwks", 0, "");  // never answers
    common::manual_clock clock;
    auto s = remote_settings(server);
    s.issuers[0].fetch_timeout = 60s;
    s.startup_key_wait = 300ms;
    const auto started = std::chrono::steady_clock::now();
    auto stack = build_auth(s, clock, nullptr);
    const auto took = std::chrono::steady_clock::now() - started;
    EXPECT_GE(took, 300ms);
    EXPECT_LT(took, 5s);  // not the fetch timeout, not the former fixed 10 s
    EXPECT_EQ(stack->remote_issuers.at(0).keys->status().keys, 0U);
}

// [[auth.issuers]] max_unknown_kid_waiters: while a fetch is in flight, at most that many
// unknown-kid callers join it; the next is refused at once (and never called back). The joiners are
// answered when the fetch ends (here: at fetch_timeout, a failure).
TEST(limits_effect, max_unknown_kid_waiters_bounds_the_joiners) {
    jwks_server server;
    server.set("/jwks", 0, "");  // the first fetch stays in flight until fetch_timeout
    common::manual_clock clock;
    auto s = remote_settings(server);
    s.issuers[0].fetch_timeout = 500ms;
    s.issuers[0].max_unknown_kid_waiters = 2;
    s.startup_key_wait = 0ms;
    auto stack = build_auth(s, clock, nullptr);
    auto& keys = *stack->remote_issuers.at(0).keys;
    std::mutex mutex;
    std::condition_variable changed;
    int answered = 0;
    const auto waiter = [&] {
        std::lock_guard lock(mutex);
        ++answered;
        changed.notify_all();
    };
    EXPECT_TRUE(keys.refresh_async(waiter));
    EXPECT_TRUE(keys.refresh_async(waiter));
    EXPECT_FALSE(keys.refresh_async([] { ADD_FAILURE() << "a refused waiter was called"; }));
    std::unique_lock lock(mutex);
    EXPECT_TRUE(changed.wait_for(lock, event_timeout, [&] { return answered >= 2; }));
    EXPECT_EQ(answered, 2);
    lock.unlock();
    // The first waiter joins the startup fetch if it is already in flight, else it starts a cycle;
    // the second always joins one: which of the two happened is a race the bound does not depend on.
    EXPECT_GE(keys.status().joined, 1U);
    EXPECT_NE(keys.status().last_error.find("timed out after 500 ms"), std::string::npos)
        << keys.status().last_error;
}

// ---------------------------------------------------------------------------------------------
// SIGHUP reload of static rule files

struct temp_dir {
    temp_dir() {
        std::string pattern = (std::filesystem::temp_directory_path() / "tollgate-reload-XXXXXX").string();
        path = ::mkdtemp(pattern.data()) != nullptr ? pattern : std::string();
    }
    ~temp_dir() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
    std::string path;
};

void write_file(const std::string& path, std::string_view text) {
    // As an operator should: write a new file and rename it over the old one (atomic).
    const std::string tmp = path + ".new";
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        out << text;
    }
    std::filesystem::rename(tmp, path);
}

constexpr std::string_view allow_alice = R"([[rule]]
effect = "allow"
action = "pub"
filter = "a/#"
username = "alice"
)";

constexpr std::string_view deny_alice = R"([[rule]]
effect = "deny"
action = "pub"
filter = "a/secret"
username = "alice"
[[rule]]
effect = "allow"
action = "pub"
filter = "b/#"
)";

broker::principal alice() {
    broker::principal p;
    p.client_id = "dev-1";
    p.username = "alice";
    p.subject = "alice";
    return p;
}

TEST(file_reload, new_rules_replace_old_and_a_broken_file_keeps_them) {
    temp_dir dir;
    const std::string file = dir.path + "/acl.toml";
    write_file(file, allow_alice);
    auto src = auth::file_source::from_file(file, "acl");
    EXPECT_EQ(src.path(), file);
    ASSERT_EQ(src.load(alice()).size(), 1U);

    auto same = src.reload();
    EXPECT_TRUE(same.ok);
    EXPECT_FALSE(same.changed);
    EXPECT_EQ(same.rules_after, 1U);

    write_file(file, deny_alice);
    auto r = src.reload();
    EXPECT_TRUE(r.ok) << r.error;
    EXPECT_TRUE(r.changed);
    EXPECT_EQ(r.rules_before, 1U);
    EXPECT_EQ(r.rules_after, 2U);
    auto rules = src.load(alice());
    ASSERT_EQ(rules.size(), 2U);
    EXPECT_EQ(rules[0].effect, auth::policy_effect::deny);
    EXPECT_EQ(rules[0].source, "file acl");

    // A broken file (bad TOML, then a bad rule, then no file): each error is reported with the
    // file and the place, and the rules in force stay.
    write_file(file, "[[rule]]\neffect = \"allow\nfilter=");
    r = src.reload();
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.error.rfind(file + ":", 0), 0U) << r.error;
    EXPECT_EQ(r.rules_after, 2U);
    write_file(file, "[[rule]]\neffect = \"permit\"\naction = \"pub\"\nfilter = \"x\"\n");
    r = src.reload();
    EXPECT_FALSE(r.ok);
    EXPECT_NE(r.error.find("rule[0].effect"), std::string::npos) << r.error;
    std::filesystem::remove(file);
    r = src.reload();
    EXPECT_FALSE(r.ok);
    EXPECT_NE(r.error.find("cannot read"), std::string::npos) << r.error;
    EXPECT_EQ(src.load(alice()).size(), 2U);
    EXPECT_EQ(src.rule_count(), 2U);

    auto from_text = auth::file_source::parse(allow_alice, "<text>");
    EXPECT_FALSE(from_text.reload().ok);
    EXPECT_EQ(from_text.rule_count(), 1U);
}

// Loads running on other threads during reloads see the old or the new rule set, never a mix.
TEST(file_reload, loads_during_reloads_see_one_whole_rule_set) {
    temp_dir dir;
    const std::string file = dir.path + "/acl.toml";
    write_file(file, allow_alice);
    auto src = std::make_shared<auth::file_source>(auth::file_source::from_file(file));
    std::atomic<bool> stop{false};
    std::atomic<int> bad{0};
    std::thread reader([&] {
        while (!stop) {
            const auto n = src->load(alice()).size();
            if (n != 1 && n != 2) {
                ++bad;
            }
        }
    });
    for (int i = 0; i < 50; ++i) {
        write_file(file, i % 2 == 0 ? deny_alice : allow_alice);
        EXPECT_TRUE(src->reload().ok);
    }
    stop = true;
    reader.join();
    EXPECT_EQ(bad.load(), 0);
}

/// One authorization answer, inline or later (the policy authorizer loads rules on its threads).
broker::verdict check_publish(broker::authorizer& authz, const broker::principal& who,
                              std::string_view topic) {
    std::promise<broker::verdict> later;
    auto inline_answer = authz.check(who, broker::action::publish, topic, 0, false,
                                     [&](broker::verdict v) { later.set_value(v); });
    if (inline_answer) {
        return *inline_answer;
    }
    auto f = later.get_future();
    if (f.wait_for(event_timeout) != std::future_status::ready) {
        ADD_FAILURE() << "no answer";
        return {};
    }
    return f.get();
}

// auth_stack::reload(): the rule file is read again and the policy cache dropped, so the very next
// check of an already-cached principal uses the new rules; a broken file keeps the old rules.
TEST(file_reload, auth_stack_reload_applies_to_the_next_check) {
    temp_dir dir;
    const std::string file = dir.path + "/acl.toml";
    write_file(file, allow_alice);
    auto s = parse(
        "[auth]\nenabled = true\n[auth.policy]\ncache_ttl = \"1h\"\n[[auth.policy.sources]]\n"
        "type = \"file\"\npath = \"" +
        file + "\"\n");
    const auto k = jose::key::generate(jose::algorithm::es256, "k");
    const std::string key_file = dir.path + "/k.jwk";
    write_file(key_file, jwk_of(k));
    issuer_settings is;
    is.issuer = "https://idp.example";
    is.key_files.push_back({key_file, "", std::nullopt});
    s.issuers.push_back(is);
    common::manual_clock clock;
    auto stack = build_auth(s, clock, nullptr);
    auto& authz = stack->authorizer();
    const auto who = alice();
    EXPECT_TRUE(check_publish(authz, who, "a/secret").allow);
    EXPECT_TRUE(check_publish(authz, who, "a/secret").allow);  // cached for an hour

    write_file(file, deny_alice);
    EXPECT_TRUE(stack->reload());
    auto v = check_publish(authz, who, "a/secret");
    EXPECT_FALSE(v.allow);
    EXPECT_NE(v.rule.find("deny pub a/secret"), std::string::npos) << v.rule;
    EXPECT_TRUE(check_publish(authz, who, "b/1").allow);

    write_file(file, "this is not toml [");
    EXPECT_FALSE(stack->reload());
    EXPECT_FALSE(check_publish(authz, who, "a/secret").allow);  // the old (deny) rules stay
    EXPECT_TRUE(check_publish(authz, who, "b/1").allow);
}

// [auth.audit] queue_bytes reaches the log, and audit_wiring::reopen() rotates it.
TEST(audit_reopen, wiring_reopens_the_renamed_file) {
    temp_dir dir;
    const std::string file = dir.path + "/audit.jsonl";
    common::manual_clock clock;
    audit_wiring off;
    off.open(audit_settings{}, clock);
    EXPECT_FALSE(off.reopen());
    audit_settings s;
    s.path = file;
    s.queue_bytes = 64 * 1024;
    audit_wiring on;
    on.open(s, clock);
    on.log()->append(R"({"n":1})");
    on.log()->flush();
    std::filesystem::rename(file, file + ".1");
    on.log()->append(R"({"n":2})");  // queued before the reopen: may land in either file, whole
    EXPECT_TRUE(on.reopen());
    on.log()->append(R"({"n":3})");
    on.log()->flush();
    const auto read = [](const std::string& f) {
        std::ifstream in(f);
        std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        return all;
    };
    const auto old_text = read(file + ".1");
    const auto new_text = read(file);
    EXPECT_EQ(old_text.find(R"({"n":1})"
                            "\n"),
              0U);
    EXPECT_NE(new_text.find(R"({"n":3})"
                            "\n"),
              std::string::npos);
    EXPECT_EQ(old_text.find("\"n\":3"), std::string::npos);
    EXPECT_NE((old_text + new_text)
                  .find(R"({"n":2})"
                        "\n"),
              std::string::npos);
    // A line bigger than queue_bytes can never be queued: dropped and counted.
    on.log()->append(R"({"big":")" + std::string(64 * 1024, 'x') + "\"}");
    EXPECT_EQ(on.log()->stats().dropped, 1U);
}

}  // namespace
}  // namespace tollgate::app
