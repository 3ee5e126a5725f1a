// tollgate: the command line. Subcommands parse their options here and run elsewhere
// (serve.cpp); this file stays small.
#include <iostream>

#include <CLI/CLI.hpp>

#include "admin.hpp"
#include "explain.hpp"
#include "serve.hpp"

namespace {

constexpr const char* version_text = "tollgate " TOLLGATE_VERSION;

void add_serve(CLI::App& app, tollgate::app::serve_options& o) {
    auto* serve = app.add_subcommand("serve", "Run the MQTT broker until SIGINT or SIGTERM");
    serve->footer(
        "Without --config, the embedded default is used: MQTT over TCP on 127.0.0.1:1883 and the\n"
        "authorization server on http://127.0.0.1:8080\n"
        "(print it with --print-default-config). Every key is listed in docs/configuration.md.\n"
        "Exit codes: 0 clean shutdown, 1 runtime failure, 2 bad command line or configuration.");
    serve->add_option("-c,--config", o.config_file, "TOML configuration file")->check(CLI::ExistingFile);
    serve->add_option("--data-dir", o.data_dir, "Data directory (overrides server.data_dir)");
    serve->add_option(
        "--ready-file", o.ready_file,
        "Once every listener is bound, write a JSON file {pid, listeners:[{name, type, address, "
        "port}]} here (atomically)");
    serve->add_option("--log-level", o.log_level,
                      "Log level: trace, debug, info, warn, error, critical, off (overrides log.level)");
    serve->add_option("--log-format", o.log_format, "Log format: text or json (overrides log.format)");
    serve->add_option("--log-file", o.log_file, "Log to this file instead of stderr (overrides log.file)");
    serve->add_option("--threads", o.threads, "Worker threads, 0 = one per core (overrides server.threads)");
    serve->add_flag("--check", o.check_only, "Validate the configuration, print 'configuration OK' and exit");
    serve->add_flag("--print-default-config", o.print_config,
                    "Print the embedded default configuration and exit");
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"tollgate: an MQTT 3.1.1 / 5.0 broker that speaks OAuth 2.0", "tollgate"};
    app.set_version_flag("-V,--version", version_text);
    app.require_subcommand(1);
    app.footer("Run 'tollgate <command> --help' for the options of a command.");
    tollgate::app::serve_options serve_options;
    add_serve(app, serve_options);
    tollgate::app::register_admin_commands(app);
    tollgate::app::register_explain_command(*app.get_subcommand("admin"));  // tollgate admin explain
    try {
        app.parse(argc, argv);
    } catch (const CLI::Success& e) {
        return app.exit(e);  // --help, --version
    } catch (const CLI::ParseError& e) {
        (void)app.exit(e);  // prints the problem and a hint
        return static_cast<int>(tollgate::app::exit_code::config_error);
    }
    if (app.got_subcommand("serve")) {
        return static_cast<int>(tollgate::app::run_serve(serve_options));
    }
    return static_cast<int>(tollgate::app::exit_code::config_error);
}
