// libFuzzer target for the broker's routing structures. The input is a program: each step reads an
// opcode byte and its operands and applies subscribe / unsubscribe / remove_session / match to a
// subscription_index, or set / clear / purge / match to a retained_store, over small filters and
// topics built from a few levels ("a", "b", "", "$s", "+", "#"). After every match the result is
// compared with a brute-force reference; any difference aborts. A separate "chaos" index and store
// receive raw input bytes as filters and topics, which only must not crash. At the end every
// session is removed and every retained message cleared, and both tries must be back to one node
// (no leftover nodes under churn).
#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <tollgate/broker/retained_store.hpp>
#include <tollgate/broker/subscription_index.hpp>
#include <tollgate/broker/topic.hpp>

namespace {

using namespace tollgate::broker;

class input {
  public:
    input(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}
    [[nodiscard]] bool done() const { return pos_ >= size_; }
    std::uint8_t byte() { return pos_ < size_ ? data_[pos_++] : 0; }
    std::string raw(std::size_t max) {
        const std::size_t n = std::min<std::size_t>(byte() % (max + 1), size_ - std::min(pos_, size_));
        std::string text(reinterpret_cast<const char*>(data_ + pos_), n);
        pos_ += n;
        return text;
    }

  private:
    const std::uint8_t* data_;
    std::size_t size_;
    std::size_t pos_ = 0;
};

void check(bool ok) {
    if (!ok) {
        std::abort();
    }
}

// The reference: §4.7 rules, level by level.
bool reference_matches(std::string_view filter, std::string_view name) {
    if (!name.empty() && name[0] == '$' && !filter.empty() && (filter[0] == '+' || filter[0] == '#')) {
        return false;
    }
    std::vector<std::string_view> f;
    std::vector<std::string_view> n;
    topic::split_levels(filter, f);
    topic::split_levels(name, n);
    for (std::size_t i = 0; i < f.size(); ++i) {
        if (f[i] == "#") {
            return true;
        }
        if (i >= n.size() || (f[i] != "+" && f[i] != n[i])) {
            return false;
        }
    }
    return f.size() == n.size();
}

std::string make_name(input& in) {
    static const char* const levels[] = {"a", "b", "", "$s"};
    const std::uint8_t shape = in.byte();
    std::string name;
    for (int i = 0; i <= shape % 4; ++i) {
        name += i ? "/" : "";
        name += levels[(shape >> (2 + i)) % 4];
    }
    return name;
}

std::string make_filter(input& in) {
    static const char* const levels[] = {"a", "b", "", "$s", "+", "+", "a", "b"};
    const std::uint8_t shape = in.byte();
    const std::uint8_t pick = in.byte();
    const int depth = shape % 4 + 1;
    std::string filter;
    for (int i = 0; i < depth; ++i) {
        filter += i ? "/" : "";
        if (i == depth - 1 && (shape & 0x80) != 0) {
            filter += '#';
        } else {
            filter += levels[(pick >> (i * 2)) % 8];
        }
    }
    if ((shape & 0x40) != 0) {
        filter = std::string("$share/g") + static_cast<char>('0' + (shape >> 4) % 2) + "/" + filter;
    }
    return filter;
}

struct ref_sub {
    std::string filter;
    std::uint64_t session;
    subscription_options options;
};

struct state {
    std::vector<std::shared_ptr<session_handle>> sessions;
    subscription_index index;
    std::vector<ref_sub> subs;
    retained_store store;
    std::map<std::string, std::optional<tollgate::common::steady_time>> retained;
    tollgate::common::steady_time now{std::chrono::seconds{100}};
    subscription_index chaos_index;
    retained_store chaos_store;
    std::uint32_t next_id = 1;

    state() {
        for (std::uint64_t id = 1; id <= 6; ++id) {
            sessions.push_back(std::make_shared<session_handle>(id, "c", 0));
            sessions.back()->connected = id % 2 == 1;
        }
    }

    void subscribe(input& in) {
        ref_sub sub{make_filter(in), in.byte() % 6 + 1U, {}};
        const std::uint8_t opts = in.byte();
        sub.options.max_qos = opts % 3;
        sub.options.no_local = (opts & 0x10) != 0;
        sub.options.retain_as_published = (opts & 0x20) != 0;
        sub.options.subscription_identifier = (opts & 0x40) != 0 ? next_id++ : 0;
        const auto result = index.subscribe(sub.filter, sessions[sub.session - 1], sub.options);
        const auto it = std::find_if(subs.begin(), subs.end(), [&](const ref_sub& s) {
            return s.session == sub.session && s.filter == sub.filter;
        });
        if (it == subs.end()) {
            check(result == subscription_index::subscribe_result::added);
            subs.push_back(sub);
        } else {
            check(result == subscription_index::subscribe_result::replaced);
            it->options = sub.options;
        }
    }

    void unsubscribe(input& in) {
        const std::uint8_t pick = in.byte();
        if (subs.empty() || (pick & 0x80) != 0) {
            const std::string filter = make_filter(in);
            const std::uint64_t session = pick % 6 + 1U;
            const auto before = subs.size();
            std::erase_if(subs, [&](const ref_sub& s) { return s.session == session && s.filter == filter; });
            check(index.unsubscribe(filter, session) == (subs.size() != before));
            return;
        }
        const std::size_t victim = pick % subs.size();
        check(index.unsubscribe(subs[victim].filter, subs[victim].session));
        subs.erase(subs.begin() + static_cast<std::ptrdiff_t>(victim));
    }

    void remove_session(input& in) {
        const std::uint64_t session = in.byte() % 6 + 1U;
        const auto before = subs.size();
        std::erase_if(subs, [&](const ref_sub& s) { return s.session == session; });
        check(index.remove_session(session) == before - subs.size());
    }

    void match(input& in) {
        const std::string name = make_name(in);
        const std::uint64_t publisher = in.byte() % 8;
        std::map<std::uint64_t, std::pair<int, std::multiset<std::uint32_t>>> plain;
        std::map<std::string, std::set<std::uint64_t>> groups;
        for (const ref_sub& sub : subs) {
            const topic::shared_filter parsed = topic::parse_shared(sub.filter);
            if (!reference_matches(parsed.filter, name) ||
                (sub.options.no_local && sub.session == publisher)) {
                continue;
            }
            if (parsed.is_shared) {
                groups[std::string(parsed.group) + "/" + std::string(parsed.filter)].insert(sub.session);
                continue;
            }
            auto& entry = plain[sub.session];
            entry.first = std::max<int>(entry.first, sub.options.max_qos);
            if (sub.options.subscription_identifier != 0) {
                entry.second.insert(sub.options.subscription_identifier);
            }
        }
        std::vector<delivery_target> out;
        index.match(name, publisher, out);
        std::map<std::uint64_t, std::pair<int, std::multiset<std::uint32_t>>> got;
        std::size_t shared = 0;
        for (const delivery_target& t : out) {
            check(t.subscriber != nullptr);
            if (t.shared) {
                ++shared;
                continue;
            }
            const std::multiset<std::uint32_t> ids(t.subscription_identifiers.begin(),
                                                   t.subscription_identifiers.end());
            check(got.try_emplace(t.subscriber->id, t.qos, ids).second);
        }
        check(got == plain);
        check(shared == groups.size());
        check(index.subscription_count() == subs.size());
    }

    void retained_set(input& in) {
        const std::string name = make_name(in);
        const std::uint8_t opts = in.byte();
        auto msg = std::make_shared<message>();
        msg->topic = name;
        msg->payload = tollgate::common::shared_bytes::copy_of((opts & 1) != 0 ? "" : "x");
        if ((opts & 2) != 0) {
            msg->expires_at = now + std::chrono::seconds{opts >> 2};
        }
        if (msg->payload.empty()) {
            retained.erase(name);
        } else {
            retained[name] = msg->expires_at;
        }
        store.set(std::move(msg));
        check(store.size() == retained.size());
    }

    void retained_clear_or_purge(input& in) {
        const std::uint8_t how = in.byte();
        if ((how & 1) != 0) {
            const std::string name = make_name(in);
            check(store.clear(name) == (retained.erase(name) == 1));
            return;
        }
        now += std::chrono::seconds{how >> 1};
        std::size_t expired = 0;
        std::erase_if(retained, [&](const auto& e) {
            const bool gone = e.second && *e.second <= now;
            expired += gone ? 1 : 0;
            return gone;
        });
        check(store.purge_expired(now) == expired);
    }

    void retained_match(input& in) {
        std::string filter = std::string(topic::parse_shared(make_filter(in)).filter);
        std::multiset<std::string> expected;
        std::erase_if(retained, [&](const auto& e) {
            if (!reference_matches(filter, e.first)) {
                return false;
            }
            if (e.second && *e.second <= now) {
                return true;
            }
            expected.insert(e.first);
            return false;
        });
        std::vector<std::shared_ptr<const message>> out;
        store.match(filter, now, out);
        std::multiset<std::string> got;
        for (const auto& m : out) {
            got.insert(m->topic);
        }
        check(got == expected);
        check(store.size() == retained.size());
    }

    void chaos(input& in) {
        const std::string filter = in.raw(64);
        const std::string name = in.raw(64);
        const std::uint8_t how = in.byte();
        chaos_index.subscribe(filter, sessions[how % 6], subscription_options{});
        std::vector<delivery_target> out;
        chaos_index.match(name, how % 7, out);
        if ((how & 0x10) != 0) {
            chaos_index.unsubscribe(filter, how % 6 + 1U);
        }
        auto msg = std::make_shared<message>();
        msg->topic = name;
        msg->payload = tollgate::common::shared_bytes::copy_of((how & 0x20) != 0 ? "" : "y");
        chaos_store.set(std::move(msg));
        std::vector<std::shared_ptr<const message>> found;
        chaos_store.match(filter, now, found);
        (void)topic::matches(filter, name);
        (void)topic::parse_shared(filter);
    }

    void finish() {
        for (std::uint64_t id = 1; id <= 6; ++id) {
            index.remove_session(id);
            chaos_index.remove_session(id);
        }
        check(index.subscription_count() == 0 && index.node_count() == 1);
        check(chaos_index.subscription_count() == 0 && chaos_index.node_count() == 1);
        for (const auto& e : retained) {
            check(store.clear(e.first));
        }
        check(store.size() == 0 && store.node_count() == 1);
        std::vector<std::string> chaos_topics;
        chaos_store.for_each(
            [&](const std::shared_ptr<const message>& m) { chaos_topics.push_back(m->topic); });
        for (const auto& t : chaos_topics) {
            check(chaos_store.clear(t));
        }
        check(chaos_store.size() == 0 && chaos_store.node_count() == 1);
    }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    input in(data, size);
    state s;
    for (int steps = 0; !in.done() && steps < 4096; ++steps) {
        switch (in.byte() % 10) {
            case 0:
            case 1:
                s.subscribe(in);
                break;
            case 2:
                s.unsubscribe(in);
                break;
            case 3:
                s.remove_session(in);
                break;
            case 4:
                s.match(in);
                break;
            case 5:
                s.retained_set(in);
                break;
            case 6:
                s.retained_clear_or_purge(in);
                break;
            case 7:
                s.retained_match(in);
                break;
            case 8:
                s.match(in);
                break;
            default:
                s.chaos(in);
                break;
        }
    }
    s.finish();
    return 0;
}
