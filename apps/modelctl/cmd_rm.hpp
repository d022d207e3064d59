#pragma once
// `modelctl rm MODEL...` (as ollama rm): deletes models from the server, with
// the version tags that keep their earlier versions, so their files go. A
// pinned or loaded model is refused (exit 4) unless --force, which unloads it
// first. --dry-run says what would go. The store keeps their history.

#include "context.hpp"

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace modelctl {

struct RmOptions {
    std::vector<std::string> models;
    bool force = false;
    bool dry_run = false;
};

void setup_rm(CLI::App& app, Context& ctx);
int run_rm(Context& ctx, const RmOptions& options);

} // namespace modelctl
