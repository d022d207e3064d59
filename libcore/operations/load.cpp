#include "operations/load.hpp"

#include "util/timestamp.hpp"

#include <algorithm>

namespace core::operations {

Error LoadPlan::refusal() const {
    std::string hint;
    switch (plan.refused) {
    case policy::Refusal::Count:
        hint = "unload or unpin a model, or raise budget.max_loaded";
        break;
    case policy::Refusal::Memory:
        hint = "unpin a model (modelctl unpin), or raise the budget with --memory";
        break;
    case policy::Refusal::TooLarge:
    case policy::Refusal::None:
        hint = "raise the budget with --memory or budget.memory, or choose a smaller model";
        break;
    }
    return Error(ErrorKind::Refused, "cannot load: " + plan.refusal, hint);
}

void LoadPlan::require_feasible() const {
    if (!plan.feasible())
        throw refusal();
}

void LoadPlan::refuse_evictions(bool no_evict) const {
    if (!no_evict || plan.evict.empty())
        return;
    std::string names;
    for (const auto& v : plan.evict)
        names += (names.empty() ? "" : ", ") + v.name;
    throw Error(ErrorKind::Refused,
                "not enough room without unloading " + names + " (--no-evict): " + plan.need,
                "drop --no-evict to let the policy make room; modelctl load --dry-run "
                "shows the plan");
}

LoadPlan plan_loads(provider::Provider& server, registry::Registry& reg, const config::Config& cfg,
                    const BudgetFn& budget, const std::vector<std::string>& models,
                    bool missing_fails, const std::set<std::string>& keep) {
    auto now = util::now();
    auto loaded = server.loaded();
    auto state = reg.observe(loaded, now);
    LoadPlan lp;
    lp.wanted = describe_wanted(server, models, loaded, state, cfg, now,
                                missing_fails ? nullptr : &lp.missing);
    lp.budget = budget(loaded);
    std::vector<policy::Want> wants;
    for (const auto& w : lp.wanted)
        wants.push_back({w.model, w.estimate.bytes});
    auto resident = residents(loaded, state, cfg, server.kind(), now);
    for (auto& r : resident)
        r.pinned = r.pinned || keep.count(r.name);
    lp.plan =
        policy::plan_load(resident, wants, lp.budget.budget, epoch_seconds(now), policy::Params{});
    return lp;
}

provider::ModelInfo require_capability(provider::Provider& server, const std::string& model,
                                       const std::string& capability) {
    auto info = server.show(model);
    const auto& caps = info.capabilities;
    if (caps.empty() || std::find(caps.begin(), caps.end(), capability) != caps.end())
        return info;
    std::string has;
    for (const auto& c : caps)
        has += (has.empty() ? "" : ", ") + c;
    bool generate = capability == "completion";
    throw Error(ErrorKind::Failed,
                server.canonical(model) + " cannot " +
                    (generate ? std::string("generate text") : "do " + capability) +
                    ": the server lists its capabilities as " + has,
                generate ? "run and bench need a model that generates text, as modelctl recommend "
                           "lists them; modelctl health checks an embedding model"
                         : "");
}

provider::LoadSettings load_settings(const config::Config& cfg, const Wanted& w,
                                     bool keep_alive_flag) {
    provider::LoadSettings s{keep_alive_flag ? cfg.keep_alive : w.settings.keep_alive, 0};
    if (w.settings.num_ctx_own)
        s.num_ctx = w.settings.num_ctx;
    return s;
}

std::optional<util::KeepAlive> request_keep_alive(const store::Store& store, const Wanted& w,
                                                  const provider::LoadSettings& s) {
    if (s.keep_alive)
        return s.keep_alive;
    auto state = store.read();
    const auto* r = store::find_model(state, w.model);
    if (!r || !r->keep_alive_seconds)
        return std::nullopt;
    double secs = *r->keep_alive_seconds;
    return secs < 0 ? util::KeepAlive{true, {}} : util::KeepAlive{false, util::Seconds(secs)};
}

} // namespace core::operations
