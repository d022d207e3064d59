#include "operations/gc.hpp"

#include "error.hpp"
#include "operations/planning.hpp"

#include <cstdint>
#include <limits>
#include <set>

namespace core::operations {

namespace {

// What gc decides on: the loaded models as the policy sees them (observed,
// so the store learns their sizes), models in `keep` held as pins are.
struct Loaded {
    util::Timestamp now;
    std::vector<provider::LoadedModel> models;
    store::State state;
    std::vector<policy::Resident> resident;
};

Loaded gather(provider::Provider& server, registry::Registry& reg, const config::Config& cfg,
              const std::set<std::string>& keep) {
    Loaded l;
    l.now = util::now();
    l.models = server.loaded();
    l.state = reg.observe(l.models, l.now);
    l.resident = residents(l.models, l.state, cfg, server.kind(), l.now);
    for (auto& r : l.resident)
        r.pinned = r.pinned || keep.count(r.name);
    return l;
}

} // namespace

GcPlan plan_gc(provider::Provider& server, registry::Registry& reg, const config::Config& cfg,
               const BudgetFn& budget, bool idle_given, const std::set<std::string>& keep) {
    auto l = gather(server, reg, cfg, keep);
    GcPlan out;
    out.loaded = l.models.size();
    std::vector<double> timeouts;
    for (const auto& m : l.models) {
        auto eff = effective_settings(m.name, server.kind(), cfg, l.state); // the server's name
        timeouts.push_back(idle_given ? cfg.idle_timeout.count() : eff.idle_timeout.count());
    }
    try {
        out.budget = budget(l.models);
    } catch (const Error& err) {
        if (err.kind() != ErrorKind::Usage)
            throw;
        out.no_budget = err.what(); // a remote server without configured memory
    }
    out.plan = policy::plan_gc(l.resident, timeouts,
                               out.budget ? out.budget->budget : policy::Budget{UINT64_MAX, 0},
                               epoch_seconds(l.now), policy::Params{});
    return out;
}

GcPlan plan_relief(provider::Provider& server, registry::Registry& reg, const config::Config& cfg,
                   uint64_t need, const std::set<std::string>& keep) {
    auto l = gather(server, reg, cfg, keep);
    GcPlan out;
    out.loaded = l.models.size();
    uint64_t held = 0;
    for (const auto& r : l.resident)
        held += r.bytes;
    std::vector<double> never(l.resident.size(), std::numeric_limits<double>::infinity());
    policy::Budget budget{held > need ? held - need : 0, 0};
    out.plan = policy::plan_gc(l.resident, never, budget, epoch_seconds(l.now), policy::Params{},
                               "memory pressure");
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
