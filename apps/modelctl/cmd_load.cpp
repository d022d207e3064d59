#include "cmd_load.hpp"

#include "errors.hpp"
#include "output.hpp"
#include "plan_output.hpp"
#include "progress.hpp"
#include "provider/ollama_api.hpp"
#include "registry/planning.hpp"
#include "registry/registry.hpp"
#include "util/duration.hpp"
#include "util/size.hpp"

#include <cstdio>
#include <iostream>
#include <memory>

namespace modelctl {

using json = nlohmann::ordered_json;
namespace registry = core::registry;
namespace policy = core::policy;

void setup_load(CLI::App& app, Context& ctx) {
    auto opts = std::make_shared<LoadOptions>();
    auto* sub = app.add_subcommand(
        "load", "Load models, evicting others by the policy when memory is short");
    sub->add_option("models", opts->models, "Models to load, e.g. llama3.2:3b")->required();
    sub->add_option("-k,--keep-alive", opts->keep_alive,
                    "How long to keep them loaded when idle: 30m, 2h, forever, 0 (default: the "
                    "config's, else the server's, 5m)");
    sub->add_option("--memory", opts->memory,
                    "Memory budget for loaded models, e.g. 24GB (default: config and probes)");
    sub->add_flag("-n,--dry-run", opts->dry_run, "Print the plan with its reasons; change nothing");
    sub->add_flag("--no-evict", opts->no_evict,
                  "Refuse (exit 4) rather than unload other models to make room");
    sub->callback([&ctx, opts] { ctx.exit_code = run_load(ctx, *opts); });
}

namespace {

struct Wanted {
    std::string model;
    registry::Effective settings;
    registry::Estimate estimate;
    bool loaded = false;
};

json wanted_json(const Wanted& w) {
    return {{"model", w.model},
            {"loaded", w.loaded},
            {"bytes", w.estimate.bytes},
            {"observed", w.estimate.observed},
            {"source", w.estimate.source}};
}

} // namespace

int run_load(Context& ctx, const LoadOptions& o) {
    std::map<std::string, core::config::Flag> flags;
    if (!o.keep_alive.empty())
        flags["keep_alive"] = {"--keep-alive", o.keep_alive};
    if (!o.memory.empty())
        flags["budget.memory"] = {"--memory", o.memory};
    const auto& cfg = ctx.config(flags);
    auto provider = ctx.provider();
    auto store = ctx.store();
    registry::Registry reg(*provider, store);

    auto now = core::util::now();
    auto loaded = provider->loaded();
    auto state = reg.observe(loaded, now);

    // What each model will take: as loaded, as observed before, or estimated.
    std::vector<Wanted> wanted;
    std::vector<core::provider::InstalledModel> installed;
    for (const auto& name : o.models) {
        Wanted w;
        w.model = core::provider::ollama::normalize_name(name);
        auto rec = state.models.find(w.model);
        const core::store::ModelRecord* r = rec == state.models.end() ? nullptr : &rec->second;
        w.settings = registry::effective_settings(w.model, cfg, r);
        for (const auto& m : loaded)
            if (core::provider::ollama::same_model(m.name, name) &&
                core::provider::classify_expiry(m.expires_at, now) !=
                    core::provider::Expiry::Stopping) {
                w.loaded = true;
                w.estimate = {m.size, true, "loaded now"};
            }
        if (!w.loaded) {
            if (installed.empty())
                installed = provider->installed();
            uint64_t file_size = 0;
            bool found = false;
            for (const auto& m : installed)
                if (core::provider::ollama::same_model(m.name, name)) {
                    file_size = m.size;
                    found = true;
                }
            if (!found)
                throw core::Error(core::ErrorKind::NotFound,
                                  "model '" + name + "' is not installed on the server at " +
                                      provider->address(),
                                  "pull it first: ollama pull " + name);
            auto info = provider->show(name);
            w.estimate =
                registry::estimate_memory(r, file_size, info.model_info, w.settings.num_ctx);
        }
        wanted.push_back(w);
    }

    auto budget = ctx.budget(loaded);
    std::vector<policy::Want> wants;
    for (const auto& w : wanted)
        wants.push_back({w.model, w.estimate.bytes});
    auto plan = policy::plan_load(registry::residents(loaded, state, cfg, now), wants,
                                  budget.budget, registry::epoch_seconds(now), policy::Params{});

    json plan_doc = {{"budget", budget_json(budget)},
                     {"feasible", plan.feasible},
                     {"refusal", plan.feasible ? json(nullptr) : json(plan.refusal)},
                     {"used_before", plan.used_before},
                     {"used_after", plan.used_after},
                     {"models", json::array()},
                     {"evict", json::array()}};
    for (const auto& w : wanted)
        plan_doc["models"].push_back(wanted_json(w));
    for (const auto& v : plan.evict)
        plan_doc["evict"].push_back(victim_json(v));

    std::string refusal_hint =
        plan.refusal.find("pinned") != std::string::npos
            ? "unpin a model (modelctl unpin), or raise the budget with --memory"
            : "raise the budget with --memory or budget.memory, or choose a smaller model";
    if (o.dry_run) {
        if (ctx.global.json) {
            print_json({{"schema", "modelctl.load/v1"},
                        {"server", provider->address()},
                        {"dry_run", true},
                        {"plan", plan_doc},
                        {"results", json::array()}});
        } else if (!ctx.global.quiet) {
            std::cout << "Budget: " << core::util::format_size(budget.budget.bytes) << " ("
                      << budget.explanation << ")\n";
            for (const auto& w : wanted)
                std::cout << (w.loaded ? "keep " : "load ") << w.model << ": "
                          << core::util::format_size(w.estimate.bytes) << ", " << w.estimate.source
                          << "\n";
            for (const auto& v : plan.evict)
                std::cout << "evict " << v.name << ": " << v.reason << "\n";
            if (plan.feasible)
                std::cout << "Memory held: " << core::util::format_size(plan.used_before)
                          << " now, " << core::util::format_size(plan.used_after)
                          << " after. Nothing was changed (--dry-run).\n";
        }
        if (!plan.feasible)
            return report(plan.refusal, refusal_hint, kRefused);
        return 0;
    }
    if (!plan.feasible)
        throw core::Error(core::ErrorKind::Refused, "cannot load: " + plan.refusal, refusal_hint);
    if (o.no_evict && !plan.evict.empty()) {
        std::string names;
        for (const auto& v : plan.evict)
            names += (names.empty() ? "" : ", ") + v.name;
        throw core::Error(core::ErrorKind::Refused,
                          "not enough memory without unloading " + names + " (--no-evict)",
                          "drop --no-evict to let the policy make room; --dry-run shows why");
    }

    int code = 0;
    json evicted = json::array();
    for (const auto& v : plan.evict) {
        Progress progress(ctx.show_progress());
        progress.start("unloading " + v.name + " to make room");
        auto r = reg.unload(v.name);
        progress.stop();
        evicted.push_back({{"model", v.name}, {"freed", r.freed}, {"reason", v.reason}});
        if (!ctx.global.json && !ctx.global.quiet)
            std::cout << "unloaded " << v.name << " to make room (" << v.reason << ")\n";
    }
    json results = json::array();
    for (const auto& w : wanted) {
        Progress progress(ctx.show_progress());
        progress.start("loading " + w.model);
        try {
            // --keep-alive beats a model's keep_alive in the config file.
            core::provider::LoadSettings settings{
                o.keep_alive.empty() ? w.settings.keep_alive : cfg.keep_alive, 0};
            auto it = cfg.models.find(w.model);
            if (it != cfg.models.end() && it->second.num_ctx)
                settings.num_ctx = *it->second.num_ctx;
            auto r = reg.load(w.model, settings);
            progress.stop();
            auto after = core::util::now();
            results.push_back(
                {{"model", r.model},
                 {"ok", true},
                 {"was_loaded", r.was_loaded},
                 {"seconds", r.seconds},
                 {"observed", r.observed ? loaded_json(*r.observed, after) : json(nullptr)}});
            if (ctx.global.json || ctx.global.quiet)
                continue;
            std::string where;
            if (r.observed)
                where = core::util::format_size(r.observed->size) + ", " +
                        core::provider::processor_label(r.observed->size, r.observed->size_vram) +
                        ", until: " + until_text(r.observed->expires_at, after);
            if (r.was_loaded)
                std::cout << r.model << " was already loaded; keep-alive refreshed (" << where
                          << ")\n";
            else
                std::cout << "loaded " << r.model << " in " << elapsed_text(r.seconds) << " ("
                          << where << ")\n";
        } catch (const core::Error& e) {
            progress.stop();
            results.push_back(model_failure(e, w.model, code));
        }
    }
    if (ctx.global.json) {
        plan_doc["evicted"] = evicted;
        print_json({{"schema", "modelctl.load/v1"},
                    {"server", provider->address()},
                    {"dry_run", false},
                    {"plan", plan_doc},
                    {"results", results}});
    }
    return code;
}

} // namespace modelctl
