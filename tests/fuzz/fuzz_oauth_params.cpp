// Parameter validators fed with request values: scope lists, redirect URIs, user codes, PKCE
// values, cookies. Never crash; a parsed scope list re-joins to something that parses the same.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include <tollgate/oauth/crypto.hpp>
#include <tollgate/oauth/http.hpp>
#include <tollgate/oauth/redirect_uri.hpp>
#include <tollgate/oauth/scope.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    if (auto scopes = tollgate::oauth::parse_scope(text)) {
        auto again = tollgate::oauth::parse_scope(tollgate::oauth::join_scope(*scopes));
        if (!again || *again != *scopes) {
            std::abort();
        }
        for (const auto& s : *scopes) {
            (void)tollgate::oauth::describe_scope(s);
        }
    }
    (void)tollgate::oauth::check_redirect_uri_registration(text);
    (void)tollgate::oauth::redirect_uri_matches(text, {"https://app.example/cb", "http://127.0.0.1/cb"});
    if (auto code = tollgate::oauth::normalize_user_code(text)) {
        if (code->size() != 8) {
            std::abort();
        }
    }
    (void)tollgate::oauth::is_valid_code_verifier(text);
    (void)tollgate::oauth::is_valid_code_challenge(text);
    tollgate::oauth::request req;
    req.target = std::string(text);
    req.headers.emplace_back("cookie", std::string(text));
    (void)req.cookie("tg_sid");
    (void)req.path();
    (void)req.query();
    return 0;
}
