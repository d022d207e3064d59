#pragma once
// `modelctl stats [MODEL] [--since 7d]`: per-model usage figures.

#include "context.hpp"

#include <CLI/CLI.hpp>

#include <string>

namespace modelctl {

struct StatsOptions {
    std::string model; // empty: every model with recorded usage or loads
    std::string since; // empty: all time, from the summaries
};

void setup_stats(CLI::App& app, Context& ctx);
int run_stats(Context& ctx, const StatsOptions& options);

} // namespace modelctl
