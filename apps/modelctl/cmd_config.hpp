#pragma once
// `modelctl config show`: every effective setting and where it came from.

#include "context.hpp"

#include <CLI/CLI.hpp>

namespace modelctl {

struct ConfigOptions {};

void setup_config(CLI::App& app, Context& ctx);
int run_config_show(Context& ctx, const ConfigOptions& options);

} // namespace modelctl
