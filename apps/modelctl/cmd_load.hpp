#pragma once
// `modelctl load MODEL...`: load models, wait until they are in memory, and
// record how long it took and what they occupy.

#include "context.hpp"

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace modelctl {

struct LoadOptions {
    std::vector<std::string> models;
    std::string keep_alive; // empty: the config's, else the server's default
    std::string memory;     // empty: the budget from the config and the probes
    bool dry_run = false;
    bool no_evict = false;
    // --ctx: the context length to load them at ("" the config's, else the
    // server's default; "max": the largest that fits the budget and the
    // model), as lms load --context-length.
    std::string ctx;
};

void setup_load(CLI::App& app, Context& ctx);
int run_load(Context& ctx, const LoadOptions& options);

} // namespace modelctl
