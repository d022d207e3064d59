#pragma once
// The commands' side of load planning (operations/load.hpp): the endpoint's
// budget from the context, the plan's JSON, and carrying out its evictions
// with progress.

#include "context.hpp"
#include "operations/load.hpp"
#include "registry/registry.hpp"

#include <nlohmann/json.hpp>

#include <ostream>
#include <string>
#include <vector>

namespace modelctl {

// operations::plan_loads with the budget of the context's endpoint.
core::operations::LoadPlan plan_loads(const Context& ctx, core::provider::Provider& server,
                                      core::registry::Registry& reg,
                                      const core::config::Config& cfg,
                                      const std::vector<std::string>& models,
                                      bool missing_fails = true);

// The documented "plan" object of load's JSON (docs/JSON.md).
nlohmann::ordered_json plan_json(const core::operations::LoadPlan& lp);

// One entry of load's "results": {"model", "ok": true, "was_loaded", "seconds", "observed"}.
nlohmann::ordered_json load_result_json(const core::registry::LoadOutcome& r,
                                        core::util::Timestamp now);

// Unloads the plan's victims with a progress line each, telling `out` about
// every one unless -q or --json. Returns load's "evicted" JSON array.
nlohmann::ordered_json evict(const Context& ctx, core::registry::Registry& reg,
                             const core::policy::Plan& plan, std::ostream& out);

} // namespace modelctl
