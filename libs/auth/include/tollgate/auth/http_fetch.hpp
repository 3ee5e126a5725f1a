#pragma once
// tollgate::auth::http_fetch: a small asynchronous HTTP/1.1 client for talking to authorization
// servers (RFC 8414 metadata, JWKS, RFC 7662 introspection).
//
// Behaviour of make_http_fetch():
//  - https:// URLs are verified: the peer chain against options.ca_file (or the system's default
//    verify paths when empty), the host name against the certificate (RFC 6125), SNI sent.
//  - http:// URLs are refused unless options.allow_http (loopback tests only).
//  - One request per connection ("Connection: close"); redirects are NOT followed (a 3xx is handed
//    back as it is); the whole exchange (resolve, connect, handshake, write, read) is bounded by
//    options.timeout; a body larger than options.max_body_bytes is an error.
//  - `done` runs exactly once, on the client's own I/O thread, with status 0 and `error` set on any
//    transport, TLS, timeout or size failure, or with the HTTP status, Content-Type and body.
//
// Thread-safety: the returned function may be called from any number of threads at once. Its I/O
// thread lives while any copy of the function exists; destroying the last copy stops the thread and
// cancels outstanding requests (their `done` still runs, with an error). Never destroy the last copy
// from inside a `done` callback of the same client.
#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace tollgate::auth {

struct http_request {
    std::string method = "GET";                                ///< "GET" or "POST"
    std::string url;                                           ///< https://... (http:// only when allow_http)
    std::vector<std::pair<std::string, std::string>> headers;  ///< e.g. Authorization, Content-Type
    std::string body;
};

struct http_response {
    int status = 0;  ///< 0: transport error (see error)
    std::string content_type;
    std::string body;
    std::string error;  ///< transport/TLS/limit error text; empty on success
};

struct http_fetch_options {
    std::string ca_file;      ///< PEM bundle; empty: system default paths
    bool allow_http = false;  ///< plain http:// (tests on loopback only)
    std::chrono::milliseconds timeout{5000};
    std::size_t max_body_bytes = 1024 * 1024;
};

/// Asynchronous HTTP(S) call; `done` runs exactly once on an internal thread. Thread-safe.
using http_fetch = std::function<void(http_request, std::function<void(http_response)>)>;

/// The real client (Boost.Beast over OpenSSL, hostname verification, SNI, its own I/O thread(s)).
/// The returned object stays valid while any copy of the function exists.
/// Throws std::runtime_error if options.ca_file cannot be loaded.
http_fetch make_http_fetch(const http_fetch_options& options);

}  // namespace tollgate::auth
