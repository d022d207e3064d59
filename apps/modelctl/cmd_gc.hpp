#pragma once
// `modelctl gc`: unload idle models, then get back under the memory budget;
// with --versions, delete the model versions beyond keep_versions instead.
// Made for cron: silent unless something was unloaded or failed; a second gc
// running at the same time exits 0 at once.

#include "context.hpp"

#include <CLI/CLI.hpp>

#include <string>

namespace modelctl {

struct GcOptions {
    std::string idle;   // empty: each model's idle timeout (config)
    std::string memory; // empty: the budget from the config and the probes
    bool dry_run = false;
    bool versions = false; // delete old versions instead of unloading
};

void setup_gc(CLI::App& app, Context& ctx);
int run_gc(Context& ctx, const GcOptions& options);

} // namespace modelctl
