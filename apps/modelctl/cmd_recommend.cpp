#include "cmd_recommend.hpp"

#include "commands.hpp"
#include "error.hpp"
#include "errors.hpp"
#include "operations/recommend.hpp"
#include "output.hpp"
#include "plan_output.hpp"
#include "recommend/recommend.hpp"
#include "registry/registry.hpp"
#include "util/size.hpp"

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
        ->check(positive_number());
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

    auto provider = ctx.provider();
    auto store = ctx.store();
    registry::Registry reg(*provider, store);
    auto input =
        core::operations::recommend_candidates(*provider, reg, ctx.config(), ctx.budget_fn());
    const auto& budget = input.budget;
    if (budget) {
        req.budget = budget->budget.bytes;
        req.bandwidth = rec::default_bandwidth(budget->pool);
    } else {
        ctx.note("no memory budget (" + input.no_budget + ")");
    }
    const auto& cands = input.candidates;
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
        print_json({{"schema", "modelctl.recommend/v2"},
                    {"server", server_json(*provider)},
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
