#include "cmd_chain.hpp"

#include "commands.hpp"
#include "error.hpp"
#include "errors.hpp"
#include "load_plan.hpp"
#include "operations/chain.hpp"
#include "output.hpp"
#include "plan_output.hpp"
#include "progress.hpp"
#include "registry/registry.hpp"
#include "util/file.hpp"
#include "util/interrupt.hpp"
#include "util/size.hpp"
#include "util/text.hpp"

#include <chrono>
#include <filesystem>
#include <iostream>
#include <iterator>
#include <memory>
#include <set>
#include <thread>

namespace modelctl {

using json = nlohmann::ordered_json;
namespace ops = core::operations;

void setup_chain(CLI::App& app, Context& ctx) {
    auto opts = std::make_shared<ChainOptions>();
    auto* sub = app.add_subcommand(
        "chain", "Run a chain of steps across models, residency planned for the whole chain");
    sub->add_option("file", opts->file, "The chain: a JSON list of {\"model\", \"prompt\"} steps")
        ->required();
    sub->add_option("--input", opts->input, "The first step's {input}; - reads it from stdin");
    sub->add_flag("-n,--dry-run", opts->dry_run,
                  "Print the plan and its expected loading beside the naive rules; run nothing");
    sub->add_flag("--keep-going", opts->keep_going,
                  "After a failed step, go on with an empty {input} (exit 1 at the end)");
    sub->add_flag("--leave-loaded", opts->leave_loaded,
                  "Leave models loaded after their last use and at the end");
    sub->add_option("--retries", opts->retries,
                    "Tries of a step again after busy (503) or a dropped connection, 1 s, 2 s, "
                    "4 s... apart (default 2)")
        ->check(whole_number_from(0, 20));
    sub->add_option("--step-timeout", opts->step_timeout,
                    "Longest a step's answer may take, e.g. 10m (a step's \"timeout\" wins; "
                    "default: --timeout, between two pieces of the answer)");
    sub->add_option("--memory", opts->memory,
                    "Memory budget for loaded models, e.g. 24GB (default: config and probes)");
    sub->callback([&ctx, opts] { ctx.exit_code = run_chain(ctx, *opts); });
}

namespace {

// How long a model kept for a later step is asked to stay (the chain unloads
// it after its last use; this bounds what a killed modelctl leaves behind).
const core::util::KeepAlive kKeptForLater{false, std::chrono::hours(1)};

ops::ChainSpec read_chain(const std::string& file) {
    auto text = core::util::read_file(file, ops::kMaxChainFileBytes + 1, core::ErrorKind::Usage);
    if (!text)
        throw core::Error(core::ErrorKind::Usage, "no chain file " + core::util::printable(file),
                          "a chain is a JSON list of {\"model\", \"prompt\"} steps");
    return ops::parse_chain(*text, std::filesystem::path(file).stem().string());
}

json plan_doc(const ops::ChainPlanning& p) {
    const auto& plan = p.plan;
    json steps = json::array();
    for (size_t t = 0; t < plan.steps.size(); ++t) {
        const auto& s = plan.steps[t];
        const auto& m = p.input.models[s.model];
        json resident = json::array(), unload = json::array();
        for (size_t r : s.resident)
            resident.push_back(p.input.models[r].name);
        for (size_t u : s.unload_after)
            unload.push_back(p.input.models[u].name);
        steps.push_back(
            {{"step", t + 1},
             {"model", m.name},
             {"num_ctx", p.num_ctx[s.model] ? json(p.num_ctx[s.model]) : json(nullptr)},
             {"num_ctx_why",
              p.num_ctx_why[s.model].empty() ? json(nullptr) : json(p.num_ctx_why[s.model])},
             {"bytes", m.bytes},
             {"estimate", p.models[s.model].estimate.source},
             {"load", s.load},
             {"load_seconds", s.load ? json(m.load_seconds) : json(nullptr)},
             {"resident", resident},
             {"unload_after", unload},
             {"held", s.bytes},
             {"reason", s.reason}});
    }
    auto cost = [](const core::policy::RuleCost& c) {
        return json{{"loads", c.loads}, {"seconds", c.seconds}};
    };
    json first = json::array();
    for (size_t u : plan.unload_first)
        first.push_back(p.input.models[u].name);
    return {{"budget", budget_json(p.budget)},
            {"capacity", p.input.capacity},
            {"pinned_outside", p.pinned_outside},
            {"feasible", plan.feasible},
            {"unload_first", first},
            {"steps", steps},
            {"expected", cost(plan.plan)},
            {"unload_every_step", cost(plan.unload_every_step)},
            {"keep_if_next_same", cost(plan.keep_if_next_same)}};
}

void print_plan(const Context& ctx, const ops::ChainSpec& chain, const ops::ChainPlanning& p) {
    const auto& plan = p.plan;
    std::cout << "chain " << core::util::printable(chain.name) << ": " << chain.steps.size()
              << " step" << (chain.steps.size() == 1 ? "" : "s") << ", " << p.input.models.size()
              << " model" << (p.input.models.size() == 1 ? "" : "s") << "; room for "
              << core::util::format_size(p.input.capacity);
    if (!p.pinned_outside.empty())
        std::cout << " (the budget of " << core::util::format_size(p.budget.budget.bytes)
                  << " less " << core::util::format_size(p.pinned_bytes) << " of pinned models)";
    std::cout << "\n";
    Table t({"STEP", "MODEL", "MEMORY", "LOAD", "HELD", "WHY"});
    for (size_t i = 0; i < plan.steps.size(); ++i) {
        const auto& s = plan.steps[i];
        const auto& m = p.input.models[s.model];
        t.add({std::to_string(i + 1), core::util::printable(m.name),
               core::util::format_size(m.bytes), s.load ? elapsed_text(m.load_seconds) : "-",
               core::util::format_size(s.bytes), core::util::printable(s.reason)});
    }
    t.print(std::cout, ctx.color());
    for (size_t k = 0; k < p.input.models.size(); ++k)
        if (!p.num_ctx_why[k].empty())
            std::cout << core::util::printable(p.input.models[k].name) << ": " << p.num_ctx_why[k]
                      << "\n";
    auto line = [](const char* what, const core::policy::RuleCost& c) {
        std::cout << what << elapsed_text(c.seconds) << " in " << c.loads << " load"
                  << (c.loads == 1 ? "" : "s") << "\n";
    };
    line("expected loading: ", plan.plan);
    line("  unload after every step: ", plan.unload_every_step);
    line("  keep only for an identical next step: ", plan.keep_if_next_same);
}

// Sleeps `seconds`, looking for Ctrl-C every 50 ms.
void backoff(double seconds) {
    auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    while (std::chrono::steady_clock::now() < until) {
        core::util::throw_if_interrupted("waiting to try the step again");
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
}

// One run of a planned chain: its steps in order, the models it loaded,
// and the clean-up however it ends.
class ChainRun {
public:
    ChainRun(Context& ctx, const ChainOptions& o, const core::config::Config& cfg,
             const ops::ChainSpec& chain, const ops::ChainPlanning& planning,
             core::provider::Provider& provider, core::store::Store& store,
             std::optional<core::util::Seconds> step_timeout)
        : ctx_(ctx), o_(o), cfg_(cfg), chain_(chain), planning_(planning), provider_(provider),
          store_(store), reg_(provider, store), step_timeout_(step_timeout),
          show_(ctx.show_progress()) {}

    // Runs step `t` on `input` ({input}) and the answers before it; returns
    // its JSON entry, `answer` set. Throws what made it fail.
    json step(size_t t, const std::string& input, const std::vector<std::string>& answers,
              std::string& answer, int& retries);

    // Unloads what the chain loaded and still holds (not with --leave-loaded).
    void finish();

    double load_seconds = 0;

private:
    // Busy (503) and a dropped connection are tried again, 1 s, 2 s, 4 s...
    // later, up to --retries times each.
    template <class F>
    auto retrying(const std::string& label, int& retries, const F& attempt_once) {
        for (int attempt = 0;; ++attempt) {
            try {
                return attempt_once();
            } catch (const core::Error& e) {
                bool transient =
                    e.kind() == core::ErrorKind::Busy || e.kind() == core::ErrorKind::Unreachable;
                if (!transient || attempt >= o_.retries)
                    throw;
                double wait = static_cast<double>(1 << attempt);
                ++retries;
                ctx_.note(label + ": " + e.what() + "; trying again in " + elapsed_text(wait));
                backoff(wait);
            }
        }
    }
    // Loads the step's model by a load plan that keeps what the chain plan
    // holds beside it; returns load's JSON and the evictions' in `evicted`.
    json load(size_t t, const std::string& label, const core::config::Config& step_cfg,
              std::optional<core::provider::LoadSettings>& settings, json& evicted, int& retries);
    void unload(const std::string& model) {
        reg_.unload(model);
        loaded_.erase(model);
    }

    Context& ctx_;
    const ChainOptions& o_;
    const core::config::Config& cfg_;
    const ops::ChainSpec& chain_;
    const ops::ChainPlanning& planning_;
    core::provider::Provider& provider_;
    core::store::Store& store_;
    core::registry::Registry reg_;
    std::optional<core::util::Seconds> step_timeout_;
    bool show_;
    std::set<std::string> loaded_; // what this chain loaded and has not unloaded
};

json ChainRun::load(size_t t, const std::string& label, const core::config::Config& step_cfg,
                    std::optional<core::provider::LoadSettings>& settings, json& evicted,
                    int& retries) {
    const auto& ps = planning_.plan.steps[t];
    const auto& w = planning_.models[ps.model];
    std::set<std::string> keep; // what the plan holds beside this step
    for (size_t r : ps.resident)
        keep.insert(planning_.input.models[r].name);
    auto lp = ops::plan_loads(provider_, reg_, step_cfg, ctx_.budget_fn(), {w.model}, true, keep);
    if (!lp.plan.feasible() && !keep.empty()) {
        // The server holds more than planned (something else loaded
        // meanwhile): the kept models may make room too.
        ctx_.note(label + ": no room beside the models kept for later; they may go");
        lp = ops::plan_loads(provider_, reg_, step_cfg, ctx_.budget_fn(), {w.model}, true);
    }
    lp.require_feasible();
    evicted = evict(ctx_, reg_, lp.plan, std::cerr);
    for (const auto& v : lp.plan.evict)
        loaded_.erase(v.name);
    settings = ops::load_settings(step_cfg, lp.wanted.front(), false);
    auto r = retrying(label, retries, [&] {
        Progress progress(show_);
        progress.start(label + ": loading " + w.model);
        return reg_.load(w.model, *settings, /*as_use=*/false);
    });
    loaded_.insert(w.model);
    load_seconds += r.seconds;
    return {{"seconds", r.seconds}};
}

json ChainRun::step(size_t t, const std::string& input, const std::vector<std::string>& answers,
                    std::string& answer, int& retries) {
    const size_t n = chain_.steps.size();
    const auto& spec = chain_.steps[t];
    const auto& ps = planning_.plan.steps[t];
    const auto& w = planning_.models[ps.model];
    int num_ctx = planning_.num_ctx[ps.model];
    std::string label = "step " + std::to_string(t + 1) + "/" + std::to_string(n);

    // Loaded, unless the server holds it (at the step's context).
    bool resident = false;
    int context = num_ctx; // what the prompt must fit, when known
    for (const auto& m : provider_.loaded())
        if (m.name == w.model &&
            (num_ctx == 0 || m.context_length == 0 || m.context_length == num_ctx)) {
            resident = true;
            if (context == 0)
                context = m.context_length; // observed
        }
    if (context == 0)
        context = w.settings.num_ctx; // the config's
    std::string prompt = ops::render_prompt(spec.prompt, input, answers);
    // Before loading: a prompt the context cannot hold (about 4 bytes a token).
    uint64_t tokens = (prompt.size() + 3) / 4;
    if (context > 0 && tokens > static_cast<uint64_t>(context))
        throw core::Error(core::ErrorKind::Refused,
                          "the prompt is about " + std::to_string(tokens) + " tokens (" +
                              std::to_string(prompt.size()) + " bytes), more than the context of " +
                              std::to_string(context) + " " + w.model +
                              (resident ? " is loaded with" : " would be loaded with"),
                          "give the step a larger \"num_ctx\", or \"max\"");
    core::config::Config step_cfg = cfg_;
    if (num_ctx > 0)
        ops::set_num_ctx(step_cfg, provider_.kind(), w.model, num_ctx);
    json load = nullptr, evicted = json::array();
    std::optional<core::provider::LoadSettings> settings;
    if (!resident)
        load = this->load(t, label, step_cfg, settings, evicted, retries);

    core::provider::GenerateRequest req;
    req.model = w.model;
    req.prompt = prompt;
    req.num_ctx = num_ctx;
    req.options = spec.options;
    bool kept_for_later = std::find(ps.unload_after.begin(), ps.unload_after.end(), ps.model) ==
                              ps.unload_after.end() &&
                          t + 1 < n;
    if (spec.keep_alive)
        req.keep_alive = spec.keep_alive;
    else if (kept_for_later)
        req.keep_alive = kKeptForLater;
    else
        req.keep_alive = ops::request_keep_alive(
            store_, w, settings.value_or(ops::load_settings(step_cfg, w, false)));
    // The step's deadline bounds its whole answer: a server of its own.
    auto timeout = spec.timeout ? spec.timeout : step_timeout_;
    auto timed = timeout ? ctx_.provider(*timeout) : nullptr;
    std::optional<core::registry::Registry> timed_reg;
    if (timed)
        timed_reg.emplace(*timed, store_);
    auto& gen = timed_reg ? *timed_reg : reg_;
    auto use = retrying(label, retries, [&] {
        Progress waiting(show_);
        waiting.start(label + ": waiting for " + w.model);
        answer.clear();
        auto started = std::chrono::steady_clock::now();
        try {
            return gen.generate(req, spec.task.empty() ? chain_.name : spec.task,
                                [&](std::string_view text) { answer += text; });
        } catch (const core::Error& e) {
            // Past its deadline the step is not tried again.
            if (timeout && std::chrono::steady_clock::now() - started >= *timeout)
                throw core::Error(core::ErrorKind::Failed,
                                  "no complete answer within the step's timeout of " +
                                      core::util::format_duration(*timeout) + " (" + e.what() + ")",
                                  "raise the step's \"timeout\" or --step-timeout");
            throw;
        }
    });

    // After its last use (or when the plan needs its room), it goes.
    json unloaded = json::array();
    for (size_t u : ps.unload_after) {
        const std::string& name = planning_.input.models[u].name;
        bool last_use = true;
        for (size_t later = t + 1; later < n; ++later)
            if (planning_.input.models[planning_.input.steps[later]].name == name)
                last_use = false;
        if (!loaded_.count(name) || (last_use && o_.leave_loaded))
            continue;
        unload(name);
        unloaded.push_back(name);
    }
    if (show_) {
        char line[160];
        std::snprintf(line, sizeof line, "%lld tokens in %s (%.1f tok/s)",
                      static_cast<long long>(use.metrics.eval_count),
                      elapsed_text(use.latency_ms / 1000).c_str(), use.metrics.tokens_per_second());
        std::cerr << label << " " << w.model << ": "
                  << (load.is_null()
                          ? ""
                          : "loaded in " + elapsed_text(load["seconds"].get<double>()) + "; ")
                  << line << "\n";
    }
    return {{"step", t + 1},
            {"model", w.model},
            {"ok", true},
            {"load", load},
            {"evicted", evicted},
            {"retries", retries},
            {"latency_ms", use.latency_ms},
            {"ttft_ms", use.ttft_ms ? json(*use.ttft_ms) : json(nullptr)},
            {"tokens_in", use.metrics.prompt_eval_count},
            {"tokens_out", use.metrics.eval_count},
            {"tokens_per_second", use.metrics.tokens_per_second()},
            {"unloaded_after", unloaded},
            {"response", answer}};
}

void ChainRun::finish() {
    if (o_.leave_loaded)
        return;
    core::util::CleanupScope cleanup;
    for (auto it = loaded_.begin(); it != loaded_.end();) {
        std::string model = *it++;
        try {
            unload(model);
        } catch (const core::Error& e) {
            std::cerr << "modelctl: warning: could not unload " << model << ": " << e.what()
                      << "\n";
        }
    }
}

} // namespace

int run_chain(Context& ctx, const ChainOptions& o) {
    std::map<std::string, core::config::Flag> flags;
    if (!o.memory.empty())
        flags["budget.memory"] = {"--memory", o.memory};
    const auto& cfg = ctx.config(flags);
    auto chain = read_chain(o.file);
    std::optional<core::util::Seconds> step_timeout;
    if (!o.step_timeout.empty()) {
        step_timeout = core::util::parse_duration(o.step_timeout);
        if (!step_timeout || step_timeout->count() <= 0)
            throw core::Error(core::ErrorKind::Usage,
                              "--step-timeout: '" + core::util::printable(o.step_timeout) +
                                  "' is not a duration of at most " + core::util::kMaxDurationText,
                              "e.g. 10m");
    }
    std::string input = o.input;
    if (o.input == "-")
        input.assign(std::istreambuf_iterator<char>(std::cin), {});
    auto provider = ctx.provider();
    auto store = ctx.store();
    core::registry::Registry reg(*provider, store);

    // Every model must generate text, before anything is loaded.
    std::set<std::string> models;
    for (const auto& s : chain.steps)
        if (models.insert(provider->canonical(s.model)).second)
            ops::require_capability(*provider, s.model, "completion");
    auto planning = ops::plan_chain(*provider, reg, cfg, ctx.budget_fn(), chain);
    const auto& plan = planning.plan;
    if (!plan.feasible) {
        const auto& m = planning.input.models[planning.input.steps[plan.too_large]];
        throw core::Error(core::ErrorKind::Refused,
                          "step " + std::to_string(plan.too_large + 1) + " needs " + m.name +
                              ", which takes " + core::util::format_size(m.bytes) +
                              ", more than the " +
                              core::util::format_size(planning.input.capacity) + " the chain has" +
                              (planning.pinned_outside.empty() ? "" : " beside pinned models"),
                          "raise the budget (--memory), unpin models, or use a smaller context");
    }
    json doc = {{"schema", "modelctl.chain/v1"},
                {"server", server_json(*provider)},
                {"name", chain.name},
                {"dry_run", o.dry_run},
                {"plan", plan_doc(planning)}};
    if (o.dry_run) {
        if (ctx.global.json)
            print_json(doc);
        else if (!ctx.global.quiet)
            print_plan(ctx, chain, planning);
        return 0;
    }

    ChainRun run(ctx, o, cfg, chain, planning, *provider, store, step_timeout);
    std::vector<std::string> answers;
    json steps = json::array();
    int code = 0;
    for (size_t t = 0; t < chain.steps.size(); ++t) {
        std::string answer;
        int retries = 0;
        try {
            steps.push_back(run.step(t, t == 0 ? input : answers.back(), answers, answer, retries));
            answers.push_back(answer);
        } catch (const core::Error& e) {
            std::string what = "step " + std::to_string(t + 1) + "/" +
                               std::to_string(chain.steps.size()) + " (" +
                               planning.models[plan.steps[t].model].model + "): " + e.what();
            if (e.kind() == core::ErrorKind::Interrupted || !o.keep_going) {
                run.finish();
                throw core::Error(e.kind(), what, e.hint());
            }
            int c = report(core::Error(e.kind(), what, e.hint()));
            if (code == 0)
                code = c;
            answers.emplace_back(); // the next step gets an empty {input}
            steps.push_back({{"step", t + 1},
                             {"model", planning.models[plan.steps[t].model].model},
                             {"ok", false},
                             {"retries", retries},
                             {"error", error_json(e)}});
        }
    }
    run.finish();
    if (ctx.global.json) {
        doc["steps"] = steps;
        doc["load_seconds"] = run.load_seconds;
        doc["answer"] = answers.back();
        print_json(doc);
    } else {
        std::string shown = ctx.stdout_tty ? core::util::printable(answers.back()) : answers.back();
        std::cout << shown;
        if (shown.empty() || shown.back() != '\n')
            std::cout << "\n";
    }
    return code;
}

} // namespace modelctl
