#pragma once
// `modelctl unload MODEL...|--all`: unload models and wait until they are gone.

#include "context.hpp"
#include "registry/registry.hpp"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace modelctl {

struct UnloadOptions {
    std::vector<std::string> models;
    bool all = false;
    bool dry_run = false; // say what would be unloaded and freed; change nothing
};

void setup_unload(CLI::App& app, Context& ctx);
int run_unload(Context& ctx, const UnloadOptions& options);

// One entry of unload's "results": {"model", "ok": true, "was_loaded", "seconds", "freed",
// "freed_vram"}.
nlohmann::ordered_json unload_result_json(const core::registry::UnloadOutcome& r);

} // namespace modelctl
