#include "cmd_run.hpp"

#include "error.hpp"
#include "load_plan.hpp"
#include "output.hpp"
#include "progress.hpp"
#include "recommend/recommend.hpp"
#include "registry/registry.hpp"
#include "util/text.hpp"

#include <cstdio>
#include <iostream>
#include <iterator>
#include <memory>

namespace modelctl {

using json = nlohmann::ordered_json;
namespace registry = core::registry;

void setup_run(CLI::App& app, Context& ctx) {
    auto opts = std::make_shared<RunOptions>();
    auto* sub = app.add_subcommand(
        "run", "Load a model if needed (by the policy), stream its answer, record the use");
    sub->add_option("model", opts->model, "The model, e.g. llama3.2:3b")->required();
    sub->add_option("prompt", opts->prompt, "The prompt; - or nothing: read it from stdin");
    sub->add_option("--task", opts->task,
                    "Tag the use: chat, coding, vision, embedding, reasoning or tools");
    sub->add_option("-k,--keep-alive", opts->keep_alive,
                    "How long to keep the model loaded afterwards: 30m, forever (default: as "
                    "it was loaded, else the config's, else the server's)");
    sub->add_option("--memory", opts->memory,
                    "Memory budget for loaded models, e.g. 24GB (default: config and probes)");
    sub->add_flag("--no-evict", opts->no_evict,
                  "Refuse (exit 4) rather than unload other models to make room");
    sub->callback([&ctx, opts] { ctx.exit_code = run_run(ctx, *opts); });
}

namespace {

std::string read_prompt(const Context& ctx, const RunOptions& o) {
    bool from_stdin = o.prompt.empty() || (o.prompt.size() == 1 && o.prompt[0] == "-");
    std::string prompt;
    if (from_stdin) {
        if (o.prompt.empty() && ctx.stdin_tty)
            throw core::Error(core::ErrorKind::Usage, "run needs a PROMPT",
                              "give it as arguments, or pipe it: echo hi | modelctl run " +
                                  o.model);
        prompt.assign(std::istreambuf_iterator<char>(std::cin), {});
    } else {
        for (const auto& word : o.prompt)
            prompt += (prompt.empty() ? "" : " ") + word;
    }
    if (prompt.find_first_not_of(" \t\r\n") == std::string::npos)
        throw core::Error(core::ErrorKind::Usage, "the prompt is empty",
                          "to load a model without a prompt, use modelctl load");
    return prompt;
}

json metrics_json(const registry::UseOutcome& u) {
    const auto& m = u.metrics;
    return {{"latency_ms", u.latency_ms},
            {"ttft_ms", u.ttft_ms ? json(*u.ttft_ms) : json(nullptr)},
            {"tokens_in", m.prompt_eval_count},
            {"tokens_out", m.eval_count},
            {"tokens_per_second", m.tokens_per_second()},
            {"prompt_tokens_per_second", m.prompt_tokens_per_second()},
            {"total_duration_ms", static_cast<double>(m.total_duration) / 1e6},
            {"load_duration_ms", static_cast<double>(m.load_duration) / 1e6},
            {"prompt_eval_duration_ms", static_cast<double>(m.prompt_eval_duration) / 1e6},
            {"eval_duration_ms", static_cast<double>(m.eval_duration) / 1e6},
            {"done_reason", m.done_reason}};
}

} // namespace

int run_run(Context& ctx, const RunOptions& o) {
    if (!o.task.empty() && !core::recommend::parse_task(o.task))
        throw core::Error(core::ErrorKind::Usage, "unknown task '" + o.task + "'",
                          "one of " + std::string(core::recommend::kTaskNames));
    std::map<std::string, core::config::Flag> flags;
    if (!o.keep_alive.empty())
        flags["keep_alive"] = {"--keep-alive", o.keep_alive};
    if (!o.memory.empty())
        flags["budget.memory"] = {"--memory", o.memory};
    const auto& cfg = ctx.config(flags);
    std::string prompt = read_prompt(ctx, o);
    auto provider = ctx.provider();
    auto store = ctx.store();
    registry::Registry reg(*provider, store);

    // Before anything is evicted or recorded.
    core::operations::require_capability(*provider, o.model, "completion");
    auto lp = plan_loads(ctx, *provider, reg, cfg, {o.model});
    lp.require_feasible();
    lp.refuse_evictions(o.no_evict);
    json evicted = evict(ctx, reg, lp.plan, std::cerr);
    const auto& w = lp.wanted.front();
    auto settings = core::operations::load_settings(cfg, w, !o.keep_alive.empty());
    json load = nullptr;
    if (!w.loaded) {
        Progress progress(ctx.show_progress());
        progress.start("loading " + w.model);
        auto r = reg.load(w.model, settings, /*as_use=*/false);
        progress.stop();
        load = {
            {"seconds", r.seconds},
            {"observed", r.observed ? loaded_json(*r.observed, core::util::now()) : json(nullptr)}};
        ctx.note("loaded " + w.model + " in " + elapsed_text(r.seconds));
    }

    core::provider::GenerateRequest req;
    req.model = w.model;
    req.prompt = prompt;
    req.num_ctx = settings.num_ctx;
    req.keep_alive = core::operations::request_keep_alive(store, w, settings);

    std::string response;
    char last = '\n';
    core::util::PrintableStream terminal;
    Progress waiting(ctx.show_progress());
    waiting.start("waiting for " + w.model);
    auto use = reg.generate(req, o.task, [&](std::string_view text) {
        if (ctx.global.json) {
            response += text;
            return;
        }
        waiting.stop();
        // On a terminal, the model's text cannot move the cursor, clear the
        // screen or retitle the window: controls but newlines and tabs are
        // escaped. A pipe gets the text as the model wrote it.
        std::string shown = ctx.stdout_tty ? terminal.feed(text) : std::string(text);
        std::fwrite(shown.data(), 1, shown.size(), stdout);
        std::fflush(stdout);
        last = text.back();
    });
    waiting.stop();
    if (auto rest = terminal.finish(); !rest.empty())
        std::fwrite(rest.data(), 1, rest.size(), stdout);
    if (!ctx.global.json && last != '\n')
        std::fputc('\n', stdout);

    auto metrics = metrics_json(use);
    if (ctx.global.json) {
        print_json({{"schema", "modelctl.run/v2"},
                    {"server", server_json(*provider)},
                    {"model", w.model},
                    {"task", o.task.empty() ? json(nullptr) : json(o.task)},
                    {"response", response},
                    {"load", load},
                    {"evicted", evicted},
                    {"metrics", metrics}});
    } else {
        char line[256];
        std::snprintf(line, sizeof line,
                      "%lld tokens in %s (%.1f tok/s); first token after %.0f ms; prompt %lld "
                      "tokens (%.1f tok/s)",
                      static_cast<long long>(use.metrics.eval_count),
                      elapsed_text(use.latency_ms / 1000).c_str(),
                      metrics["tokens_per_second"].get<double>(), use.ttft_ms.value_or(0),
                      static_cast<long long>(use.metrics.prompt_eval_count),
                      metrics["prompt_tokens_per_second"].get<double>());
        ctx.note(line);
    }
    return 0;
}

} // namespace modelctl
