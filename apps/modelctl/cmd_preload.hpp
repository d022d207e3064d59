#pragma once
// `modelctl preload [--at now|HH:MM] [--dry-run]`: load, into free memory
// within the budget, the models that history says are likely to be used in
// the coming hour, so that a cron line before working hours removes the
// first cold start.

#include "context.hpp"

#include <CLI/CLI.hpp>

#include <string>

namespace modelctl {

struct PreloadOptions {
    std::string at = "now"; // or HH:MM, local time, its next occurrence
    std::string memory;
    bool dry_run = false;
};

void setup_preload(CLI::App& app, Context& ctx);
int run_preload(Context& ctx, const PreloadOptions& options);

} // namespace modelctl
