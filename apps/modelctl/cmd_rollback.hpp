#pragma once
// `modelctl rollback MODEL [--to DIGEST] [--reload]`: make a kept version
// current again (the newest kept one before the current, or the one named),
// keeping the current one under its version tag. A loaded model keeps its
// weights until reloaded; --reload reloads it now.

#include "context.hpp"

#include <CLI/CLI.hpp>

#include <string>

namespace modelctl {

struct RollbackOptions {
    std::string model;
    std::string to; // a digest prefix; empty: the newest kept earlier version
    bool reload = false;
};

void setup_rollback(CLI::App& app, Context& ctx);
int run_rollback(Context& ctx, const RollbackOptions& options);

} // namespace modelctl
