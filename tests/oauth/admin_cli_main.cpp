// A minimal executable holding only `tollgate admin` (apps/tollgate/admin.cpp), so the
// administration commands are built and tested before the app wires them into tollgate itself.
#include <CLI/CLI.hpp>

#include "../../apps/tollgate/admin.hpp"

int main(int argc, char** argv) {
    CLI::App app{"tollgate admin commands (test build)", "tollgate"};
    app.require_subcommand(1);
    tollgate::app::register_admin_commands(app);
    CLI11_PARSE(app, argc, argv);
    return 2;  // every admin command ends the process itself
}
