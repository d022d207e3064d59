#pragma once
// `modelctl health [MODEL...]`: checks CI can gate on. The server answers
// (and its version); each model named is installed, loads (through the
// policy, as `load` would) and answers a one-token prompt (an embedding model:
// a one-line input) within --timeout. One line per check; exit 0 healthy,
// 1 unhealthy, 3 server unreachable. --loaded checks every loaded model too.

#include "context.hpp"

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace modelctl {

struct HealthOptions {
    std::vector<std::string> models;
    bool loaded = false;
    std::string timeout = "30s";
    std::string format; // text (default), json, prometheus
    bool no_evict = false;
};

void setup_health(CLI::App& app, Context& ctx);
int run_health(Context& ctx, const HealthOptions& options);

} // namespace modelctl
