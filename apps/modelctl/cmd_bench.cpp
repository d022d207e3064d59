#include "cmd_bench.hpp"

#include "bench/bench.hpp"
#include "error.hpp"
#include "errors.hpp"
#include "load_plan.hpp"
#include "output.hpp"
#include "progress.hpp"
#include "registry/registry.hpp"
#include "util/size.hpp"

#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <sstream>

namespace modelctl {

using json = nlohmann::ordered_json;
namespace bench = core::bench;
namespace registry = core::registry;

void setup_bench(CLI::App& app, Context& ctx) {
    auto opts = std::make_shared<BenchOptions>();
    auto* sub = app.add_subcommand(
        "bench", "Measure models: load time, time to first token, tokens/s; compare with the last");
    sub->add_option("models", opts->models, "Models to measure, e.g. llama3.2:3b");
    sub->add_option("--compare", opts->compare,
                    "Measure two models with the same settings and print them side by side")
        ->expected(2)
        ->type_name("A B");
    sub->add_option("-r,--runs", opts->runs, "Timed runs after one warm-up (default 5)");
    auto* prompt =
        sub->add_option("-p,--prompt", opts->prompt, "The prompt (default: a fixed one)");
    sub->add_option("--prompt-file", opts->prompt_file, "Read the prompt from a file (- for stdin)")
        ->excludes(prompt);
    sub->add_option("--num-predict", opts->num_predict,
                    "Most tokens to generate a run (default 128)");
    sub->add_option("--ctx", opts->ctx, "Context length to load with (default: the server's)");
    sub->add_flag("--cold", opts->cold, "Unload each model first and time its load");
    sub->add_option("--fail-on-regression", opts->fail_on_regression,
                    "Exit 1 when a median got worse than the previous result's by more than "
                    "this, e.g. 10%");
    sub->add_option("--memory", opts->memory,
                    "Memory budget for loaded models, e.g. 24GB (default: config and probes)");
    sub->add_flag("--no-evict", opts->no_evict,
                  "Refuse (exit 4) rather than unload other models to make room");
    sub->callback([&ctx, opts] { ctx.exit_code = run_bench(ctx, *opts); });
}

namespace {

// "10%" or "10" -> 0.10.
double parse_threshold(const std::string& text) {
    std::string t = text;
    if (!t.empty() && t.back() == '%')
        t.pop_back();
    size_t used = 0;
    double v = -1;
    try {
        v = std::stod(t, &used);
    } catch (const std::exception&) {
        used = 0;
    }
    if (t.empty() || used != t.size() || !(v > 0) || v > 1000)
        throw core::Error(core::ErrorKind::Usage,
                          "--fail-on-regression: '" + text + "' is not a percentage",
                          "give how much worse a median may get, e.g. 10%");
    return v / 100;
}

std::string read_prompt(const Context& ctx, const BenchOptions& o) {
    std::string text = o.prompt;
    if (!o.prompt_file.empty()) {
        if (o.prompt_file == "-") {
            if (ctx.stdin_tty)
                throw core::Error(core::ErrorKind::Usage, "--prompt-file - reads stdin",
                                  "pipe the prompt in");
            text.assign(std::istreambuf_iterator<char>(std::cin), {});
        } else {
            std::ifstream in(o.prompt_file, std::ios::binary);
            if (!in)
                throw core::Error(core::ErrorKind::Usage,
                                  "cannot read the prompt file " + o.prompt_file);
            std::ostringstream all;
            all << in.rdbuf();
            text = all.str();
        }
    } else if (text.empty()) {
        text = bench::kDefaultPrompt;
    }
    if (text.find_first_not_of(" \t\r\n") == std::string::npos)
        throw core::Error(core::ErrorKind::Usage, "the prompt is empty");
    return text;
}

json spread_json(const bench::Spread& s) {
    return {{"min", s.min}, {"median", s.median}, {"max", s.max}};
}

json settings_json(const bench::Settings& s) {
    return {{"prompt_hash", s.prompt_hash},
            {"prompt_chars", s.prompt_chars},
            {"num_predict", s.num_predict},
            {"num_ctx", s.num_ctx},
            {"runs", s.runs},
            {"cold", s.cold}};
}

json result_json(const bench::Result& r) {
    return {{"at", time_json(r.at)},
            {"digest", r.digest},
            {"load_seconds", r.load_seconds ? json(*r.load_seconds) : json(nullptr)},
            {"memory",
             {{"size", r.size},
              {"size_vram", r.size_vram},
              {"processor", core::provider::processor_label(r.size, r.size_vram)}}},
            {"ttft_ms", spread_json(r.ttft_ms)},
            {"prompt_tokens_per_second", spread_json(r.prompt_tokens_per_second)},
            {"tokens_per_second", spread_json(r.tokens_per_second)},
            {"ms_per_token", spread_json(r.ms_per_token)},
            {"total_ms", spread_json(r.total_ms)},
            {"tokens", r.tokens}};
}

struct Measured {
    bench::Result result;
    std::vector<bench::Sample> samples;
    std::optional<bench::Result> previous;
    std::vector<bench::Change> changes;
    json evicted;
    std::string model;
};

// Figures in the order people read them: label, unit, member.
struct Figure {
    const char* key;
    const char* label;
    bool time; // a time in ms (else a rate)
    bench::Spread bench::Result::*member;
};
constexpr Figure kFigures[] = {
    {"ttft_ms", "time to first token", true, &bench::Result::ttft_ms},
    {"prompt_tokens_per_second", "prompt tokens/s", false,
     &bench::Result::prompt_tokens_per_second},
    {"tokens_per_second", "generation tokens/s", false, &bench::Result::tokens_per_second},
    {"ms_per_token", "time per token", true, &bench::Result::ms_per_token},
    {"total_ms", "total time (not gated)", true, &bench::Result::total_ms},
};

std::string value_text(double v, bool time) {
    if (time)
        return v >= 10000 ? elapsed_text(v / 1000) : fixed(v, v < 10 ? 1 : 0) + " ms";
    return fixed(v, 1);
}

std::string change_text(const bench::Change& c) {
    double rel = (c.after - c.before) / c.before * 100;
    return (rel >= 0 ? "+" : "") + fixed(rel, 1) + "%" + (c.regressed ? " REGRESSED" : "");
}

const bench::Change* find_change(const std::vector<bench::Change>& changes, const char* key) {
    for (const auto& c : changes)
        if (c.figure == key)
            return &c;
    return nullptr;
}

void print_measured(const Context& ctx, const Measured& m, double threshold) {
    const auto& r = m.result;
    std::cout << m.model << " (" << (r.digest.empty() ? "digest unknown" : r.digest.substr(0, 12))
              << "): " << r.settings.runs << (r.settings.runs == 1 ? " run" : " runs")
              << " after a warm-up, at most " << r.settings.num_predict << " tokens, "
              << fixed(r.tokens, 0) << " generated a run (median)\n";
    if (r.load_seconds)
        std::cout << "  load: " << elapsed_text(*r.load_seconds)
                  << (r.settings.cold ? " (cold)" : " (was not loaded)") << "\n";
    if (r.size)
        std::cout << "  memory: " << core::util::format_size(r.size) << ", "
                  << core::provider::processor_label(r.size, r.size_vram) << "\n";
    std::vector<std::string> head = {"  FIGURE", "MIN", "MEDIAN", "MAX"};
    if (m.previous)
        head.insert(head.end(), {"PREVIOUS", "CHANGE"});
    Table t(head);
    for (const auto& f : kFigures) {
        const auto& s = r.*(f.member);
        std::vector<std::string> row = {std::string("  ") + f.label, value_text(s.min, f.time),
                                        value_text(s.median, f.time), value_text(s.max, f.time)};
        if (m.previous) {
            const auto* c = find_change(m.changes, f.key);
            row.push_back(c ? value_text(c->before, f.time) : "-");
            row.push_back(c ? change_text(*c) : "-");
        }
        t.add(row);
    }
    if (m.previous && r.load_seconds && m.previous->load_seconds) {
        const auto* c = find_change(m.changes, "load_seconds");
        t.add({"  load time", "", elapsed_text(*r.load_seconds), "",
               elapsed_text(*m.previous->load_seconds), c ? change_text(*c) : "-"});
    }
    t.print(std::cout, ctx.color());
    if (m.previous)
        std::cout << "  previous: " << ago_text(m.previous->at, r.at) << " ago"
                  << (m.previous->digest != r.digest && !m.previous->digest.empty()
                          ? " (digest " + m.previous->digest.substr(0, 12) + ")"
                          : "")
                  << (threshold > 0 ? "; regression limit " + fixed(threshold * 100, 1) + "%" : "")
                  << "\n";
    else if (!ctx.global.quiet)
        std::cout << "  no earlier result with these settings to compare with\n";
}

void print_compare(const Context& ctx, const Measured& a, const Measured& b) {
    std::cout << "\n";
    Table t({"MEDIAN", a.model, b.model, "RATIO (B/A)"});
    auto ratio = [](double x, double y) { return x > 0 ? fixed(y / x, 2) + "x" : "-"; };
    for (const auto& f : kFigures) {
        double x = (a.result.*(f.member)).median, y = (b.result.*(f.member)).median;
        t.add({f.label, value_text(x, f.time), value_text(y, f.time), ratio(x, y)});
    }
    if (a.result.load_seconds && b.result.load_seconds)
        t.add({"load time", elapsed_text(*a.result.load_seconds),
               elapsed_text(*b.result.load_seconds),
               ratio(*a.result.load_seconds, *b.result.load_seconds)});
    if (a.result.size && b.result.size)
        t.add({"memory", core::util::format_size(a.result.size),
               core::util::format_size(b.result.size),
               ratio(static_cast<double>(a.result.size), static_cast<double>(b.result.size))});
    t.print(std::cout, ctx.color());
}

json compare_json(const Measured& a, const Measured& b) {
    json ratios = json::object();
    for (const auto& f : kFigures) {
        double x = (a.result.*(f.member)).median, y = (b.result.*(f.member)).median;
        ratios[f.key] = x > 0 ? json(y / x) : json(nullptr);
    }
    ratios["load_seconds"] =
        a.result.load_seconds && b.result.load_seconds && *a.result.load_seconds > 0
            ? json(*b.result.load_seconds / *a.result.load_seconds)
            : json(nullptr);
    ratios["size"] =
        a.result.size
            ? json(static_cast<double>(b.result.size) / static_cast<double>(a.result.size))
            : json(nullptr);
    return {{"a", a.model}, {"b", b.model}, {"ratios", ratios}};
}

std::string figure_text(const std::string& figure, double v) {
    if (figure == "load_seconds")
        return elapsed_text(v);
    return value_text(v, figure == "ttft_ms" || figure == "total_ms" || figure == "ms_per_token");
}

json measured_json(const Measured& m) {
    json changes = json::array();
    for (const auto& c : m.changes)
        changes.push_back({{"figure", c.figure},
                           {"before", c.before},
                           {"after", c.after},
                           {"change", (c.after - c.before) / c.before},
                           {"gated", c.gated},
                           {"regressed", c.regressed},
                           {"why", c.why.empty() ? json(nullptr) : json(c.why)}});
    json samples = json::array();
    for (const auto& s : m.samples)
        samples.push_back({{"ttft_ms", s.ttft_ms},
                           {"total_ms", s.total_ms},
                           {"prompt_tokens", s.prompt_tokens},
                           {"tokens", s.tokens},
                           {"prompt_tokens_per_second", s.prompt_tokens_per_second},
                           {"tokens_per_second", s.tokens_per_second},
                           {"ms_per_token", s.ms_per_token}});
    json r = {{"model", m.model}, {"ok", true}};
    r.update(result_json(m.result));
    r["samples"] = samples;
    r["evicted"] = m.evicted;
    r["previous"] = m.previous ? result_json(*m.previous) : json(nullptr);
    r["changes"] = changes;
    return r;
}

} // namespace

int run_bench(Context& ctx, const BenchOptions& o) {
    std::vector<std::string> models = o.models;
    if (!o.compare.empty()) {
        if (!models.empty())
            throw core::Error(core::ErrorKind::Usage, "give models either to --compare or alone",
                              "modelctl bench --compare A B");
        models = o.compare;
    }
    if (models.empty())
        throw core::Error(core::ErrorKind::Usage, "bench needs a MODEL",
                          "e.g. modelctl bench llama3.2:3b");
    if (o.runs < 1 || o.runs > 1000)
        throw core::Error(core::ErrorKind::Usage, "--runs must be between 1 and 1000");
    if (o.num_predict < 1)
        throw core::Error(core::ErrorKind::Usage, "--num-predict must be at least 1");
    if (o.ctx < 0)
        throw core::Error(core::ErrorKind::Usage, "--ctx must be a positive context length");
    double threshold = o.fail_on_regression.empty() ? 0 : parse_threshold(o.fail_on_regression);
    std::string prompt = read_prompt(ctx, o);

    std::map<std::string, core::config::Flag> flags;
    if (!o.memory.empty())
        flags["budget.memory"] = {"--memory", o.memory};
    const auto& cfg = ctx.config(flags);
    auto provider = ctx.provider();
    auto store = ctx.store();
    registry::Registry reg(*provider, store);

    bench::Settings settings;
    settings.prompt_hash = bench::hash_text(prompt);
    settings.prompt_chars = prompt.size();
    settings.num_predict = o.num_predict;
    settings.num_ctx = o.ctx;
    settings.runs = o.runs;
    settings.cold = o.cold;

    int exit_code = 0;
    bool regressed = false;
    std::vector<Measured> done;
    json results = json::array();
    for (const auto& name : models) {
        try {
            Measured m;
            m.model = ctx.canonical(name);
            // Before --cold unloads it or the plan evicts others.
            core::operations::require_capability(*provider, m.model, "completion");
            Progress progress(ctx.show_progress());
            if (o.cold) {
                progress.start("unloading " + m.model + " for a cold start");
                reg.unload(m.model); // nothing happens when it is not loaded
                progress.stop();
            }
            auto lp = plan_loads(ctx, *provider, reg, cfg, {m.model});
            lp.require_feasible();
            lp.refuse_evictions(o.no_evict);
            m.evicted = evict(ctx, reg, lp.plan, std::cerr);
            const auto& w = lp.wanted.front();
            auto load = core::operations::load_settings(cfg, w, false);
            if (o.ctx > 0)
                load.num_ctx = o.ctx;
            if (!w.loaded) {
                progress.start("loading " + m.model);
                auto l = reg.load(m.model, load, /*as_use=*/false);
                progress.stop();
                m.result.load_seconds = l.seconds;
            }
            m.samples =
                bench::measure(*provider, m.model, prompt, settings,
                               core::operations::request_keep_alive(store, w, load),
                               [&](const bench::Progress& p) {
                                   progress.stop();
                                   progress.start(m.model + ": " +
                                                  (p.run == 0 ? std::string("warm-up")
                                                              : "run " + std::to_string(p.run) +
                                                                    "/" + std::to_string(p.runs)));
                               });
            progress.stop();
            m.result.at = core::util::now();
            m.result.settings = settings;
            bench::summarize(m.samples, m.result);
            for (const auto& l : provider->loaded())
                if (ctx.same_model(l.name, m.model)) {
                    m.result.size = l.size;
                    m.result.size_vram = l.size_vram;
                    m.result.digest = l.digest;
                }
            if (m.result.digest.empty()) {
                auto st = store.read();
                if (const auto* r = core::store::find_model(st, m.model))
                    m.result.digest = r->digest;
            }
            auto kept = reg.record_bench(m.model, m.result, threshold);
            m.previous = kept.previous;
            m.changes = kept.changes;
            m.result.regressed = kept.regressed;
            if (!ctx.global.json && !ctx.global.quiet) { // -q: regressions alone, on stderr
                if (!done.empty())
                    std::cout << "\n";
                print_measured(ctx, m, threshold);
            }
            for (const auto& c : m.changes)
                if (c.regressed) {
                    regressed = true;
                    report(m.model + " regressed: median " + c.figure + " " +
                               figure_text(c.figure, c.before) + " -> " +
                               figure_text(c.figure, c.after) + " (" + c.why + ")",
                           "", kFailed);
                }
            results.push_back(measured_json(m));
            done.push_back(std::move(m));
        } catch (const core::Error& e) {
            results.push_back(model_failure(e, ctx.canonical(name), exit_code));
        }
    }
    if (regressed && exit_code == 0)
        exit_code = kFailed;

    bool compared = !o.compare.empty() && done.size() == 2;
    if (ctx.global.json) {
        // What was measured: the server's version belongs with the figures.
        std::string version;
        try {
            version = provider->version();
        } catch (const core::Error&) { // unknown: null
        }
        print_json({{"schema", "modelctl.bench/v2"},
                    {"server", server_json(*provider, version)},
                    {"settings", settings_json(settings)},
                    {"fail_on_regression", threshold > 0 ? json(threshold) : json(nullptr)},
                    {"results", results},
                    {"compare", compared ? compare_json(done[0], done[1]) : json(nullptr)},
                    {"regressed", regressed}});
    } else if (compared && !ctx.global.quiet) {
        print_compare(ctx, done[0], done[1]);
    }
    return exit_code;
}

} // namespace modelctl
