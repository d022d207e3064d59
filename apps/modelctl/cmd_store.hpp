#pragma once
// `modelctl store [--repair]`: where the local store is and whether it is healthy.

#include "context.hpp"

#include <CLI/CLI.hpp>

namespace modelctl {

struct StoreOptions {
    bool repair = false; // move an unreadable state file aside
};

void setup_store(CLI::App& app, Context& ctx);
int run_store(Context& ctx, const StoreOptions& options);

} // namespace modelctl
