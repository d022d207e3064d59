#pragma once
// `modelctl __spec` (hidden): the CLI's subcommands and options as JSON.

#include "context.hpp"

#include <CLI/CLI.hpp>

namespace modelctl {

void setup_spec(CLI::App& app, Context& ctx);

} // namespace modelctl
