#pragma once
// `modelctl simulate`: replay a request trace under memory budgets with
// several eviction rules side by side (libcore/policy/replay.hpp).

#include "context.hpp"

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace modelctl {

struct SimulateOptions {
    std::string trace;               // CSV time,model
    std::string catalog;             // CSV model,size_bytes,load_s
    std::vector<std::string> memory; // one run per budget
    std::vector<std::string> policies{"modelctl", "lru", "ollama", "belady"};
    bool from_history = false;
    size_t every = 1;
    double stretch = 1;
    size_t max_loaded = 0;
};

void setup_simulate(CLI::App& app, Context& ctx);
int run_simulate(Context& ctx, const SimulateOptions& options);

} // namespace modelctl
