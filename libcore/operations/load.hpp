#pragma once
// Planning loads: what the wanted models will take, the endpoint's memory
// budget, and the policy's plan (evictions with reasons, or a refusal). The
// one path that load, run, bench, health and preload share, and that a proxy
// will take for each request.

#include "operations/endpoints.hpp"
#include "operations/planning.hpp"
#include "policy/policy.hpp"
#include "registry/registry.hpp"
#include "resources/resources.hpp"

#include <optional>
#include <set>
#include <string>
#include <vector>

namespace core::operations {

struct LoadPlan {
    std::vector<Wanted> wanted;   // the models found, canonical names, in the order asked
    std::vector<Missing> missing; // the models the server lacks: left out, the others planned
    resources::BudgetReport budget;
    policy::Plan plan;

    // The refusal as an Error{Refused} with a hint, for a plan not feasible.
    Error refusal() const;
    // Throws refusal() when the plan is not feasible.
    void require_feasible() const;
    // With `no_evict`, throws Error{Refused} naming the models the plan would
    // unload, if any (--no-evict).
    void refuse_evictions(bool no_evict) const;
};

// Reads the server and the store (recording uses seen through expiry), then
// plans loading `models` together under the budget. A model the server lacks
// goes to `missing` unless `missing_fails` (then its Error{NotFound} is
// thrown, for commands about one model). Models in `keep` are never victims,
// as pins are not (serve: models answering requests).
LoadPlan plan_loads(provider::Provider& server, registry::Registry& reg, const config::Config& cfg,
                    const BudgetFn& budget, const std::vector<std::string>& models,
                    bool missing_fails = false, const std::set<std::string>& keep = {});

// The model's details, after checking that it can do what is asked
// ("completion": generate text). Throws Error{Failed} with a hint when the
// server says it cannot (an embedding model asked to generate), before
// anything is loaded or evicted; a server that lists no capabilities (an older
// Ollama) is taken at its word later. Error{NotFound} for a missing model.
provider::ModelInfo require_capability(provider::Provider& server, const std::string& model,
                                       const std::string& capability);

// How to load a wanted model: --keep-alive when given (`keep_alive_flag`),
// else the model's own or the global keep_alive; num_ctx when the config sets
// one for the model (else the server's default).
provider::LoadSettings load_settings(const config::Config& cfg, const Wanted& w,
                                     bool keep_alive_flag);

// The keep_alive to send with a request to a loaded model: every request sets
// the model's keep-alive anew (Ollama's default when absent), so without a
// setting of its own it is the one modelctl last loaded the model with.
std::optional<util::KeepAlive> request_keep_alive(const store::Store& store, const Wanted& w,
                                                  const provider::LoadSettings& s);

} // namespace core::operations
