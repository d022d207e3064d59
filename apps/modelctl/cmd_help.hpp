#pragma once
// `modelctl help [COMMAND...]` (as `ollama help`): the help of modelctl, or
// of a command (`help config check`), on stdout; what `--help` prints.

#include "context.hpp"

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace modelctl {

void setup_help(CLI::App& app, Context& ctx);

} // namespace modelctl
