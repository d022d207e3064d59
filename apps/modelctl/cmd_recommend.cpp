#include "cmd_recommend.hpp"

#include "error.hpp"
#include "errors.hpp"
#include "operations/planning.hpp"
#include "output.hpp"
#include "plan_output.hpp"
#include "provider/ollama_api.hpp"
#include "recommend/recommend.hpp"
#include "registry/registry.hpp"
#include "util/size.hpp"
#include "versions/versions.hpp"

#include <cstdio>
#include <iostream>
#include <map>
#include <memory>

namespace modelctl {

using json = nlohmann::ordered_json;
namespace registry = core::registry;
namespace rec = core::recommend;

void setup_recommend(CLI::App& app, Context& ctx) {
    auto opts = std::make_shared<RecommendOptions>();
    auto* sub = app.add_subcommand(
        "recommend", "Rank installed models for a task by fit, capability and measured speed");
    sub->add_option("--task", opts->task,
                    "chat, coding, vision, embedding, reasoning or tools (default chat)");
    sub->add_option("--prefer", opts->prefer, "speed, quality or balanced (default balanced)");
    sub->add_option("--max-memory", opts->max_memory,
                    "Leave out models needing more memory than this, e.g. 8GB");
    sub->add_option("-n,--count", opts->count, "How many to show (default 3)")
        ->check(CLI::PositiveNumber);
    sub->callback([&ctx, opts] { ctx.exit_code = run_recommend(ctx, *opts); });
}

namespace {

const char* readiness_name(rec::Readiness r) {
    switch (r) {
    case rec::Readiness::Loaded:
        return "loaded";
    case rec::Readiness::Fits:
        return "fits";
    case rec::Readiness::Evicts:
        return "evicts";
    case rec::Readiness::Blocked:
        break;
    }
    return "blocked";
}

// A small, well-known model for each task, for the hint when none suits.
std::string example_model(rec::Task t) {
    switch (t) {
    case rec::Task::Vision:
        return "gemma3:4b";
    case rec::Task::Embedding:
        return "nomic-embed-text";
    case rec::Task::Coding:
        return "qwen2.5-coder:7b";
    case rec::Task::Reasoning:
        return "deepseek-r1:8b";
    case rec::Task::Tools:
        return "llama3.1:8b";
    case rec::Task::Chat:
        break;
    }
    return "llama3.2:3b";
}

} // namespace

int run_recommend(Context& ctx, const RecommendOptions& o) {
    rec::Request req;
    auto task = rec::parse_task(o.task);
    if (!task)
        throw core::Error(core::ErrorKind::Usage, "--task: unknown task '" + o.task + "'",
                          "one of " + std::string(rec::kTaskNames));
    req.task = *task;
    auto prefer = rec::parse_prefer(o.prefer);
    if (!prefer)
        throw core::Error(core::ErrorKind::Usage, "--prefer: '" + o.prefer + "' is not known",
                          "one of speed, quality, balanced");
    req.prefer = *prefer;
    if (!o.max_memory.empty()) {
        auto m = core::util::parse_size(o.max_memory);
        if (!m || *m == 0)
            throw core::Error(core::ErrorKind::Usage,
                              "--max-memory: '" + o.max_memory + "' is not a size", "e.g. 8GB");
        req.max_memory = *m;
    }
    req.count = o.count;

    const auto& cfg = ctx.config();
    auto provider = ctx.provider();
    auto store = ctx.store();
    registry::Registry reg(*provider, store);
    auto now = core::util::now();
    auto loaded = provider->loaded();
    auto state = reg.observe(loaded, now);
    auto installed = provider->installed();
    // A version tag keeps an earlier version of a model for rollback: not a
    // model of its own to recommend.
    std::erase_if(installed, [](const core::provider::InstalledModel& m) {
        return core::versions::looks_like_version_tag(m.name);
    });

    std::optional<core::resources::BudgetReport> budget;
    try {
        budget = ctx.budget(loaded);
        req.budget = budget->budget.bytes;
        req.bandwidth = rec::default_bandwidth(budget->pool);
    } catch (const core::Error& e) {
        if (e.kind() != core::ErrorKind::Usage)
            throw;
        ctx.note("no memory budget (" + std::string(e.what()) + ")");
    }
    auto residents = core::operations::residents(loaded, state, cfg, provider->kind(), now);
    double now_s = core::operations::epoch_seconds(now);

    std::vector<rec::Candidate> cands;
    for (const auto& m : installed) {
        rec::Candidate c;
        c.name = ctx.canonical(m.name);
        auto it = state.models.find(c.name);
        const core::store::ModelRecord* r = it == state.models.end() ? nullptr : &it->second;
        auto info = provider->show(m.name);
        c.capabilities = info.capabilities;
        c.details = info.details.family.empty() ? m.details : info.details;
        const core::provider::LoadedModel* live = nullptr;
        for (const auto& l : loaded)
            if (ctx.same_model(l.name, m.name) &&
                core::provider::classify_expiry(l.expires_at, now) !=
                    core::provider::Expiry::Stopping)
                live = &l;
        if (live) {
            c.bytes = live->size;
            c.bytes_source = "loaded now";
            c.readiness = rec::Readiness::Loaded;
        } else {
            auto eff = core::operations::effective_settings(c.name, provider->kind(), cfg, r);
            auto est = core::operations::estimate_memory(r, m.size, info.model_info, eff.num_ctx);
            c.bytes = est.bytes;
            c.bytes_source = est.source;
            if (budget) {
                auto plan = core::policy::plan_load(residents, {{c.name, c.bytes}}, budget->budget,
                                                    now_s, core::policy::Params{});
                c.readiness = !plan.feasible       ? rec::Readiness::Blocked
                              : plan.evict.empty() ? rec::Readiness::Fits
                                                   : rec::Readiness::Evicts;
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
        cands.push_back(std::move(c));
    }
    auto result = rec::rank(cands, req);

    // Left out, grouped by reason.
    std::map<std::string, std::vector<std::string>> left_out;
    for (const auto& e : result.excluded)
        left_out[e.reason].push_back(e.name);

    if (ctx.global.json) {
        json recs = json::array();
        int n = 0;
        for (const auto& r : result.ranked) {
            const auto& c = *r.candidate;
            recs.push_back({{"rank", ++n},
                            {"model", r.name},
                            {"score", r.score},
                            {"quality", r.quality},
                            {"speed", r.speed},
                            {"tokens_per_second", r.tokens_per_second},
                            {"tokens_per_second_source", !r.measured        ? "estimated"
                                                         : c.bench_runs > 0 ? "bench"
                                                                            : "measured"},
                            {"bytes", c.bytes},
                            {"bytes_source", c.bytes_source},
                            {"readiness", readiness_name(c.readiness)},
                            {"evicts", c.victims},
                            {"capabilities", c.capabilities},
                            {"parameter_size", c.details.parameter_size},
                            {"quantization_level", c.details.quantization_level},
                            {"uses", c.uses},
                            {"failures", c.failures},
                            {"reasons", r.reasons}});
        }
        json excluded = json::array();
        for (const auto& e : result.excluded)
            excluded.push_back({{"model", e.name}, {"reason", e.reason}});
        print_json({{"schema", "modelctl.recommend/v1"},
                    {"server", provider->address()},
                    {"task", rec::task_name(req.task)},
                    {"prefer", rec::prefer_name(req.prefer)},
                    {"max_memory", req.max_memory ? json(req.max_memory) : json(nullptr)},
                    {"budget", budget ? budget_json(*budget) : json(nullptr)},
                    {"history", result.history},
                    {"recommendations", recs},
                    {"excluded", excluded}});
    } else if (ctx.global.quiet) {
        for (const auto& r : result.ranked)
            std::cout << r.name << "\n";
    } else {
        std::cout << "For " << rec::task_name(req.task) << ", preferring "
                  << rec::prefer_name(req.prefer);
        if (req.max_memory)
            std::cout << ", at most " << core::util::format_size(req.max_memory);
        if (budget)
            std::cout << ", budget " << core::util::format_size(budget->budget.bytes);
        std::cout << ":\n";
        if (!result.history)
            std::cout << "(no usage history yet: ranked by size, parameters and capabilities; "
                         "`modelctl run` and `record` teach it)\n";
        int n = 0;
        for (const auto& r : result.ranked) {
            std::cout << "\n" << ++n << ". " << r.name << "  (score " << fixed(r.score, 2) << ")\n";
            for (const auto& why : r.reasons)
                std::cout << "   " << why << "\n";
        }
        if (!left_out.empty()) {
            std::cout << "\nLeft out:\n";
            for (const auto& [reason, names] : left_out) {
                std::string list;
                for (const auto& name : names)
                    list += (list.empty() ? "" : ", ") + name;
                std::cout << "   " << list << ": " << reason << "\n";
            }
        }
    }
    if (result.ranked.empty())
        return report("no installed model suits " + std::string(rec::task_name(req.task)) +
                          (req.max_memory ? " within " + core::util::format_size(req.max_memory)
                                          : std::string()),
                      "pull one that does, e.g. modelctl pull " + example_model(req.task), kFailed);
    return 0;
}

} // namespace modelctl
