#pragma once
// `modelctl run MODEL [PROMPT...|-]`: make sure the model is loaded (through
// the policy), generate, stream the answer to stdout, and record the use with
// the figures the server reported.

#include "context.hpp"

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace modelctl {

struct RunOptions {
    std::string model;
    std::vector<std::string> prompt; // words joined by spaces; "-" or none: stdin
    std::string task;
    std::string keep_alive;
    std::string memory;
    bool no_evict = false;
};

void setup_run(CLI::App& app, Context& ctx);
int run_run(Context& ctx, const RunOptions& options);

} // namespace modelctl
