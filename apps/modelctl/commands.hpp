#pragma once
// The table of subcommands and the global options, registered with CLI11.

#include "context.hpp"

#include <CLI/CLI.hpp>

namespace modelctl {

struct Command {
    const char* name;
    void (*setup)(CLI::App& app, Context& ctx);
};

// Global options plus every subcommand in the table.
void setup_app(CLI::App& app, Context& ctx);

// Turns a CLI11 parse error into help output (exit 0) or a usage error (exit 2).
int report_parse(const CLI::App& app, const CLI::ParseError& e);

} // namespace modelctl
