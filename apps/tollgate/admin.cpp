#include "admin.hpp"

#include <cstdlib>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <sstream>
#include <termios.h>
#include <unistd.h>

#include <tollgate/common/clock.hpp>
#include <tollgate/jose/algorithm.hpp>
#include <tollgate/oauth/server.hpp>

namespace tollgate::app {
namespace {

struct admin_settings {
    std::string data_dir = "./tollgate-data";
    std::string database_url;
    std::string issuer = "http://127.0.0.1:8080";
};

struct client_add_settings {
    oauth::client_options options;
    std::string jwks_file;
};

std::string join(const std::vector<std::string>& items) {
    std::string out;
    for (const auto& s : items) {
        out += (out.empty() ? "" : " ") + s;
    }
    return out;
}

/// Reads one line from stdin without echo when stdin is a terminal.
std::string read_password(const std::string& prompt) {
    const bool tty = ::isatty(STDIN_FILENO) != 0;
    termios old{};
    if (tty) {
        std::cerr << prompt << std::flush;
        ::tcgetattr(STDIN_FILENO, &old);
        termios quiet = old;
        quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
        ::tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
    }
    std::string line;
    std::getline(std::cin, line);
    if (tty) {
        ::tcsetattr(STDIN_FILENO, TCSANOW, &old);
        std::cerr << "\n";
    }
    if (!line.empty() && line.back() == '\r') {
        line.pop_back();
    }
    return line;
}

void print_client(const oauth::client_record& c) {
    std::cout << "client_id:     " << c.client_id << "\n"
              << "name:          " << c.name << "\n"
              << "auth_method:   " << c.auth_method << "\n"
              << "grant_types:   " << join(c.grant_types) << "\n"
              << "scopes:        " << join(c.scopes) << "\n"
              << "redirect_uris: " << join(c.redirect_uris) << "\n"
              << "require_pkce:  " << (c.require_pkce ? "yes" : "no") << "\n"
              << "token ttl:     "
              << (c.access_token_ttl > 0 ? std::to_string(c.access_token_ttl) : "default") << "\n"
              << "audience:      " << (c.audience.empty() ? "(server default)" : c.audience) << "\n";
    if (!c.post_logout_redirect_uris.empty()) {
        std::cout << "post-logout:   " << join(c.post_logout_redirect_uris) << "\n";
    }
    if (!c.tls_subject_dn.empty()) {
        std::cout << "tls subject:   " << c.tls_subject_dn << "\n";
    }
}

/// Runs body against a server opened on the data directory; ends the process with its result.
void run(const admin_settings& s, const std::function<int(oauth::authorization_server&)>& body) {
    int rc = 1;
    try {
        common::real_clock clock;
        oauth::server_config config;
        config.data_dir = s.data_dir;
        config.database_url = s.database_url;
        config.issuer = s.issuer;
        config.database_pool_size = 1;
        oauth::authorization_server server(config, clock);
        rc = body(server);
    } catch (const std::invalid_argument& e) {
        std::cerr << "tollgate admin: " << e.what() << "\n";
        rc = 2;
    } catch (const std::exception& e) {
        std::cerr << "tollgate admin: " << e.what() << "\n";
        rc = 1;
    }
    std::cout.flush();
    std::exit(rc);
}

void add_client_commands(CLI::App& admin, const std::shared_ptr<admin_settings>& s) {
    auto* client = admin.add_subcommand("client", "OAuth clients")->require_subcommand(1);
    auto add_settings = std::make_shared<client_add_settings>();
    auto& o = add_settings->options;
    o.grant_types.clear();
    auto* add = client->add_subcommand("add", "Register a client; prints its secret once");
    add->add_option("--id", o.client_id, "client_id (default: generated)");
    add->add_option("--name", o.name, "Name shown on the consent page");
    add->add_option(
        "--auth-method", o.auth_method,
        "client_secret_basic (default), client_secret_post, private_key_jwt, tls_client_auth, none");
    add->add_option(
           "--grant", o.grant_types,
           "Enabled grant (repeatable): client_credentials, authorization_code, refresh_token, device_code, "
           "password, implicit")
        ->required();
    add->add_option("--scope", o.scopes, "Scope the client may request (repeatable)");
    add->add_option("--redirect-uri", o.redirect_uris, "Registered redirect URI (repeatable, exact match)");
    add->add_option("--post-logout-redirect-uri", o.post_logout_redirect_uris,
                    "Where /logout may return the browser (repeatable, exact match)");
    add->add_flag("!--no-pkce", o.require_pkce, "Do not require PKCE (confidential clients only)");
    add->add_option("--ttl", o.access_token_ttl, "Access-token lifetime in seconds");
    add->add_option("--audience", o.audience, "aud of its access tokens (default: the broker)");
    add->add_option("--jwks-file", add_settings->jwks_file,
                    "private_key_jwt: file with the client's public JWKS");
    add->add_option("--tls-subject-dn", o.tls_subject_dn,
                    "tls_client_auth: RFC 4514 subject DN of the certificate");
    add->add_flag("--certificate-bound", o.certificate_bound,
                  "Bind tokens to the TLS client certificate (RFC 8705)");
    add->callback([s, add_settings] {
        run(*s, [&](oauth::authorization_server& server) {
            auto options = add_settings->options;
            if (!add_settings->jwks_file.empty()) {
                std::ifstream in(add_settings->jwks_file);
                if (!in) {
                    throw std::invalid_argument("cannot read --jwks-file " + add_settings->jwks_file);
                }
                std::stringstream buf;
                buf << in.rdbuf();
                options.jwks = buf.str();
            }
            auto created = server.create_client(options);
            print_client(created.record);
            if (!created.secret.empty()) {
                std::cout << "client_secret: " << created.secret << "\n"
                          << "(shown once: it is stored only as a hash)\n";
            }
            return 0;
        });
    });
    client->add_subcommand("list", "List clients")->callback([s] {
        run(*s, [](oauth::authorization_server& server) {
            for (const auto& c : server.store().list_clients()) {
                std::cout << c.client_id << "\t" << c.auth_method << "\t" << join(c.grant_types) << "\t"
                          << c.name << "\n";
            }
            return 0;
        });
    });
    auto id = std::make_shared<std::string>();
    auto* show = client->add_subcommand("show", "Show one client");
    show->add_option("client_id", *id)->required();
    show->callback([s, id] {
        run(*s, [&](oauth::authorization_server& server) {
            auto c = server.store().find_client(*id);
            if (!c) {
                std::cerr << "no such client: " << *id << "\n";
                return 1;
            }
            print_client(*c);
            return 0;
        });
    });
    auto* remove = client->add_subcommand("remove", "Remove a client and revoke its tokens");
    remove->add_option("client_id", *id)->required();
    remove->callback([s, id] {
        run(*s, [&](oauth::authorization_server& server) {
            if (!server.remove_client(*id)) {
                std::cerr << "no such client: " << *id << "\n";
                return 1;
            }
            std::cout << "removed " << *id << "\n";
            return 0;
        });
    });
    auto* rotate = client->add_subcommand("rotate-secret", "Give a client a new secret; prints it once");
    rotate->add_option("client_id", *id)->required();
    rotate->callback([s, id] {
        run(*s, [&](oauth::authorization_server& server) {
            auto secret = server.rotate_client_secret(*id);
            if (!secret) {
                std::cerr << "no such client with a secret: " << *id << "\n";
                return 1;
            }
            std::cout << "client_secret: " << *secret << "\n(shown once: it is stored only as a hash)\n";
            return 0;
        });
    });
}

void add_user_commands(CLI::App& admin, const std::shared_ptr<admin_settings>& s) {
    auto* user = admin.add_subcommand("user", "Users who sign in on the login page")->require_subcommand(1);
    auto name = std::make_shared<std::string>();
    auto* add = user->add_subcommand("add", "Add a user; the password is read from stdin");
    add->add_option("username", *name)->required();
    add->callback([s, name] {
        run(*s, [&](oauth::authorization_server& server) {
            server.add_user(*name, read_password("Password for " + *name + ": "));
            std::cout << "added user " << *name << "\n";
            return 0;
        });
    });
    auto* passwd = user->add_subcommand("passwd", "Set a user's password (read from stdin)");
    passwd->add_option("username", *name)->required();
    passwd->callback([s, name] {
        run(*s, [&](oauth::authorization_server& server) {
            if (!server.set_user_password(*name, read_password("New password for " + *name + ": "))) {
                std::cerr << "no such user: " << *name << "\n";
                return 1;
            }
            std::cout << "password changed for " << *name << "\n";
            return 0;
        });
    });
    auto* remove = user->add_subcommand("remove", "Remove a user");
    remove->add_option("username", *name)->required();
    remove->callback([s, name] {
        run(*s, [&](oauth::authorization_server& server) {
            if (!server.remove_user(*name)) {
                std::cerr << "no such user: " << *name << "\n";
                return 1;
            }
            std::cout << "removed user " << *name << "\n";
            return 0;
        });
    });
}

void add_key_and_token_commands(CLI::App& admin, const std::shared_ptr<admin_settings>& s) {
    auto* key = admin.add_subcommand("key", "Signing keys")->require_subcommand(1);
    key->add_subcommand("list", "List signing keys")->callback([s] {
        run(*s, [](oauth::authorization_server& server) {
            for (const auto& k : server.store().list_signing_keys()) {
                std::cout << k.kid << "\t" << k.alg << "\t"
                          << (k.retired_at == 0 ? "active"
                                                : "retired, published until " + std::to_string(k.keep_until))
                          << "\n";
            }
            return 0;
        });
    });
    auto alg = std::make_shared<std::string>("ES256");
    auto* rotate = key->add_subcommand(
        "rotate", "Make a new signing key; old ones stay published until their tokens expire");
    rotate->add_option("--alg", *alg, "ES256 (default), EdDSA or RS256");
    rotate->callback([s, alg] {
        run(*s, [&](oauth::authorization_server& server) {
            auto a = jose::algorithm_from_name(*alg);
            if (!a || (*a != jose::algorithm::es256 && *a != jose::algorithm::eddsa &&
                       *a != jose::algorithm::rs256)) {
                throw std::invalid_argument("--alg must be ES256, EdDSA or RS256");
            }
            std::cout << "new signing key " << server.keys().rotate(*a) << "\n";
            return 0;
        });
    });
    auto* token = admin.add_subcommand("token", "Tokens")->require_subcommand(1);
    auto value = std::make_shared<std::string>();
    auto* revoke = token->add_subcommand("revoke", "Revoke an access token (JWT or jti) or a refresh token");
    revoke
        ->add_option("token", *value,
                     "The token or the jti; - reads it from standard input (keeps it out of ps and "
                     "shell history)")
        ->required();
    revoke->callback([s, value] {
        if (*value == "-") {
            *value = read_password("token: ");
        }
        run(*s, [&](oauth::authorization_server& server) {
            if (!server.revoke_token(*value)) {
                std::cerr << "nothing to revoke (unknown, expired or already revoked)\n";
                return 1;
            }
            std::cout << "revoked\n";
            return 0;
        });
    });
    admin.add_subcommand("janitor", "Delete expired codes, tokens and retired keys now")->callback([s] {
        run(*s, [](oauth::authorization_server& server) {
            std::cout << "removed " << server.run_janitor().total() << " expired rows\n";
            return 0;
        });
    });
}

}  // namespace

void register_admin_commands(CLI::App& root) {
    auto settings = std::make_shared<admin_settings>();
    auto* admin =
        root.add_subcommand("admin", "Administer the authorization server (clients, users, keys, tokens)");
    admin->require_subcommand(1);
    admin->add_option("--data-dir", settings->data_dir, "Data directory (default ./tollgate-data)");
    admin->add_option("--database", settings->database_url,
                      "Database URL (default: SQLite in the data directory)");
    admin->add_option("--issuer", settings->issuer, "Issuer URL of the authorization server");
    add_client_commands(*admin, settings);
    add_user_commands(*admin, settings);
    add_key_and_token_commands(*admin, settings);
}

}  // namespace tollgate::app
