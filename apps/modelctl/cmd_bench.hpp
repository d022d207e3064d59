#pragma once
// `modelctl bench MODEL...`: load each model (through the policy; --cold
// unloads it first and times the load), generate a warm-up and then --runs
// timed answers, and report min / median / max of time to first token, prompt
// and generation tokens/s and total time, with the memory observed. Results
// go into the store (feeding recommend) and are compared with the previous
// result of the same model and settings; --fail-on-regression gates CI.

#include "context.hpp"

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace modelctl {

struct BenchOptions {
    std::vector<std::string> models;
    std::vector<std::string> compare; // --compare A B
    int runs = 5;
    std::string prompt;
    std::string prompt_file;
    int num_predict = 128;
    int ctx = 0;
    bool cold = false;
    std::string fail_on_regression; // "10%"
    std::string memory;
    bool no_evict = false;
};

void setup_bench(CLI::App& app, Context& ctx);
int run_bench(Context& ctx, const BenchOptions& options);

} // namespace modelctl
