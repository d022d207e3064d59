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

// Turns a CLI11 parse error into help output (exit 0) or a usage error
// (exit 2) in modelctl's words: the command or option meant when one is near
// what was typed, what is missing, the usage line; no CLI11 wording. `args`:
// the command line, after the program's name. With `json`, the error
// document goes to stdout too.
int report_parse(const CLI::App& app, const CLI::ParseError& e,
                 const std::vector<std::string>& args, bool json);

// Checks for options, worded as modelctl words its errors (CLI11's print a
// range as 0 to 1.79e308).
CLI::Validator positive_number();     // above 0
CLI::Validator non_negative_number(); // 0 or more
CLI::Validator whole_number_from(int low, int high);
CLI::Validator one_of(std::vector<std::string> values);

} // namespace modelctl
