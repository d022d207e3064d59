#include "load_plan.hpp"

#include "error.hpp"
#include "plan_output.hpp"
#include "progress.hpp"
#include "provider/ollama_api.hpp"

namespace modelctl {

using json = nlohmann::ordered_json;
namespace registry = core::registry;

std::string LoadPlan::refusal_hint() const {
    return plan.refusal.find("pinned") != std::string::npos
               ? "unpin a model (modelctl unpin), or raise the budget with --memory"
               : "raise the budget with --memory or budget.memory, or choose a smaller model";
}

void LoadPlan::require_feasible() const {
    if (!plan.feasible)
        throw core::Error(core::ErrorKind::Refused, "cannot load: " + plan.refusal, refusal_hint());
}

void LoadPlan::refuse_evictions(bool no_evict) const {
    if (!no_evict || plan.evict.empty())
        return;
    std::string names;
    for (const auto& v : plan.evict)
        names += (names.empty() ? "" : ", ") + v.name;
    throw core::Error(core::ErrorKind::Refused,
                      "not enough memory without unloading " + names + " (--no-evict)",
                      "drop --no-evict to let the policy make room; modelctl load --dry-run "
                      "shows the plan");
}

json LoadPlan::to_json() const {
    json doc = {{"budget", budget_json(budget)},
                {"feasible", plan.feasible},
                {"refusal", plan.feasible ? json(nullptr) : json(plan.refusal)},
                {"used_before", plan.used_before},
                {"used_after", plan.used_after},
                {"models", json::array()},
                {"evict", json::array()}};
    for (const auto& w : wanted)
        doc["models"].push_back({{"model", w.model},
                                 {"loaded", w.loaded},
                                 {"bytes", w.estimate.bytes},
                                 {"observed", w.estimate.observed},
                                 {"source", w.estimate.source}});
    for (const auto& v : plan.evict)
        doc["evict"].push_back(victim_json(v));
    return doc;
}

LoadPlan plan_loads(const Context& ctx, core::provider::Provider& server, registry::Registry& reg,
                    const core::config::Config& cfg, const std::vector<std::string>& models) {
    auto now = core::util::now();
    auto loaded = server.loaded();
    auto state = reg.observe(loaded, now);
    LoadPlan lp;
    lp.wanted = registry::describe_wanted(server, models, loaded, state, cfg, now);
    lp.budget = ctx.budget(loaded);
    std::vector<core::policy::Want> wants;
    for (const auto& w : lp.wanted)
        wants.push_back({w.model, w.estimate.bytes});
    lp.plan = core::policy::plan_load(registry::residents(loaded, state, cfg, now), wants,
                                      lp.budget.budget, registry::epoch_seconds(now),
                                      core::policy::Params{});
    return lp;
}

json evict(const Context& ctx, registry::Registry& reg, const core::policy::Plan& plan,
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

core::provider::LoadSettings load_settings(const core::config::Config& cfg,
                                           const registry::Wanted& w, bool keep_alive_flag) {
    core::provider::LoadSettings s{keep_alive_flag ? cfg.keep_alive : w.settings.keep_alive, 0};
    auto it = cfg.models.find(w.model);
    if (it != cfg.models.end() && it->second.num_ctx)
        s.num_ctx = *it->second.num_ctx;
    return s;
}

std::optional<core::util::KeepAlive> request_keep_alive(const core::store::Store& store,
                                                        const registry::Wanted& w,
                                                        const core::provider::LoadSettings& s) {
    if (s.keep_alive)
        return s.keep_alive;
    auto state = store.read();
    auto it = state.models.find(w.model);
    if (it == state.models.end() || !it->second.keep_alive_seconds)
        return std::nullopt;
    double secs = *it->second.keep_alive_seconds;
    return secs < 0 ? core::util::KeepAlive{true, {}}
                    : core::util::KeepAlive{false, core::util::Seconds(secs)};
}

} // namespace modelctl
