#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <tollgate/oauth/error.hpp>

namespace tollgate::oauth {

std::string_view error_code_name(error_code c) noexcept {
    switch (c) {
        case error_code::invalid_request:
            return "invalid_request";
        case error_code::invalid_client:
            return "invalid_client";
        case error_code::invalid_grant:
            return "invalid_grant";
        case error_code::unauthorized_client:
            return "unauthorized_client";
        case error_code::unsupported_grant_type:
            return "unsupported_grant_type";
        case error_code::invalid_scope:
            return "invalid_scope";
        case error_code::access_denied:
            return "access_denied";
        case error_code::unsupported_response_type:
            return "unsupported_response_type";
        case error_code::server_error:
            return "server_error";
        case error_code::temporarily_unavailable:
            return "temporarily_unavailable";
        case error_code::authorization_pending:
            return "authorization_pending";
        case error_code::slow_down:
            return "slow_down";
        case error_code::expired_token:
            return "expired_token";
        case error_code::unsupported_token_type:
            return "unsupported_token_type";
    }
    return "server_error";
}

response to_response(const oauth_error& e, std::string_view realm) {
    boost::json::object body;
    body["error"] = error_code_name(e.code);
    if (!e.description.empty()) {
        body["error_description"] = e.description;
    }
    int status = 400;
    if (e.code == error_code::invalid_client) {
        status = 401;
    } else if (e.code == error_code::server_error) {
        status = 500;
    } else if (e.code == error_code::temporarily_unavailable) {
        status = 503;
    }
    auto r = json_response(status, boost::json::serialize(body), true);
    if (status == 401) {
        r.set_header("www-authenticate",
                     "Basic realm=\"" + std::string(realm) + "\", error=\"invalid_client\"");
    }
    return r;
}

}  // namespace tollgate::oauth
