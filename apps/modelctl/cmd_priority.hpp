#pragma once
// `modelctl priority MODEL N`: 0..9, default 5; each step up makes the
// policy treat losing the model as sqrt(2) times costlier (docs/POLICY.md).

#include "context.hpp"

#include <CLI/CLI.hpp>

#include <string>

namespace modelctl {

struct PriorityOptions {
    std::string model;
    int priority = 5;
};

void setup_priority(CLI::App& app, Context& ctx);
int run_priority(Context& ctx, const PriorityOptions& options);

} // namespace modelctl
