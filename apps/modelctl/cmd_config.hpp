#pragma once
// `modelctl config show`: every effective setting and where it came from.
// `modelctl config check [FILE]`: the file validated as serve's SIGHUP reads it.

#include "context.hpp"

#include <CLI/CLI.hpp>

namespace modelctl {

struct ConfigOptions {
    std::string file; // check: the file (default: --config, else the usual one)
};

void setup_config(CLI::App& app, Context& ctx);
int run_config_show(Context& ctx, const ConfigOptions& options);
int run_config_check(Context& ctx, const ConfigOptions& options);

} // namespace modelctl
