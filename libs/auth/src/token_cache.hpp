#pragma once
// A bounded LRU of verified tokens, keyed by SHA-256 of the token (32 raw bytes).
//
// Design: a doubly linked list in recency order (front = most recent) plus a hash map from key to
// list node. get() moves the entry to the front; put() inserts at the front and evicts from the back
// beyond capacity. Entries are shared_ptr<const cached_token>, so a reader keeps its copy after an
// eviction. One mutex guards both structures; the critical sections are O(1) (forget() is O(n), it
// runs only on revocation). Thread-safety: all members are thread-safe.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <boost/json/object.hpp>

namespace tollgate::auth::detail {

/// What a successful verification established, kept so a cache hit needs no signature check.
struct cached_token {
    std::string issuer;
    std::string subject;
    std::string jti;
    std::string client_id;  ///< "client_id" claim
    std::int64_t exp = 0;
    std::optional<std::int64_t> nbf;
    std::optional<std::int64_t> iat;
    std::vector<std::string> scopes;
    std::optional<std::string> cnf_x5t_s256;
    boost::json::object claims;  ///< for {claim:NAME} and a configured binding claim
    std::string fingerprint;     ///< secret_fingerprint of the token (for logs)
};

class token_cache {
  public:
    explicit token_cache(std::size_t capacity) : capacity_(capacity) {}

    [[nodiscard]] std::shared_ptr<const cached_token> get(const std::string& key);
    void put(const std::string& key, std::shared_ptr<const cached_token> value);
    void erase(const std::string& key);
    /// Removes every entry for which pred is true; returns how many.
    std::size_t erase_if(const std::function<bool(const cached_token&)>& pred);
    [[nodiscard]] std::size_t size() const;

  private:
    using entry = std::pair<std::string, std::shared_ptr<const cached_token>>;
    std::size_t capacity_;
    mutable std::mutex mutex_;
    std::list<entry> order_;
    std::unordered_map<std::string, std::list<entry>::iterator> index_;
};

}  // namespace tollgate::auth::detail
