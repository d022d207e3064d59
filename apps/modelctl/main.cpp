// modelctl: one binary, many subcommands (see commands.cpp for the table).

#include "commands.hpp"
#include "context.hpp"
#include "errors.hpp"
#include "util/interrupt.hpp"

#include <csignal>
#include <string>
#include <vector>

int main(int argc, char** argv) {
    std::signal(SIGPIPE, SIG_IGN); // a closed pipe is an error to report, not a crash
    // Ctrl-C and SIGTERM stop every command the same way: requests in flight
    // are cancelled, what was begun is undone, exit 130 (util/interrupt.hpp).
    core::util::install_interrupt_handlers();
    modelctl::Context ctx(core::Environment::from_process());
    CLI::App app;
    modelctl::setup_app(app, ctx);
    std::vector<std::string> args(argv + 1, argv + argc);
    // --json (or --format json) anywhere: an error is a JSON document too,
    // even one found before the options were read.
    bool json = false;
    for (size_t i = 0; i < args.size(); ++i)
        json = json || args[i] == "--json" || args[i] == "--format=json" ||
               (args[i] == "--format" && i + 1 < args.size() && args[i + 1] == "json");
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return modelctl::report_parse(app, e, args, json || ctx.global.json);
    } catch (const std::exception& e) {
        return modelctl::report(e, json || ctx.global.json);
    }
    return ctx.exit_code;
}
