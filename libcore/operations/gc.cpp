#include "operations/gc.hpp"

#include "error.hpp"
#include "operations/planning.hpp"

#include <cstdint>
#include <limits>
#include <set>

namespace core::operations {

GcPlan plan_gc(provider::Provider& server, registry::Registry& reg, const config::Config& cfg,
               const BudgetFn& budget, bool idle_given, const std::set<std::string>& keep) {
    auto now = util::now();
    auto loaded = server.loaded();
    auto state = reg.observe(loaded, now);
    GcPlan out;
    out.loaded = loaded.size();
    std::vector<double> timeouts;
    for (const auto& m : loaded) {
        auto eff = effective_settings(m.name, server.kind(), cfg, state); // the server's name
        timeouts.push_back(idle_given ? cfg.idle_timeout.count() : eff.idle_timeout.count());
    }
    try {
        out.budget = budget(loaded);
    } catch (const Error& err) {
        if (err.kind() != ErrorKind::Usage)
            throw;
        out.no_budget = err.what(); // a remote server without configured memory
    }
    auto resident = residents(loaded, state, cfg, server.kind(), now);
    for (auto& r : resident)
        r.pinned = r.pinned || keep.count(r.name);
    out.plan = policy::plan_gc(resident, timeouts,
                               out.budget ? out.budget->budget : policy::Budget{UINT64_MAX, 0},
                               epoch_seconds(now), policy::Params{});
    return out;
}

GcPlan plan_relief(provider::Provider& server, registry::Registry& reg, const config::Config& cfg,
                   uint64_t need, const std::set<std::string>& keep) {
    auto now = util::now();
    auto loaded = server.loaded();
    auto state = reg.observe(loaded, now);
    GcPlan out;
    out.loaded = loaded.size();
    auto resident = residents(loaded, state, cfg, server.kind(), now);
    uint64_t held = 0;
    for (auto& r : resident) {
        r.pinned = r.pinned || keep.count(r.name);
        held += r.bytes;
    }
    std::vector<double> never(resident.size(), std::numeric_limits<double>::infinity());
    policy::Budget budget{held > need ? held - need : 0, 0};
    out.plan = policy::plan_gc(resident, never, budget, epoch_seconds(now), policy::Params{});
    for (auto& v : out.plan.over_budget) // the policy's words, for this cause
        if (v.reason.rfind("over budget: ", 0) == 0)
            v.reason = "memory pressure: " + v.reason.substr(13);
    return out;
}

std::vector<VersionDrop> plan_version_gc(const std::vector<provider::InstalledModel>& installed,
                                         const store::State& state, const config::Config& cfg,
                                         const std::string& kind) {
    auto pinned = pinned_names(state, cfg, kind);
    std::set<std::string> names; // the models that may have versions
    for (const auto& m : installed)
        if (!versions::looks_like_version_tag(m.name))
            names.insert(m.name);
    for (const auto& [name, r] : state.models)
        for (const auto& v : r.versions)
            if (!v.tag.empty())
                names.insert(name); // its tags may outlive the name itself
    std::vector<VersionDrop> out;
    for (const auto& name : names) {
        const auto* record = store::find_model(state, name);
        int keep = effective_settings(name, kind, cfg, record).keep_versions;
        for (auto& v :
             versions::beyond_retention(versions::history(name, record, installed, pinned), keep))
            out.push_back({name, std::move(v), keep});
    }
    return out;
}

} // namespace core::operations
