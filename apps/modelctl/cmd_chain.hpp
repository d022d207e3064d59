#pragma once
// `modelctl chain FILE`: run a chain of steps on different models, each
// prompt filled with the answers before it, with residency planned for the
// whole chain (policy/chain.hpp): a model stays loaded for a later step when
// that saves the most loading, and is unloaded after its last use. The last
// answer goes to stdout; --dry-run prints the plan beside the naive rules.

#include "context.hpp"

#include <CLI/CLI.hpp>

#include <string>

namespace modelctl {

struct ChainOptions {
    std::string file;
    std::string input; // the first step's {input}; "-": stdin
    bool dry_run = false;
    bool keep_going = false;
    bool leave_loaded = false;
    int retries = 2;
    std::string step_timeout; // each step's answer; "": --timeout's per-request deadline
    std::string memory;
};

void setup_chain(CLI::App& app, Context& ctx);
int run_chain(Context& ctx, const ChainOptions& options);

} // namespace modelctl
