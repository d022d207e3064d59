// modelctl: one binary, many subcommands (see commands.cpp for the table).

#include "commands.hpp"
#include "context.hpp"
#include "errors.hpp"
#include "util/interrupt.hpp"

#include <csignal>

int main(int argc, char** argv) {
    std::signal(SIGPIPE, SIG_IGN); // a closed pipe is an error to report, not a crash
    // Ctrl-C and SIGTERM stop every command the same way: requests in flight
    // are cancelled, what was begun is undone, exit 130 (util/interrupt.hpp).
    core::util::install_interrupt_handlers();
    modelctl::Context ctx(core::Environment::from_process());
    CLI::App app;
    modelctl::setup_app(app, ctx);
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return modelctl::report_parse(app, e);
    } catch (const std::exception& e) {
        return modelctl::report(e);
    }
    return ctx.exit_code;
}
