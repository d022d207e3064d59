#pragma once
// `modelctl gc`: unload idle models, then get back under the memory budget;
// with --versions, delete the model versions beyond keep_versions instead.
// Made for cron: silent unless something was unloaded or failed; a second gc
// running at the same time exits 0 at once.

#include "context.hpp"
#include "policy/policy.hpp"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <functional>
#include <optional>
#include <set>
#include <string>

namespace modelctl {

struct GcOptions {
    std::string idle;   // empty: each model's idle timeout (config)
    std::string memory; // empty: the budget from the config and the probes
    bool dry_run = false;
    bool versions = false; // delete old versions instead of unloading
};

void setup_gc(CLI::App& app, Context& ctx);
int run_gc(Context& ctx, const GcOptions& options);

// How one endpoint's gc is carried out beside a command (serve's API: quiet,
// the models answering requests kept, each unload told).
struct GcRun {
    bool text = true;           // lines on stdout and stderr (unless -q or --json)
    std::set<std::string> keep; // never unloaded, as pins are not
    std::function<void(const core::policy::Victim&, const char* why)> unloaded;
};

// One endpoint's gc as `modelctl gc` does it; its JSON (an entry of the
// document's "endpoints"). Failures to unload a model are reported and set
// `code`; an endpoint that cannot be read throws.
nlohmann::ordered_json gc_endpoint(Context& ctx, const Endpoint& e, const GcOptions& o,
                                   const core::config::Config& cfg, const std::string& prefix,
                                   int& code, const GcRun& run = {});
// The modelctl.gc/v2 document over the endpoints' results; `primary` is the
// entry of the endpoint commands use, when visited.
nlohmann::ordered_json gc_document(const GcOptions& o, const nlohmann::ordered_json& results,
                                   const std::optional<nlohmann::ordered_json>& primary);

} // namespace modelctl
