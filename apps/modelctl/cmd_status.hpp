#pragma once
// `modelctl status`: what is loaded, where, until when, and what modelctl knows of it.

#include "context.hpp"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

namespace modelctl {

struct StatusOptions {
    bool all = false;            // also list installed models
    bool installed_only = false; // `list`: the installed models alone
    std::string format;          // text (default), json, prometheus
};

// `status` (alias `ps`, as ollama ps), and `list` (alias `ls`, as ollama
// list): the installed models alone.
void setup_status(CLI::App& app, Context& ctx);
void setup_list(CLI::App& app, Context& ctx);
// The status --json document (docs/JSON.md), as serve's /modelctl/v1/status
// answers it.
nlohmann::ordered_json status_json(Context& ctx, bool all);
int run_status(Context& ctx, const StatusOptions& options);

} // namespace modelctl
