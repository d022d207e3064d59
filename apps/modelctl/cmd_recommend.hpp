#pragma once
// `modelctl recommend [--task T] [--prefer P] [--max-memory SIZE] [-n N]`:
// installed models ranked for a task on this machine, each with its reasons.

#include "context.hpp"

#include <CLI/CLI.hpp>

#include <string>

namespace modelctl {

struct RecommendOptions {
    std::string task = "chat";
    std::string prefer = "balanced";
    std::string max_memory; // empty: only the budget limits
    size_t count = 3;
};

void setup_recommend(CLI::App& app, Context& ctx);
int run_recommend(Context& ctx, const RecommendOptions& options);

} // namespace modelctl
