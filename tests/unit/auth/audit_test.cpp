// The JSON-lines audit log (docs/auth.md "Audit log"): RFC 8259 escaping with invalid UTF-8, the
// record format, the bounded queue that never blocks and reports its drops, the decorators with
// inline and asynchronous answers, and the real token stack through the broker (no token in the
// file).
#include <cstdio>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <set>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <tollgate/auth/audit.hpp>
#include <tollgate/common/secret.hpp>

#include "token_env.hpp"

namespace tollgate::auth {
namespace {

namespace bj = boost::json;
using namespace std::chrono_literals;

std::string escaped(std::string_view s) {
    std::string out;
    append_json_escaped(out, s);
    return out;
}

/// Parses `"<escaped>"` as JSON: the escaped text must always be a valid JSON string.
std::string json_roundtrip(std::string_view s) {
    auto v = bj::parse("\"" + escaped(s) + "\"");
    return std::string(v.as_string());
}

struct temp_dir {
    temp_dir() {
        char tmpl[] = "/tmp/tollgate-audit-XXXXXX";
        path = ::mkdtemp(tmpl);
    }
    ~temp_dir() { std::filesystem::remove_all(path); }
    std::string path;
};

std::vector<bj::object> read_lines(const std::string& file) {
    std::ifstream in(file);
    std::vector<bj::object> out;
    for (std::string line; std::getline(in, line);) {
        out.push_back(bj::parse(line).as_object());
    }
    return out;
}

// RFC 8259 §7: quotation mark, reverse solidus and the control characters U+0000..U+001F must be
// escaped.
TEST(audit_escape, rfc8259_controls_quotes_backslash) {
    EXPECT_EQ(escaped("a\"b\\c"), "a\\\"b\\\\c");
    EXPECT_EQ(escaped("\n\r\t\b\f"), "\\n\\r\\t\\b\\f");
    EXPECT_EQ(escaped(std::string("\x00\x01\x1f\x7f", 4)), "\\u0000\\u0001\\u001f\\u007f");
    EXPECT_EQ(escaped("plain/topic/+/#"), "plain/topic/+/#");
    EXPECT_EQ(json_roundtrip(std::string("x\x00y\n\"", 5)), std::string("x\x00y\n\"", 5));
}

// RFC 8259 §8.1: JSON text is UTF-8. Valid sequences pass unchanged; every byte of an ill-formed
// sequence becomes U+FFFD (RFC 3629 §3: no overlongs, no surrogates, nothing above U+10FFFF).
TEST(audit_escape, invalid_utf8_is_replaced) {
    const std::string valid = "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xef\xbf\xbf \xf4\x8f\xbf\xbf";
    EXPECT_EQ(escaped(valid), valid);
    EXPECT_EQ(escaped("a\x80z"), "a\\ufffdz");                               // lone continuation byte
    EXPECT_EQ(escaped("\xc0\xaf"), "\\ufffd\\ufffd");                        // overlong '/'
    EXPECT_EQ(escaped("\xe0\x80\xaf"), "\\ufffd\\ufffd\\ufffd");             // overlong, 3 bytes
    EXPECT_EQ(escaped("\xed\xa0\x80"), "\\ufffd\\ufffd\\ufffd");             // surrogate U+D800
    EXPECT_EQ(escaped("\xf4\x90\x80\x80"), "\\ufffd\\ufffd\\ufffd\\ufffd");  // above U+10FFFF
    EXPECT_EQ(escaped("\xf5\xff"), "\\ufffd\\ufffd");
    EXPECT_EQ(escaped("x\xe2\x82"), "x\\ufffd\\ufffd");  // truncated at the end: no read past it
    EXPECT_EQ(escaped("\xe2\x82z"), "\\ufffd\\ufffdz");
    // Whatever the input, the output is a JSON string that parses.
    std::string all;
    for (int i = 0; i < 256; ++i) {
        all.push_back(static_cast<char>(i));
    }
    EXPECT_NO_THROW(json_roundtrip(all));
}

TEST(audit_format, rfc3339_milliseconds_utc) {
    const common::system_time t{std::chrono::milliseconds{1'764'343'940'123}};
    EXPECT_EQ(rfc3339_utc_ms(t), "2025-11-28T15:32:20.123Z");
    EXPECT_EQ(rfc3339_utc_ms(common::system_time{}), "1970-01-01T00:00:00.000Z");
}

TEST(audit_format, record_members) {
    audit_record r;
    r.time = common::system_time{std::chrono::seconds{1'700'000'000}};
    r.event = "authz";
    r.outcome = "deny";
    r.client_id = "dev-1";
    r.username = std::string_view("oauth2");
    r.subject = "alice";
    r.issuer = "https://as";
    r.jti = "j1";
    r.token_fp = "abc";  // not written: a jti names the token
    r.action = broker::action::publish;
    r.topic = "a/\xff";
    r.qos = 1;
    r.retain = false;
    r.rule = "default deny";
    r.reason = "no publish scope matches the topic";
    const auto line = format_audit_record(r);
    EXPECT_EQ(line,
              R"({"time":"2023-11-14T22:13:20.000Z","event":"authz","outcome":"deny","client_id":"dev-1",)"
              R"("username":"oauth2","subject":"alice","issuer":"https://as","jti":"j1","action":"publish",)"
              R"("topic":"a/\ufffd","qos":1,"retain":false,"rule":"default deny",)"
              R"("reason":"no publish scope matches the topic"})");
    r.jti = {};
    r.action = broker::action::subscribe;
    r.retain.reset();
    auto o = bj::parse(format_audit_record(r)).as_object();
    EXPECT_EQ(o.at("token_fp"), "abc");
    EXPECT_EQ(o.at("filter"), "a/\xef\xbf\xbd");
    EXPECT_FALSE(o.contains("topic"));
    EXPECT_FALSE(o.contains("retain"));
}

TEST(audit_log_file, lines_are_appended_and_flushed) {
    temp_dir dir;
    const std::string file = dir.path + "/audit.jsonl";
    common::manual_clock clock;
    {
        audit_log log({file}, clock);
        log.append(R"({"n":1})");
        log.append(R"({"n":2})");
        log.flush();
        EXPECT_EQ(read_lines(file).size(), 2U);
        log.append(R"({"n":3})");
    }  // the destructor writes what is queued
    auto lines = read_lines(file);
    ASSERT_EQ(lines.size(), 3U);
    EXPECT_EQ(lines[2].at("n"), 3);
    struct stat st {};
    ASSERT_EQ(::stat(file.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600U);
    // Reopened (appends, never truncates) and fsync'ed.
    audit_log again({file, 10, 1024, true}, clock);
    again.append(R"({"n":4})");
    again.reopen();
    again.append(R"({"n":5})");
    again.flush();
    EXPECT_EQ(read_lines(file).size(), 5U);
    EXPECT_EQ(again.stats().written, 2U);
}

// logrotate's rename + SIGHUP while lines keep coming from several threads: after reopen() every
// line is in the old or the new file, whole (valid JSON), none lost, none twice; lines appended
// after reopen() returned and a flush() went through are in the new file only.
TEST(audit_log_file, reopen_during_appends_loses_and_splits_nothing) {
    temp_dir dir;
    const std::string file = dir.path + "/audit.jsonl";
    common::manual_clock clock;
    constexpr int threads = 4;
    constexpr int per_thread = 2000;
    audit_log log({file, threads * per_thread + 16}, clock);
    std::vector<std::thread> writers;
    for (int t = 0; t < threads; ++t) {
        writers.emplace_back([&log, t] {
            for (int i = 0; i < per_thread; ++i) {
                log.append(R"({"t":)" + std::to_string(t) + R"(,"i":)" + std::to_string(i) + R"(,"pad":")" +
                           std::string(static_cast<std::size_t>(i % 97), 'p') + "\"}");
            }
        });
    }
    std::filesystem::rename(file, file + ".1");
    log.reopen();
    for (auto& w : writers) {
        w.join();
    }
    log.flush();
    log.append(R"({"after":true})");
    log.flush();
    const auto old_lines = read_lines(file + ".1");
    const auto new_lines = read_lines(file);  // read_lines parses each line: a split line fails here
    std::set<std::pair<std::int64_t, std::int64_t>> seen;
    for (const auto* lines : {&old_lines, &new_lines}) {
        for (const auto& o : *lines) {
            if (o.contains("after")) {
                continue;
            }
            EXPECT_TRUE(seen.emplace(o.at("t").as_int64(), o.at("i").as_int64()).second) << "twice";
        }
    }
    EXPECT_EQ(seen.size(), static_cast<std::size_t>(threads * per_thread));
    ASSERT_FALSE(new_lines.empty());
    EXPECT_TRUE(new_lines.back().contains("after"));
    for (const auto& o : old_lines) {
        EXPECT_FALSE(o.contains("after"));
    }
    EXPECT_EQ(log.stats().dropped, 0U);
}

// max_queue_bytes ([auth.audit] queue_bytes): while the writer is blocked in write(2), lines beyond
// the byte budget are dropped and counted although max_queue (lines) is far from reached; the count
// is written before the next lines.
TEST(audit_log_file, queue_byte_cap_drops_and_counts) {
    temp_dir dir;
    const std::string fifo = dir.path + "/audit.fifo";
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
    const int reader = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK);
    ASSERT_GE(reader, 0);
    ASSERT_EQ(::fcntl(reader, F_SETFL, 0), 0);  // blocking reads from here on
    common::manual_clock clock;
    auto log = std::make_unique<audit_log>(audit_options{fifo, 1000, 300 * 1024}, clock);
    log->append(R"({"big":")" + std::string(256 * 1024, 'x') + "\"}");
    char first = 0;
    ASSERT_EQ(::read(reader, &first, 1), 1);  // the writer took the big line and is blocked in write
    const std::string line = R"({"l":")" + std::string(100 * 1024, 'y') + "\"}";  // ~100 KiB
    for (int i = 0; i < 4; ++i) {
        log->append(line);
    }
    log->append(R"({"huge":")" + std::string(301 * 1024, 'z') + "\"}");  // over the cap by itself
    EXPECT_EQ(log->stats().dropped, 3U);
    std::string text(1, first);
    char buf[65536];
    while (std::count(text.begin(), text.end(), '\n') < 4) {
        const auto n = ::read(reader, buf, sizeof buf);
        ASSERT_GT(n, 0);
        text.append(buf, static_cast<std::size_t>(n));
    }
    log.reset();
    ::close(reader);
    std::vector<bj::object> lines;
    std::size_t start = 0;
    for (auto nl = text.find('\n'); nl != std::string::npos; start = nl + 1, nl = text.find('\n', start)) {
        lines.push_back(bj::parse(std::string_view(text).substr(start, nl - start)).as_object());
    }
    ASSERT_EQ(lines.size(), 4U);
    EXPECT_TRUE(lines[0].contains("big"));
    EXPECT_EQ(lines[1].at("event"), "audit_dropped");
    EXPECT_EQ(lines[1].at("count"), 3);
    EXPECT_TRUE(lines[2].contains("l"));
    EXPECT_TRUE(lines[3].contains("l"));
}

TEST(audit_log_file, unopenable_path_throws) {
    common::manual_clock clock;
    EXPECT_THROW(audit_log({"/nonexistent-dir/x/audit.jsonl"}, clock), std::runtime_error);
    EXPECT_THROW(audit_log({"/tmp/x", 0}, clock), std::invalid_argument);
}

// The writer is held in write(2) on a full pipe: append() still returns at once, the queue stays
// within max_queue, the excess is counted, and the count is written before the next lines.
TEST(audit_log_file, full_queue_drops_and_reports_never_blocks) {
    temp_dir dir;
    const std::string fifo = dir.path + "/audit.fifo";
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
    const int reader = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK);
    ASSERT_GE(reader, 0);
    ASSERT_EQ(::fcntl(reader, F_SETFL, 0), 0);  // blocking reads from here on
    common::manual_clock clock;
    auto log = std::make_unique<audit_log>(audit_options{fifo, 4}, clock);
    const std::string big = R"({"big":")" + std::string(256 * 1024, 'x') + "\"}";
    log->append(big);
    char first = 0;
    ASSERT_EQ(::read(reader, &first, 1), 1);  // the writer holds the big line and is blocked in write
    for (int i = 0; i < 7; ++i) {
        log->append(R"({"n":)" + std::to_string(i) + "}");
    }
    EXPECT_EQ(log->stats().dropped, 3U);
    std::string text(1, first);
    auto lines_in = [&] { return std::count(text.begin(), text.end(), '\n'); };
    char buf[65536];
    while (lines_in() < 6) {
        const auto n = ::read(reader, buf, sizeof buf);
        ASSERT_GT(n, 0);
        text.append(buf, static_cast<std::size_t>(n));
    }
    log.reset();
    ::close(reader);
    std::vector<bj::object> lines;
    std::size_t start = 0;
    for (auto nl = text.find('\n'); nl != std::string::npos; start = nl + 1, nl = text.find('\n', start)) {
        lines.push_back(bj::parse(std::string_view(text).substr(start, nl - start)).as_object());
    }
    ASSERT_EQ(lines.size(), 6U);
    EXPECT_TRUE(lines[0].contains("big"));
    EXPECT_EQ(lines[1].at("event"), "audit_dropped");
    EXPECT_EQ(lines[1].at("count"), 3);
    for (int i = 0; i < 4; ++i) {
        EXPECT_EQ(lines[static_cast<std::size_t>(2 + i)].at("n"), i);
    }
}

/// An authorizer that answers later (from another thread) when asked about "later/...".
class deferred_authorizer final : public broker::authorizer {
  public:
    std::optional<broker::verdict> check(const broker::principal&, broker::action, std::string_view topic,
                                         std::uint8_t, bool,
                                         std::function<void(broker::verdict)> done) override {
        if (topic.starts_with("later/")) {
            pending = std::move(done);
            return std::nullopt;
        }
        return broker::verdict{true, "mqtt:pub:now/#", "inline"};
    }
    std::function<void(broker::verdict)> pending;
};

/// An authenticator that keeps `done` and answers when told.
class deferred_authenticator final : public broker::authenticator {
  public:
    void authenticate(broker::auth_request, std::function<void(broker::auth_result)> done) override {
        pending = std::move(done);
    }
    std::function<void(broker::auth_result)> pending;
};

TEST(audit_decorators, inline_and_asynchronous_answers) {
    temp_dir dir;
    const std::string file = dir.path + "/audit.jsonl";
    common::manual_clock clock;
    auto log = std::make_shared<audit_log>(audit_options{file}, clock);
    deferred_authorizer inner_z;
    audited_authorizer z(inner_z, log);
    broker::principal who;
    who.client_id = "c";
    who.subject = "s";
    who.issuer = "i";
    who.token_id = "fp:0123456789ab";
    auto v = z.check(who, broker::action::publish, "now/x", 1, true, [](broker::verdict) { FAIL(); });
    ASSERT_TRUE(v && v->allow);
    std::optional<broker::verdict> got;
    EXPECT_FALSE(z.check(who, broker::action::subscribe, "later/#", 2, false,
                         [&](broker::verdict answer) { got = std::move(answer); }));
    std::thread([&] { inner_z.pending(broker::verdict{false, "sql", "denied by row 7"}); }).join();
    ASSERT_TRUE(got);
    EXPECT_FALSE(got->allow);

    deferred_authenticator inner_n;
    audited_authenticator n(inner_n, log);
    broker::auth_request req;
    req.client_id = "dev";
    req.username = "oauth2";
    req.password = common::shared_bytes::copy_of("secret-token-value");
    broker::connection_info conn;
    conn.remote_address = "127.0.0.1";
    conn.remote_port = 5555;
    conn.transport = "tcp";
    req.connection = &conn;
    std::optional<broker::auth_result> answer;
    n.authenticate(req, [&](broker::auth_result r) { answer = std::move(r); });
    broker::auth_result refused;
    refused.reason = mqtt::reason_code::bad_user_name_or_password;
    refused.reason_string = "invalid token";
    std::thread([&] { inner_n.pending(refused); }).join();
    ASSERT_TRUE(answer);
    req.kind = broker::auth_request::step::reauthenticate;
    n.authenticate(req, [&](broker::auth_result r) { answer = std::move(r); });
    broker::auth_result ok;
    ok.result = broker::auth_result::outcome::success;
    auto p = std::make_shared<broker::principal>(who);
    p->token_id = "jti-1";
    ok.who = p;
    inner_n.pending(ok);
    log->flush();

    auto lines = read_lines(file);
    ASSERT_EQ(lines.size(), 4U);
    EXPECT_EQ(lines[0].at("event"), "authz");
    EXPECT_EQ(lines[0].at("outcome"), "allow");
    EXPECT_EQ(lines[0].at("topic"), "now/x");
    EXPECT_EQ(lines[0].at("retain"), true);
    EXPECT_EQ(lines[0].at("token_fp"), "0123456789ab");
    EXPECT_EQ(lines[0].at("rule"), "mqtt:pub:now/#");
    EXPECT_EQ(lines[1].at("outcome"), "deny");
    EXPECT_EQ(lines[1].at("action"), "subscribe");
    EXPECT_EQ(lines[1].at("filter"), "later/#");
    EXPECT_EQ(lines[1].at("qos"), 2);
    EXPECT_EQ(lines[1].at("rule"), "sql");
    EXPECT_EQ(lines[1].at("reason"), "denied by row 7");
    EXPECT_EQ(lines[2].at("event"), "authn");
    EXPECT_EQ(lines[2].at("outcome"), "failure");
    EXPECT_EQ(lines[2].at("reason_code"), "0x86");
    EXPECT_EQ(lines[2].at("peer"), "127.0.0.1:5555");
    EXPECT_EQ(lines[2].at("token_fp"), bj::value(common::secret_fingerprint("secret-token-value")));
    EXPECT_EQ(lines[3].at("event"), "reauth");
    EXPECT_EQ(lines[3].at("outcome"), "success");
    EXPECT_EQ(lines[3].at("jti"), "jti-1");
    EXPECT_FALSE(lines[3].contains("token_fp"));
    std::ifstream in(file);
    std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(all.find("secret-token-value"), std::string::npos);
}

// The real stack (token_authenticator + scope_authorizer) behind the decorators, driven by CONNECT,
// PUBLISH and SUBSCRIBE through the broker harness.
TEST(audit_decorators, real_token_stack_through_the_broker) {
    temp_dir dir;
    const std::string file = dir.path + "/audit.jsonl";
    broker::test::broker_fixture f;
    test::token_env env(f.clock);
    token_auth_config cfg;
    cfg.issuers.push_back(env.config());
    cfg.audience = std::string(test::audience);
    token_authenticator real_n(std::move(cfg), f.clock);
    scope_authorizer real_z;
    auto log = std::make_shared<audit_log>(audit_options{file}, f.clock);
    audited_authenticator n(real_n, log);
    audited_authorizer z(real_z, log);
    f.start(&z, &n);

    const auto token = env.token("mqtt:pub:devices/{client_id}/#");
    auto& c = f.client(0, mqtt::protocol_version::v5);
    auto conn = c.make_connect("dev-1");
    conn.password = test::bytes_of(token);
    c.send(conn);
    f.settle();
    ASSERT_EQ(c.expect<mqtt::connack>().reason_code, mqtt::reason_code::success);
    c.send(broker::test::make_publish("devices/dev-1/t", "x", 1, 1));
    f.settle();
    c.send(broker::test::make_publish("devices/dev-2/t", "x", 1, 2));
    f.settle();
    auto& bad = f.client(0, mqtt::protocol_version::v5);
    auto conn2 = bad.make_connect("dev-2");
    const auto expired = env.token("mqtt:all:#", -120);
    conn2.password = test::bytes_of(expired);
    bad.send(conn2);
    f.settle();
    log->flush();

    auto lines = read_lines(file);
    ASSERT_EQ(lines.size(), 4U);
    EXPECT_EQ(lines[0].at("event"), "authn");
    EXPECT_EQ(lines[0].at("outcome"), "success");
    EXPECT_EQ(lines[0].at("subject"), "alice");
    EXPECT_EQ(lines[0].at("issuer"), bj::value(test::issuer));
    EXPECT_EQ(lines[0].at("jti"), "jti-1");
    EXPECT_EQ(lines[1].at("outcome"), "allow");
    EXPECT_EQ(lines[1].at("rule"), "mqtt:pub:devices/{client_id}/#");
    EXPECT_EQ(lines[2].at("outcome"), "deny");
    EXPECT_EQ(lines[2].at("topic"), "devices/dev-2/t");
    EXPECT_EQ(lines[2].at("rule"), "default deny");
    EXPECT_EQ(lines[3].at("outcome"), "failure");
    EXPECT_EQ(lines[3].at("client_id"), "dev-2");
    EXPECT_EQ(lines[3].at("token_fp"), bj::value(common::secret_fingerprint(expired)));
    std::ifstream in(file);
    std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(all.find(token), std::string::npos);
    EXPECT_EQ(all.find(expired), std::string::npos);
}

}  // namespace
}  // namespace tollgate::auth
