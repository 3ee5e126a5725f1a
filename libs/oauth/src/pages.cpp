#include <tollgate/oauth/pages.hpp>

namespace tollgate::oauth {
namespace {

constexpr std::string_view style = R"css(
*{box-sizing:border-box}body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;
background:#f3f4f6;color:#111827}main{max-width:26rem;margin:2rem auto;padding:1.5rem;background:#fff;
border-radius:12px;box-shadow:0 1px 3px rgba(0,0,0,.15)}h1{font-size:1.4rem;margin:0 0 1rem}
label{display:block;margin:.75rem 0 .25rem;font-weight:600}input[type=text],input[type=password]{width:100%;
padding:.75rem;font-size:1rem;border:1px solid #9ca3af;border-radius:8px}button{width:100%;padding:.85rem;
margin-top:1rem;font-size:1rem;border:0;border-radius:8px;background:#1d4ed8;color:#fff;cursor:pointer}
button.secondary{background:#e5e7eb;color:#111827}.error{background:#fee2e2;color:#991b1b;padding:.75rem;
border-radius:8px}ul{padding-left:1.2rem}.code{font:700 1.6rem ui-monospace,monospace;letter-spacing:.15em;
text-align:center;padding:.5rem;background:#f3f4f6;border-radius:8px}.muted{color:#4b5563;font-size:.9rem}
label.check{font-weight:400;display:flex;gap:.5rem;align-items:center}
@media (max-width:30rem){main{margin:0;border-radius:0;min-height:100vh}}
)css";

std::string hidden_inputs(const hidden_fields& hidden) {
    std::string out;
    for (const auto& [name, value] : hidden) {
        out +=
            "<input type=\"hidden\" name=\"" + html_escape(name) + "\" value=\"" + html_escape(value) + "\">";
    }
    return out;
}

std::string scope_list_html(const std::vector<std::string>& words) {
    if (words.empty()) {
        return "<p>No specific permissions: only to know that you approved.</p>";
    }
    std::string out = "<ul>";
    for (const auto& w : words) {
        out += "<li>" + html_escape(w) + "</li>";
    }
    return out + "</ul>";
}

}  // namespace

std::string html_escape(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (const char c : text) {
        switch (c) {
            case '&':
                out += "&amp;";
                break;
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            case '"':
                out += "&quot;";
                break;
            case '\'':
                out += "&#39;";
                break;
            default:
                out.push_back(c);
        }
    }
    return out;
}

response html_page(int status, std::string_view title, const std::string& body_html) {
    response r;
    r.status = status;
    r.body =
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        "<meta name=\"referrer\" content=\"no-referrer\"><title>" +
        html_escape(title) + "</title><style>" + std::string(style) + "</style></head><body><main>" +
        body_html + "</main></body></html>";
    r.set_header("content-type", "text/html; charset=utf-8");
    r.set_header("content-security-policy",
                 "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'");
    r.set_header("x-frame-options", "DENY");
    r.set_header("cache-control", "no-store");
    r.set_header("pragma", "no-cache");
    r.set_header("referrer-policy", "no-referrer");
    r.set_header("x-content-type-options", "nosniff");
    return r;
}

response login_page(std::string_view client_name, std::string_view action, const hidden_fields& hidden,
                    std::string_view error) {
    std::string body = "<h1>Sign in</h1>";
    if (!client_name.empty()) {
        body += "<p><strong>" + html_escape(client_name) + "</strong> asks you to sign in.</p>";
    }
    if (!error.empty()) {
        body += "<p class=\"error\" role=\"alert\">" + html_escape(error) + "</p>";
    }
    body += "<form method=\"post\" action=\"" + html_escape(action) + "\">" + hidden_inputs(hidden) +
            "<label for=\"username\">User name</label>"
            "<input type=\"text\" id=\"username\" name=\"username\" autocomplete=\"username\" "
            "autocapitalize=\"none\" required autofocus>"
            "<label for=\"password\">Password</label>"
            "<input type=\"password\" id=\"password\" name=\"password\" autocomplete=\"current-password\" "
            "required>"
            "<button type=\"submit\">Sign in</button></form>";
    return html_page(error.empty() ? 200 : 401, "Sign in", body);
}

response consent_page(std::string_view client_name, std::string_view subject,
                      const std::vector<std::string>& scope_words, std::string_view action,
                      const hidden_fields& hidden, bool offer_remember) {
    std::string body = "<h1>Allow access?</h1><p><strong>" + html_escape(client_name) +
                       "</strong> wants to act on your behalf";
    body +=
        subject.empty() ? std::string(".") : " (signed in as <strong>" + html_escape(subject) + "</strong>).";
    body += "</p><p>It will be able to:</p>" + scope_list_html(scope_words);
    body += "<form method=\"post\" action=\"" + html_escape(action) + "\">" + hidden_inputs(hidden);
    if (offer_remember) {
        body +=
            "<label class=\"check\"><input type=\"checkbox\" id=\"remember\" name=\"remember\" value=\"1\"> "
            "Don't ask again for these permissions</label>";
    }
    body +=
        "<button type=\"submit\" name=\"decision\" value=\"approve\">Allow</button>"
        "<button type=\"submit\" name=\"decision\" value=\"deny\" class=\"secondary\">Deny</button></form>";
    return html_page(200, "Allow access?", body);
}

response device_entry_page(std::string_view action, const hidden_fields& hidden, std::string_view prefill,
                           std::string_view error) {
    std::string body = "<h1>Connect a device</h1><p>Enter the code shown on the device.</p>";
    if (!error.empty()) {
        body += "<p class=\"error\" role=\"alert\">" + html_escape(error) + "</p>";
    }
    body += "<form method=\"post\" action=\"" + html_escape(action) + "\">" + hidden_inputs(hidden) +
            "<label for=\"user_code\">Code</label>"
            "<input type=\"text\" id=\"user_code\" name=\"user_code\" autocomplete=\"off\" "
            "autocapitalize=\"characters\" spellcheck=\"false\" required value=\"" +
            html_escape(prefill) + "\"><button type=\"submit\">Continue</button></form>";
    return html_page(error.empty() ? 200 : 400, "Connect a device", body);
}

response device_approval_page(std::string_view client_name, std::string_view user_code,
                              std::string_view subject, const std::vector<std::string>& scope_words,
                              std::string_view action, const hidden_fields& hidden) {
    std::string body = "<h1>Connect this device?</h1><p>A <strong>device</strong> using <strong>" +
                       html_escape(client_name) + "</strong> asks for access to your account <strong>" +
                       html_escape(subject) + "</strong>.</p><p class=\"code\">" + html_escape(user_code) +
                       "</p><p class=\"muted\">Allow only if this code is on a device in front of you. "
                       "Someone who sent you this code could be trying to take over your account.</p>"
                       "<p>The device will be able to:</p>" +
                       scope_list_html(scope_words);
    body +=
        "<form method=\"post\" action=\"" + html_escape(action) + "\">" + hidden_inputs(hidden) +
        "<button type=\"submit\" name=\"decision\" value=\"approve\">Allow device</button>"
        "<button type=\"submit\" name=\"decision\" value=\"deny\" class=\"secondary\">Deny</button></form>";
    return html_page(200, "Connect this device?", body);
}

response logout_page(std::string_view subject, std::string_view action, const hidden_fields& hidden) {
    std::string body = "<h1>Sign out?</h1><p>You are signed in as <strong>" + html_escape(subject) +
                       "</strong>. Signing out ends your session on this browser; applications keep the "
                       "access you gave them until it expires or you revoke it.</p>";
    body += "<form method=\"post\" action=\"" + html_escape(action) + "\">" + hidden_inputs(hidden) +
            "<button type=\"submit\">Sign out</button></form>";
    return html_page(200, "Sign out?", body);
}

response message_page(int status, std::string_view title, std::string_view text) {
    return html_page(status, title, "<h1>" + html_escape(title) + "</h1><p>" + html_escape(text) + "</p>");
}

}  // namespace tollgate::oauth
