// RFC 8628: POST /device_authorization (§3.1, §3.2) and the user pages at /device (§3.3).
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <tollgate/oauth/pages.hpp>
#include <tollgate/oauth/scope.hpp>
#include <tollgate/oauth/server.hpp>
#include <tollgate/store/value.hpp>

#include "internal.hpp"

namespace tollgate::oauth {

response authorization_server::device_authorization(const request& req) {
    auto parsed = parse_request_form(req);
    if (auto* e = std::get_if<oauth_error>(&parsed)) {
        return to_response(*e);
    }
    const auto& params = std::get<form>(parsed);
    auto auth = authenticate_client(req, params, true);
    if (auto* e = std::get_if<oauth_error>(&auth)) {
        return to_response(*e);
    }
    const auto& client = std::get<authenticated_client>(auth).client;
    if (!client.has_grant("device_code")) {
        return to_response(
            oauth_error{error_code::unauthorized_client, "device grant not enabled for this client"});
    }
    bool ok = false;
    auto scope = resolve_scope(client, params.get("scope"), ok);
    if (!ok) {
        return to_response(oauth_error{error_code::invalid_scope, "scope not allowed for this client"});
    }
    const auto device_code = random_token("tg_dc_");
    const auto now = clock_->unix_seconds();
    std::string shown;
    for (int attempt = 0;; ++attempt) {
        shown = generate_user_code();
        device_record d;
        d.digest = server_keys_->digest(device_code);
        d.user_code = *normalize_user_code(shown);
        d.client_id = client.client_id;
        d.scope = scope;
        d.expires_at = now + config_.device_code_ttl.count();
        d.interval = config_.device_poll_interval.count();
        try {
            db_->insert_device(d);
            break;
        } catch (const store::error& e) {
            // A user code still in use (1 in 2^34 per live code): draw another.
            if (e.what_kind() != store::error::kind::constraint || attempt >= 4) {
                throw;
            }
        }
    }
    boost::json::object body;
    body["device_code"] = device_code;
    body["user_code"] = shown;
    body["verification_uri"] = config_.issuer + "/device";
    body["verification_uri_complete"] = config_.issuer + "/device?user_code=" + shown;
    body["expires_in"] = config_.device_code_ttl.count();
    body["interval"] = config_.device_poll_interval.count();
    return json_response(200, boost::json::serialize(body), true);
}

response authorization_server::device_page(const request& req) {
    auto parsed = page_params(req);
    if (auto* e = std::get_if<oauth_error>(&parsed)) {
        return message_page(400, "Invalid request", e->description);
    }
    const auto& p = std::get<form>(parsed);
    const auto typed = p.value_or_empty("user_code").substr(0, 32);
    response extra;
    const auto cookie = ensure_csrf_cookie(req, extra);
    auto finish = [&](response r) {
        for (auto& h : extra.headers) {
            r.headers.push_back(h);
        }
        return r;
    };
    auto subject = session_subject(req);
    if (!subject) {
        const auto normalized = normalize_user_code(typed);
        const std::string next = "device:" + (normalized ? *normalized : std::string());
        return finish(login_page(
            "", "/login", {{"next", next}, {"csrf", server_keys_->csrf_token(cookie, "login|" + next)}}, ""));
    }
    const hidden_fields entry_hidden{{"csrf", server_keys_->csrf_token(cookie, "device")}};
    if (req.method != "POST") {
        return finish(device_entry_page("/device", entry_hidden, typed, ""));
    }
    if (!server_keys_->csrf_ok(p.value_or_empty("csrf"), cookie, "device")) {
        return finish(
            message_page(403, "Request refused", "This form has expired or was not sent from this site."));
    }
    // RFC 8628 §5.1: user codes have little entropy, so wrong guesses are limited per address.
    if (user_code_by_address_.locked(req.peer_address)) {
        return finish(
            device_entry_page("/device", entry_hidden, "", "Too many wrong codes. Try again later."));
    }
    const auto normalized = normalize_user_code(typed);
    auto rec = normalized ? db_->find_device_by_user_code(*normalized) : std::nullopt;
    if (!rec || rec->status != device_status::pending || clock_->unix_seconds() >= rec->expires_at) {
        user_code_by_address_.record_failure(req.peer_address);
        return finish(
            device_entry_page("/device", entry_hidden, typed, "That code is not valid. Check the device."));
    }
    auto client = db_->find_client(rec->client_id);
    std::vector<std::string> words;
    for (const auto& s : parse_scope(rec->scope).value_or(scope_list{})) {
        words.push_back(describe_scope(s));
    }
    const auto shown = rec->user_code.substr(0, 4) + "-" + rec->user_code.substr(4);
    return finish(device_approval_page(
        client ? client->name : rec->client_id, shown, *subject, words, "/device/decision",
        {{"user_code", rec->user_code},
         {"csrf", server_keys_->csrf_token(cookie, "device-decision|" + rec->user_code)}}));
}

response authorization_server::device_decision(const request& req) {
    auto parsed = parse_request_form(req);
    if (auto* e = std::get_if<oauth_error>(&parsed)) {
        return message_page(400, "Invalid request", e->description);
    }
    const auto& p = std::get<form>(parsed);
    const auto user_code = p.value_or_empty("user_code");
    const auto cookie = req.cookie(csrf_cookie_name).value_or("");
    if (!server_keys_->csrf_ok(p.value_or_empty("csrf"), cookie, "device-decision|" + user_code)) {
        return message_page(403, "Request refused", "This form has expired or was not sent from this site.");
    }
    auto subject = session_subject(req);
    if (!subject) {
        return message_page(401, "Signed out", "Your session ended. Start again on the device page.");
    }
    auto rec = db_->find_device_by_user_code(user_code);
    if (!rec || clock_->unix_seconds() >= rec->expires_at) {
        return message_page(400, "Code expired", "This code has expired. Start again on the device.");
    }
    const bool approve = p.value_or_empty("decision") == "approve";
    if (!db_->decide_device(user_code, approve ? device_status::approved : device_status::denied, *subject)) {
        return message_page(400, "Already decided", "This code was already used.");
    }
    return approve ? message_page(200, "Device connected",
                                  "You can return to your device; it will continue on its own.")
                   : message_page(200, "Request denied", "The device was not connected.");
}

}  // namespace tollgate::oauth
