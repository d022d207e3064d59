#include "load_plan.hpp"

#include "errors.hpp"
#include "output.hpp"
#include "plan_output.hpp"
#include "progress.hpp"

namespace modelctl {

using json = nlohmann::ordered_json;

core::operations::LoadPlan plan_loads(const Context& ctx, core::provider::Provider& server,
                                      core::registry::Registry& reg,
                                      const core::config::Config& cfg,
                                      const std::vector<std::string>& models, bool missing_fails) {
    return core::operations::plan_loads(server, reg, cfg, ctx.budget_fn(), models, missing_fails);
}

json plan_json(const core::operations::LoadPlan& lp) {
    const auto& plan = lp.plan;
    json doc = {{"budget", budget_json(lp.budget)},
                {"feasible", plan.feasible()},
                {"refusal", plan.feasible() ? json(nullptr) : json(plan.refusal)},
                {"need", plan.need.empty() ? json(nullptr) : json(plan.need)},
                {"used_before", plan.used_before},
                {"used_after", plan.used_after},
                {"models", json::array()},
                {"missing", json::array()},
                {"evict", json::array()}};
    for (const auto& w : lp.wanted)
        doc["models"].push_back({{"model", w.model},
                                 {"loaded", w.loaded},
                                 {"bytes", w.estimate.bytes},
                                 {"observed", w.estimate.observed},
                                 {"source", w.estimate.source}});
    for (const auto& m : lp.missing)
        doc["missing"].push_back({{"model", m.model}, {"error", error_json(m.error)}});
    for (const auto& v : plan.evict)
        doc["evict"].push_back(victim_json(v));
    return doc;
}

json load_result_json(const core::registry::LoadOutcome& r, core::util::Timestamp now) {
    return {{"model", r.model},
            {"ok", true},
            {"was_loaded", r.was_loaded},
            {"seconds", r.seconds},
            {"observed", r.observed ? loaded_json(*r.observed, now) : json(nullptr)}};
}

json evict(const Context& ctx, core::registry::Registry& reg, const core::policy::Plan& plan,
           std::ostream& out) {
    json evicted = json::array();
    for (const auto& v : plan.evict) {
        Progress progress(ctx.show_progress());
        progress.start("unloading " + v.name + " to make room");
        auto r = reg.unload(v.name);
        progress.stop();
        evicted.push_back({{"model", v.name}, {"freed", r.freed}, {"reason", v.reason}});
        if (!ctx.global.json && !ctx.global.quiet)
            out << "unloaded " << v.name << " to make room (" << v.reason << ")\n";
    }
    return evicted;
}

} // namespace modelctl
