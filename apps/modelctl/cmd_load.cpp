#include "cmd_load.hpp"

#include "errors.hpp"
#include "load_plan.hpp"
#include "output.hpp"
#include "progress.hpp"
#include "registry/registry.hpp"
#include "util/duration.hpp"
#include "util/size.hpp"
#include "util/text.hpp"

#include <algorithm>
#include <charconv>
#include <iostream>
#include <memory>

namespace modelctl {

using json = nlohmann::ordered_json;
namespace registry = core::registry;

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
    sub->add_option("--ctx", opts->ctx,
                    "Context length to load them at, or max: the largest that fits the budget "
                    "and the model (default: the config's num_ctx, else the server's)");
    sub->callback([&ctx, opts] { ctx.exit_code = run_load(ctx, *opts); });
}

namespace {

// --ctx max: the largest context length, a multiple of 1024 (at least
// 2048), up to the model's own, at which the estimate of what it takes fits
// the whole budget (what the policy may evict to make room included). The
// model's own maximum when the server says nothing of its KV cache.
int max_context(Context& ctx, core::provider::Provider& server, const core::store::State& state,
                const std::string& model, std::string& why) {
    auto info = server.show(model);
    auto own_length = core::operations::architecture_number(info.model_info, "context_length");
    int64_t own = static_cast<int64_t>(own_length.value_or(0));
    if (own <= 0)
        throw core::Error(core::ErrorKind::Failed,
                          "the server does not say the longest context " + model + " takes",
                          "give a number: --ctx 8192");
    uint64_t size = 0;
    for (const auto& m : server.installed())
        if (server.same_model(m.name, model))
            size = m.size;
    uint64_t budget = ctx.budget(server.loaded()).budget.bytes;
    const auto* record = core::store::find_model(state, server.canonical(model));
    return core::operations::largest_context(record, size, info.model_info, own, budget,
                                             "the budget of " + core::util::format_size(budget),
                                             why);
}

} // namespace

int run_load(Context& ctx, const LoadOptions& o) {
    std::map<std::string, core::config::Flag> flags;
    if (!o.keep_alive.empty())
        flags["keep_alive"] = {"--keep-alive", o.keep_alive};
    if (!o.memory.empty())
        flags["budget.memory"] = {"--memory", o.memory};
    core::config::Config cfg = ctx.config(flags); // --ctx changes the models' settings below
    auto provider = ctx.provider();
    auto store = ctx.store();
    if (!o.ctx.empty()) {
        // For this command the flag wins over the config's num_ctx, the
        // model's own included: each model named gets an entry that keeps
        // the rest of its settings.
        int fixed_ctx = 0;
        if (o.ctx != "max") {
            auto [p, ec] = std::from_chars(o.ctx.data(), o.ctx.data() + o.ctx.size(), fixed_ctx);
            if (ec != std::errc() || p != o.ctx.data() + o.ctx.size() || fixed_ctx < 1 ||
                fixed_ctx > 16 * 1024 * 1024)
                throw core::Error(core::ErrorKind::Usage,
                                  "--ctx: '" + core::util::printable(o.ctx) +
                                      "' is not a context length",
                                  "a number of tokens such as 8192, or max");
        }
        auto state = store.read();
        for (const auto& m : o.models) {
            std::string name = provider->canonical(m);
            std::string why = "--ctx " + o.ctx;
            int n = fixed_ctx ? fixed_ctx : max_context(ctx, *provider, state, m, why);
            core::operations::set_num_ctx(cfg, provider->kind(), name, n);
            if (o.ctx == "max" && !ctx.global.json && !ctx.global.quiet)
                std::cout << name << ": context " << n << ", " << why << "\n";
        }
    }
    // LM Studio's load API takes no TTL: a model it loads stays until unloaded.
    if (!o.keep_alive.empty() && provider->kind() == "lmstudio" && !ctx.global.quiet)
        std::cerr << "modelctl: warning: LM Studio keeps a loaded model until it is unloaded; "
                     "--keep-alive does not apply (modelctl gc unloads idle models)\n";
    registry::Registry reg(*provider, store);
    // A model the server lacks is reported; the others are still loaded.
    auto lp = plan_loads(ctx, *provider, reg, cfg, o.models, false);
    const auto& plan = lp.plan;
    json plan_doc = plan_json(lp);
    int code = 0;
    json results = json::array();
    for (const auto& m : lp.missing)
        results.push_back(failed_model(m.error, m.model, code));

    if (o.dry_run) {
        if (ctx.global.json) {
            print_json({{"schema", "modelctl.load/v2"},
                        {"server", server_json(*provider)},
                        {"dry_run", true},
                        {"plan", plan_doc},
                        {"results", results}});
        } else if (!ctx.global.quiet) {
            std::cout << "Budget: " << core::util::format_size(lp.budget.budget.bytes) << " ("
                      << lp.budget.explanation << ")\n";
            for (const auto& w : lp.wanted)
                std::cout << (w.loaded ? "keep " : "load ") << w.model << ": "
                          << core::util::format_size(w.estimate.bytes) << ", " << w.estimate.source
                          << "\n";
            if (!plan.need.empty())
                std::cout << "Room needed: " << plan.need << ".\n";
            for (const auto& v : plan.evict)
                std::cout << "evict " << v.name << ": " << v.reason << "\n";
            if (plan.feasible())
                std::cout << "Memory held: " << core::util::format_size(plan.used_before)
                          << " now, " << core::util::format_size(plan.used_after)
                          << " after. Nothing was changed (--dry-run).\n";
        }
        if (!plan.feasible())
            return report(lp.refusal());
        return code;
    }
    lp.require_feasible();
    lp.refuse_evictions(o.no_evict);

    json evicted = evict(ctx, reg, plan, std::cout);
    for (const auto& w : lp.wanted) {
        Progress progress(ctx.show_progress());
        progress.start("loading " + w.model);
        try {
            auto r =
                reg.load(w.model, core::operations::load_settings(cfg, w, !o.keep_alive.empty()));
            progress.stop();
            auto after = core::util::now();
            results.push_back(load_result_json(r, after));
            if (ctx.global.json || ctx.global.quiet)
                continue;
            std::string where;
            if (r.observed)
                where = loaded_text(*r.observed, after);
            if (r.was_loaded)
                std::cout << r.model << " was already loaded"
                          << (r.observed && !r.observed->expiry_reported ? ""
                                                                         : "; keep-alive refreshed")
                          << " (" << where << ")\n";
            else
                std::cout << "loaded " << r.model << " in " << elapsed_text(r.seconds) << " ("
                          << where << ")\n";
        } catch (const core::Error& e) {
            progress.stop();
            results.push_back(model_failure(e, w.model, code));
        }
    }
    if (ctx.global.json) {
        // Results in the order the models were asked for.
        auto position = [&](const json& r) {
            auto name = r["model"].get<std::string>();
            for (size_t i = 0; i < o.models.size(); ++i)
                if (provider->same_model(o.models[i], name))
                    return i;
            return o.models.size();
        };
        std::stable_sort(results.begin(), results.end(),
                         [&](const json& a, const json& b) { return position(a) < position(b); });
        plan_doc["evicted"] = evicted;
        print_json({{"schema", "modelctl.load/v2"},
                    {"server", server_json(*provider)},
                    {"dry_run", false},
                    {"plan", plan_doc},
                    {"results", results}});
    }
    return code;
}

} // namespace modelctl
