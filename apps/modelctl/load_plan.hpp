#pragma once
// The path that load, run and preload share: what the wanted models will take,
// the memory budget, the policy's plan, and carrying out its evictions.

#include "context.hpp"
#include "policy/policy.hpp"
#include "registry/planning.hpp"
#include "registry/registry.hpp"
#include "resources/resources.hpp"

#include <nlohmann/json.hpp>

#include <ostream>
#include <string>
#include <vector>

namespace modelctl {

struct LoadPlan {
    std::vector<core::registry::Wanted> wanted;
    core::resources::BudgetReport budget;
    core::policy::Plan plan;

    // Throws Error{Refused} with the plan's refusal and a hint when it is not
    // feasible.
    void require_feasible() const;
    // With `no_evict`, throws Error{Refused} naming the models the plan would
    // unload, if any (--no-evict).
    void refuse_evictions(bool no_evict) const;
    std::string refusal_hint() const;
    // The documented "plan" object of load's JSON (docs/JSON.md).
    nlohmann::ordered_json to_json() const;
};

// Reads the server and the store (recording uses seen through expiry), then
// plans loading `models` together under the budget.
LoadPlan plan_loads(const Context& ctx, core::provider::Provider& server,
                    core::registry::Registry& reg, const core::config::Config& cfg,
                    const std::vector<std::string>& models);

// Unloads the plan's victims with a progress line each, telling `out` about
// every one unless -q or --json. Returns load's "evicted" JSON array.
nlohmann::ordered_json evict(const Context& ctx, core::registry::Registry& reg,
                             const core::policy::Plan& plan, std::ostream& out);

// How to load a wanted model: --keep-alive when given (`keep_alive_flag`),
// else the model's own or the global keep_alive; num_ctx only when the config
// sets one for the model (else the server's default).
core::provider::LoadSettings load_settings(const core::config::Config& cfg,
                                           const core::registry::Wanted& w, bool keep_alive_flag);

// The keep_alive to send with a request to a loaded model: every request sets
// the model's keep-alive anew (Ollama's default when absent), so without a
// setting of its own it is the one modelctl last loaded the model with.
std::optional<core::util::KeepAlive> request_keep_alive(const core::store::Store& store,
                                                        const core::registry::Wanted& w,
                                                        const core::provider::LoadSettings& s);

} // namespace modelctl
