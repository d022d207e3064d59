#pragma once
// gc's decisions for one endpoint: which loaded models to unload for
// idleness (each model's idle_timeout, or the one given for the run), then
// which to unload by the policy while the rest break the budget (memory or
// budget.max_loaded). Pinned models are never chosen.

#include "operations/endpoints.hpp"
#include "policy/policy.hpp"
#include "provider/provider.hpp"
#include "registry/registry.hpp"
#include "resources/resources.hpp"
#include "versions/versions.hpp"

#include <optional>
#include <set>
#include <string>
#include <vector>

namespace core::operations {

struct GcPlan {
    size_t loaded = 0;                             // models loaded before
    std::optional<resources::BudgetReport> budget; // none: no budget can be set (idle only)
    std::string no_budget;                         // why not, when none
    policy::GcPlan plan;
};

// `idle_given`: the config's idle_timeout was given for this run (--idle) and
// beats each model's own. Models in `keep` are never chosen, as pins are not
// (serve: models answering requests). Reads the server and the store; changes
// nothing but what observing the loaded models records.
GcPlan plan_gc(provider::Provider& server, registry::Registry& reg, const config::Config& cfg,
               const BudgetFn& budget, bool idle_given, const std::set<std::string>& keep = {});

// What to unload to free `need` bytes under memory pressure (serve's
// watcher): the policy's over-budget choice against a budget of what the
// loaded models hold minus `need`, with no idle unloads; never a pin, never
// a model in `keep`. A model's whole size counts as freed, wherever it sits.
GcPlan plan_relief(provider::Provider& server, registry::Registry& reg, const config::Config& cfg,
                   uint64_t need, const std::set<std::string>& keep);

// gc --versions: a version tag to delete, beyond its model's keep_versions.
struct VersionDrop {
    std::string model; // canonical
    versions::Version version;
    int keep = 0; // the model's keep_versions
};

// Every version tag beyond its model's keep_versions (pinned versions kept),
// for the models installed or with versions in the store's records, by name.
std::vector<VersionDrop> plan_version_gc(const std::vector<provider::InstalledModel>& installed,
                                         const store::State& state, const config::Config& cfg,
                                         const std::string& kind);

} // namespace core::operations
