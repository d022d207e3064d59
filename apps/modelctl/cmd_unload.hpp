#pragma once
// `modelctl unload MODEL...|--all`: unload models and wait until they are gone.

#include "context.hpp"

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace modelctl {

struct UnloadOptions {
    std::vector<std::string> models;
    bool all = false;
};

void setup_unload(CLI::App& app, Context& ctx);
int run_unload(Context& ctx, const UnloadOptions& options);

} // namespace modelctl
