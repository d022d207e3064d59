#include "operations/recommend.hpp"

#include "operations/planning.hpp"
#include "policy/policy.hpp"
#include "versions/versions.hpp"

namespace core::operations {

RecommendInput recommend_candidates(provider::Provider& server, registry::Registry& reg,
                                    const config::Config& cfg, const BudgetFn& budget) {
    RecommendInput out;
    auto now = util::now();
    auto loaded = server.loaded();
    auto state = reg.observe(loaded, now);
    auto installed = server.installed();
    // A version tag keeps an earlier version of a model for rollback: not a
    // model of its own to recommend.
    std::erase_if(installed, [](const provider::InstalledModel& m) {
        return versions::looks_like_version_tag(m.name);
    });
    try {
        out.budget = budget(loaded);
    } catch (const Error& e) {
        if (e.kind() != ErrorKind::Usage)
            throw;
        out.no_budget = e.what();
    }
    auto loaded_now = residents(loaded, state, cfg, server.kind(), now);
    double now_s = epoch_seconds(now);

    for (const auto& m : installed) {
        recommend::Candidate c;
        c.name = server.canonical(m.name);
        const store::ModelRecord* r = store::find_model(state, c.name);
        auto info = server.show(m.name);
        c.capabilities = info.capabilities;
        c.details = info.details.family.empty() ? m.details : info.details;
        const provider::LoadedModel* live = nullptr;
        for (const auto& l : loaded)
            if (server.same_model(l.name, m.name) &&
                provider::classify_expiry(l.expires_at, now) != provider::Expiry::Stopping)
                live = &l;
        if (live) {
            c.bytes = live->size;
            c.bytes_source = "loaded now";
            c.readiness = recommend::Readiness::Loaded;
        } else {
            auto eff = effective_settings(c.name, server.kind(), cfg, r);
            auto est = estimate_memory(r, m.size, info.model_info, eff.num_ctx);
            c.bytes = est.bytes;
            c.bytes_source = est.source;
            if (out.budget) {
                auto plan = policy::plan_load(loaded_now, {{c.name, c.bytes}}, out.budget->budget,
                                              now_s, policy::Params{});
                c.readiness = !plan.feasible()     ? recommend::Readiness::Blocked
                              : plan.evict.empty() ? recommend::Readiness::Fits
                                                   : recommend::Readiness::Evicts;
                for (const auto& v : plan.evict)
                    c.victims.push_back(v.name);
            }
        }
        if (r) {
            c.uses = r->usage.uses;
            c.failures = r->usage.failures;
            c.tokens_per_second = r->usage.tokens_per_second();
            c.latency_p50_ms = r->usage.latency.quantile(0.5);
            if (r->loads > 0)
                c.mean_load_seconds = r->load_seconds_total / r->loads;
            if (!r->bench.empty() && r->bench.back().tokens_per_second.median > 0) {
                c.tokens_per_second = r->bench.back().tokens_per_second.median;
                c.bench_runs = r->bench.back().settings.runs;
            }
        }
        out.candidates.push_back(std::move(c));
    }
    return out;
}

} // namespace core::operations
