#include "serve/backend.hpp"

#include "operations/gc.hpp"
#include "operations/load.hpp"
#include "operations/preload.hpp"

#include <cstdio>

namespace core::serve {

util::KeepAlive serve_keep_alive(const operations::Effective& e) {
    return e.keep_alive ? *e.keep_alive : util::KeepAlive{true, {}};
}

provider::LoadSettings serve_load_settings(const config::Config& cfg,
                                           const operations::Wanted& wanted) {
    provider::LoadSettings s = operations::load_settings(cfg, wanted, false);
    s.keep_alive = serve_keep_alive(wanted.settings);
    return s;
}

std::vector<std::string> ServerBackend::loaded() {
    std::vector<std::string> names;
    auto now = util::now();
    for (const auto& m : server_.loaded())
        if (provider::classify_expiry(m.expires_at, now) != provider::Expiry::Stopping)
            names.push_back(m.name);
    return names;
}

Backend::Plan ServerBackend::plan(const std::string& model, const std::set<std::string>& keep) {
    auto lp = operations::plan_loads(server_, reg_, config_(), budget_, {model}, true, keep);
    Plan p;
    p.model = lp.wanted.front().model;
    planned_ = lp.wanted.front();
    if (!lp.plan.feasible()) {
        Error e = lp.refusal();
        p.refusal = std::string(e.what()) + (e.hint().empty() ? "" : " (" + e.hint() + ")");
        return p;
    }
    for (const auto& v : lp.plan.evict) {
        p.victims.push_back(v.name);
        p.reasons.push_back(v.reason);
    }
    return p;
}

void ServerBackend::unload(const std::string& model, const std::string&) {
    reg_.unload(model);
}

void ServerBackend::load(const std::string& model) {
    if (!planned_ || planned_->model != model)
        plan(model, {});
    reg_.load(model, serve_load_settings(config_(), *planned_),
              false); // the request's use is recorded by itself
}

Backend::Relief ServerBackend::relieve(const std::set<std::string>& keep) {
    Relief r;
    if (!pressure_)
        return r;
    auto p = pressure_();
    if (!p)
        return r;
    r.level = resources::level_name(p->level);
    r.reason = p->reason;
    if (p->level == resources::PressureLevel::Ok)
        return r;
    auto gp = operations::plan_relief(server_, reg_, config_(), p->need, keep);
    for (const auto& v : gp.plan.over_budget) {
        r.victims.push_back(v.name);
        r.reasons.push_back(v.reason + " (" + p->reason + ")");
    }
    return r;
}

std::vector<Backend::Preloaded> ServerBackend::preload(double at) {
    auto plan = operations::plan_preload(server_, reg_, config_(), budget_, at);
    std::vector<Preloaded> out;
    for (auto& step : plan.steps) {
        if (step.action != "load")
            continue;
        const auto& f = step.forecast;
        step.settings.keep_alive = serve_keep_alive(settings(f.model));
        char why[160];
        std::snprintf(why, sizeof why,
                      "preload: %.0f%% likely to be used this hour (%.1f uses expected)",
                      f.probability * 100, f.expected_uses);
        try {
            reg_.load(f.model, step.settings, /*as_use=*/false);
            out.push_back({f.model, why, true});
        } catch (const Error& e) {
            out.push_back({f.model, std::string("preload: ") + e.what(), false});
        }
    }
    return out;
}

operations::Effective ServerBackend::settings(const std::string& model) {
    return operations::effective_settings(model, server_.kind(), config_(), store_.read());
}

} // namespace core::serve
