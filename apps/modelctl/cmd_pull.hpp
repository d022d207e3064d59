#pragma once
// `modelctl pull MODEL...`: pull the newest version of models, keeping the
// installed one under a version tag first so that `rollback` can return to it.
// A progress bar on a terminal, nothing but the outcome otherwise. Ctrl-C
// stops the pull and leaves the server's names and the store as they were.

#include "context.hpp"

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace modelctl {

struct PullOptions {
    std::vector<std::string> models;
};

void setup_pull(CLI::App& app, Context& ctx);
int run_pull(Context& ctx, const PullOptions& options);

} // namespace modelctl
