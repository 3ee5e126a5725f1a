// remote_key_source: discovery, JWKS fetching and refresh scheduling (see remote_key_source.hpp).
//
// Design: a scheduler thread sleeps on a condition variable until the next cycle is due or
// refresh() asks for one, then starts the cycle and goes back to sleep; the cycle itself is a chain
// of asynchronous fetches whose callbacks run on the HTTP client's thread and end in finish(),
// which publishes the result and schedules the next cycle. At most one cycle is in flight. The
// key set is a shared_ptr<const key_set> swapped under the mutex, so current() is a pointer copy.
// Fetch callbacks hold the state by shared_ptr, so a source destroyed mid-cycle is safe.
#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>
#include <utility>
#include <vector>

#include <tollgate/auth/remote_key_source.hpp>
#include <tollgate/common/log.hpp>

namespace tollgate::auth {

using steady = std::chrono::steady_clock;

struct remote_key_source::state : std::enable_shared_from_this<state> {
    remote_key_options options;
    http_fetch fetch;
    std::vector<std::string> discovery;  ///< metadata URLs in order of preference

    mutable std::mutex mutex;
    mutable std::condition_variable changed;
    std::shared_ptr<const jose::key_set> keys = std::make_shared<const jose::key_set>();
    std::string keys_text;  ///< the JWKS document behind `keys`, to tell a change from a refetch
    std::shared_ptr<const issuer_metadata> metadata;
    remote_key_status status;
    bool in_flight = false;
    bool demand = false;
    bool stopping = false;
    steady::time_point next_due = steady::now();
    std::optional<steady::time_point> last_demand;
    std::vector<std::function<void()>> waiters;  ///< refresh_async callers of the coming/current cycle
    unsigned failures_in_row = 0;
    std::thread scheduler;

    void run();
    void start_cycle(bool periodic);
    void fetch_metadata(std::size_t index, std::string notes);
    void metadata_failed(const std::string& why);
    void fetch_jwks();
    void finish(std::shared_ptr<const jose::key_set> set, std::string text, const std::string& error);
    std::chrono::milliseconds backoff() const;
};

void remote_key_source::state::run() {
    std::unique_lock lock(mutex);
    while (!stopping) {
        if (in_flight) {
            changed.wait(lock);
            continue;
        }
        if (!demand && steady::now() < next_due) {
            changed.wait_until(lock, next_due);
            continue;
        }
        const bool periodic = !demand;
        demand = false;
        in_flight = true;
        lock.unlock();
        start_cycle(periodic);
        lock.lock();
    }
}

void remote_key_source::state::start_cycle(bool periodic) {
    bool need_metadata = false;
    if (options.discovery) {
        std::lock_guard lock(mutex);
        need_metadata = periodic || !metadata;
    }
    if (need_metadata) {
        fetch_metadata(0, {});
    } else {
        fetch_jwks();
    }
}

void remote_key_source::state::fetch_metadata(std::size_t index, std::string notes) {
    http_request request;
    request.url = discovery[index];
    fetch(std::move(request), [self = shared_from_this(), index, notes = std::move(notes)](http_response r) {
        const std::string& url = self->discovery[index];
        if (r.status == 0) {
            self->metadata_failed(notes + url + ": " + r.error);
            return;
        }
        if (r.status != 200) {
            const std::string note = notes + url + ": HTTP status " + std::to_string(r.status) + "; ";
            if (index + 1 < self->discovery.size()) {
                self->fetch_metadata(index + 1, note);  // RFC 8414 first, then OpenID Connect
            } else {
                self->metadata_failed(note.substr(0, note.size() - 2));
            }
            return;
        }
        metadata_limits limits;
        limits.max_bytes = self->options.max_metadata_bytes;
        auto parsed = parse_issuer_metadata(r.body, self->options.issuer, self->options.allow_http, limits);
        if (!parsed.metadata) {
            self->metadata_failed(url + ": " + parsed.error);
            return;
        }
        parsed.metadata->source_url = url;
        auto fresh = std::make_shared<const issuer_metadata>(std::move(*parsed.metadata));
        bool first = false;
        {
            std::lock_guard lock(self->mutex);
            first = !self->metadata || self->metadata->jwks_uri != fresh->jwks_uri;
            self->metadata = fresh;
        }
        if (first) {
            common::logger("auth")->info(
                "issuer {}: metadata from {}: jwks_uri {}, introspection_endpoint {}", self->options.issuer,
                url, fresh->jwks_uri.empty() ? "(none)" : fresh->jwks_uri,
                fresh->introspection_endpoint.empty() ? "(none)" : fresh->introspection_endpoint);
        }
        self->fetch_jwks();
    });
}

void remote_key_source::state::metadata_failed(const std::string& why) {
    bool have_old = false;
    {
        std::lock_guard lock(mutex);
        have_old = metadata && !metadata->jwks_uri.empty();
    }
    if (have_old) {
        common::logger("auth")->warn("issuer {}: metadata refresh failed ({}); keeping the previous metadata",
                                     options.issuer, why);
        fetch_jwks();
        return;
    }
    finish(nullptr, {}, "discovery: " + why);
}

void remote_key_source::state::fetch_jwks() {
    std::string url = options.jwks_uri;
    if (url.empty()) {
        std::lock_guard lock(mutex);
        if (metadata) {
            url = metadata->jwks_uri;
        }
    }
    if (url.empty()) {
        finish(nullptr, {}, "the issuer's metadata has no jwks_uri");
        return;
    }
    if (auto e = check_endpoint_url(url, options.allow_http); !e.empty()) {
        finish(nullptr, {}, "jwks_uri " + e);
        return;
    }
    {
        std::lock_guard lock(mutex);
        status.jwks_uri = url;
    }
    http_request request;
    request.url = url;
    request.headers.emplace_back("Accept", "application/jwk-set+json, application/json");
    fetch(std::move(request), [self = shared_from_this(), url](http_response r) {
        const auto& o = self->options;
        if (r.status == 0) {
            self->finish(nullptr, {}, url + ": " + r.error);
            return;
        }
        if (r.status != 200) {
            self->finish(nullptr, {}, url + ": HTTP status " + std::to_string(r.status));
            return;
        }
        if (r.body.size() > o.max_jwks_bytes) {
            self->finish(nullptr, {},
                         url + ": JWKS larger than " + std::to_string(o.max_jwks_bytes) + " bytes");
            return;
        }
        jose::jwks_limits limits;
        limits.max_keys = o.max_keys;
        limits.json.max_bytes = o.max_jwks_bytes;
        auto set = jose::key_set::from_json(r.body, limits);
        if (!set) {
            self->finish(nullptr, {}, url + ": unusable JWKS: " + set.error().message());
            return;
        }
        if (set->empty()) {
            self->finish(
                nullptr, {},
                url + ": JWKS without a usable key (" + std::to_string(set->skipped()) + " skipped)");
            return;
        }
        self->finish(std::make_shared<const jose::key_set>(std::move(*set)), std::move(r.body), {});
    });
}

std::chrono::milliseconds remote_key_source::state::backoff() const {
    auto delay = options.retry_min;
    for (unsigned i = 1; i < failures_in_row && delay < options.retry_max; ++i) {
        delay *= 2;
    }
    return std::min({delay, options.retry_max, options.refresh_interval});
}

void remote_key_source::state::finish(std::shared_ptr<const jose::key_set> set, std::string text,
                                      const std::string& error) {
    auto log = common::logger("auth");
    std::unique_lock lock(mutex);
    const auto now = steady::now();
    ++status.cycles;
    if (set) {
        ++status.successes;
        failures_in_row = 0;
        status.last_error.clear();
        next_due = now + options.refresh_interval;
        if (text != keys_text) {
            std::string kids;
            for (const auto& k : set->keys()) {
                kids += (kids.empty() ? "" : ", ") + (k.kid().empty() ? std::string("(no kid)") : k.kid());
            }
            log->info("issuer {}: key set {} from {}: {} key(s) [{}], {} skipped", options.issuer,
                      status.updates == 0 ? "loaded" : "updated", status.jwks_uri, set->size(), kids,
                      set->skipped());
            keys = std::move(set);
            keys_text = std::move(text);
            ++status.updates;
        }
    } else {
        ++status.failures;
        ++failures_in_row;
        status.last_error = error;
        const auto retry = backoff();
        next_due = now + retry;
        if (keys->empty()) {
            log->error("issuer {}: no keys yet, its tokens are refused: {}; retrying in {} ms",
                       options.issuer, error, retry.count());
        } else {
            log->warn(
                "issuer {}: key refresh failed ({}); keeping the last good key set ({} key(s)); retrying in "
                "{} ms",
                options.issuer, error, keys->size(), retry.count());
        }
    }
    status.keys = keys->size();
    in_flight = false;
    auto answered = std::exchange(waiters, {});
    lock.unlock();
    changed.notify_all();
    for (auto& done : answered) {
        done();
    }
}

remote_key_source::remote_key_source(remote_key_options options, http_fetch fetch)
    : state_(std::make_shared<state>()) {
    if (!fetch) {
        throw std::invalid_argument("remote_key_source: no HTTP client");
    }
    if (options.issuer.empty()) {
        throw std::invalid_argument("remote_key_source: no issuer");
    }
    if (options.discovery) {
        if (auto e = check_issuer_identifier(options.issuer, options.allow_http); !e.empty()) {
            throw std::invalid_argument("issuer " + e);
        }
        state_->discovery = discovery_urls(options.issuer);
    } else if (options.jwks_uri.empty()) {
        throw std::invalid_argument("remote_key_source: needs discovery or a jwks_uri");
    }
    if (!options.jwks_uri.empty()) {
        if (auto e = check_endpoint_url(options.jwks_uri, options.allow_http); !e.empty()) {
            throw std::invalid_argument("jwks_uri " + e);
        }
    }
    using std::chrono::milliseconds;
    if (options.refresh_interval <= milliseconds{0} || options.retry_min <= milliseconds{0} ||
        options.retry_max < options.retry_min || options.min_refresh_interval < milliseconds{0}) {
        throw std::invalid_argument("remote_key_source: intervals must be positive (retry_max >= retry_min)");
    }
    state_->options = std::move(options);
    state_->fetch = std::move(fetch);
    state_->status.jwks_uri = state_->options.jwks_uri;
    state_->scheduler = std::thread([s = state_.get()] { s->run(); });
}

remote_key_source::~remote_key_source() {
    {
        std::lock_guard lock(state_->mutex);
        state_->stopping = true;
    }
    state_->changed.notify_all();
    state_->scheduler.join();
    std::vector<std::function<void()>> orphaned;
    {
        std::lock_guard lock(state_->mutex);
        if (!state_->in_flight) {  // asked for but never started: finish() will not answer them
            orphaned = std::exchange(state_->waiters, {});
        }
    }
    for (auto& done : orphaned) {
        done();
    }
}

std::shared_ptr<const jose::key_set> remote_key_source::current() {
    std::lock_guard lock(state_->mutex);
    return state_->keys;
}

bool remote_key_source::refresh() {
    {
        std::lock_guard lock(state_->mutex);
        const auto now = steady::now();
        if (state_->last_demand && now - *state_->last_demand < state_->options.min_refresh_interval) {
            return false;
        }
        state_->last_demand = now;
        state_->demand = true;
        ++state_->status.demanded;
    }
    state_->changed.notify_all();
    return false;
}

bool remote_key_source::refresh_async(std::function<void()> done) {
    if (!done) {
        return false;
    }
    {
        std::lock_guard lock(state_->mutex);
        auto& s = *state_;
        if (s.stopping || s.waiters.size() >= s.options.max_refresh_waiters) {
            return false;
        }
        if (s.in_flight || s.demand) {  // join the cycle already under way
            s.waiters.push_back(std::move(done));
            ++s.status.joined;
            return true;
        }
        const auto now = steady::now();
        if (s.last_demand && now - *s.last_demand < s.options.min_refresh_interval) {
            return false;
        }
        s.last_demand = now;
        s.demand = true;
        ++s.status.demanded;
        s.waiters.push_back(std::move(done));
    }
    state_->changed.notify_all();
    return true;
}

std::shared_ptr<const issuer_metadata> remote_key_source::metadata() const {
    std::lock_guard lock(state_->mutex);
    return state_->metadata;
}

remote_key_status remote_key_source::status() const {
    std::lock_guard lock(state_->mutex);
    return state_->status;
}

const std::string& remote_key_source::issuer() const noexcept {
    return state_->options.issuer;
}

bool remote_key_source::wait_for(const std::function<bool(const remote_key_status&)>& pred,
                                 std::chrono::milliseconds timeout) const {
    std::unique_lock lock(state_->mutex);
    return state_->changed.wait_for(lock, timeout, [&] { return pred(state_->status); });
}

}  // namespace tollgate::auth
