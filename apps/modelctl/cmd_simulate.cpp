#include "cmd_simulate.hpp"

#include "commands.hpp"
#include "error.hpp"
#include "operations/planning.hpp"
#include "output.hpp"
#include "policy/replay.hpp"
#include "util/duration.hpp"
#include "util/size.hpp"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>

namespace modelctl {

using json = nlohmann::ordered_json;
namespace policy = core::policy;

void setup_simulate(CLI::App& app, Context& ctx) {
    auto opts = std::make_shared<SimulateOptions>();
    auto* sub = app.add_subcommand(
        "simulate", "Replay a request trace under a memory budget, eviction rules side by side");
    sub->add_option("--trace", opts->trace, "CSV of requests: time,model (time in seconds)");
    sub->add_option("--catalog", opts->catalog, "CSV of models: model,size_bytes[,load_s]");
    sub->add_option("--memory", opts->memory, "Memory budget(s), e.g. 24GB or 24GB,48GB,80GB")
        ->delimiter(',')
        ->required();
    sub->add_option("--policy", opts->policies, "Rules to compare: modelctl,lru,ollama,belady")
        ->delimiter(',')
        ->capture_default_str();
    sub->add_flag("--from-history", opts->from_history,
                  "Replay your own recorded usage instead of --trace/--catalog");
    sub->add_option("--every", opts->every, "Keep every N-th request (slowed-down variant)")
        ->check(positive_number());
    sub->add_option("--stretch", opts->stretch, "Multiply request times by X")
        ->check(positive_number());
    sub->add_option("--max-loaded", opts->max_loaded,
                    "At most N models loaded at once (Ollama's rule keeps its own 3)");
    sub->callback([&ctx, opts] { ctx.exit_code = run_simulate(ctx, *opts); });
}

namespace {

std::ifstream open_input(const std::string& path, const char* what) {
    std::ifstream in(path);
    if (!in)
        throw core::Error(core::ErrorKind::Usage,
                          "cannot read the " + std::string(what) + " " + path);
    return in;
}

policy::Trace trace_from_files(const SimulateOptions& o) {
    if (o.trace.empty() || o.catalog.empty())
        throw core::Error(core::ErrorKind::Usage, "simulate needs --trace and --catalog",
                          "or --from-history to replay your own usage");
    policy::Trace t;
    auto cat = open_input(o.catalog, "catalog");
    t.catalog = policy::parse_catalog_csv(cat, o.catalog);
    auto tr = open_input(o.trace, "trace");
    t.requests = policy::parse_trace_csv(tr, o.trace, t.catalog);
    return t;
}

// Every load and use modelctl recorded is a request; each model weighs what
// was observed after its last load (else its file size), costs its last
// observed load time (else the catalog default), and keeps its pin and priority.
policy::Trace trace_from_history(Context& ctx) {
    const auto& cfg = ctx.config();
    auto store = ctx.store();
    auto state = store.read();
    auto log = store.read_events();
    policy::Trace t;
    std::map<std::string, size_t> index;
    for (const auto& [name, r] : state.models) {
        policy::CatalogEntry e;
        e.name = name;
        e.bytes = r.last_load && r.last_load->size ? r.last_load->size : r.size;
        e.load_seconds = r.last_load ? r.last_load->seconds : policy::default_load_seconds(e.bytes);
        if (e.bytes == 0)
            continue;
        auto eff = core::operations::effective_settings(name, ctx.endpoint().provider, cfg, &r);
        e.pinned = eff.pinned;
        e.priority = eff.priority;
        index[name] = t.catalog.size();
        t.catalog.push_back(e);
    }
    for (const auto& ev : log.events) {
        if (ev.type != "load" && ev.type != "use")
            continue;
        auto it = index.find(ev.model);
        if (it == index.end())
            continue;
        double at = std::chrono::duration<double>(ev.at.time_since_epoch()).count();
        t.requests.push_back({at, it->second});
    }
    if (t.requests.empty())
        throw core::Error(core::ErrorKind::Failed,
                          "no recorded usage to replay in " + store.dir().string(),
                          "modelctl records every load it makes; use it for a while first");
    double start = t.requests.front().time;
    for (auto& r : t.requests)
        r.time -= start;
    return t;
}

std::string percent(double x) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%.1f%%", x * 100);
    return buf;
}

std::string seconds_text(double s) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.0f s", s);
    return buf;
}

} // namespace

int run_simulate(Context& ctx, const SimulateOptions& o) {
    if (o.from_history && (!o.trace.empty() || !o.catalog.empty()))
        throw core::Error(core::ErrorKind::Usage,
                          "--from-history replays your own usage; drop --trace and --catalog");
    std::vector<policy::Rule> rules;
    for (const auto& name : o.policies) {
        auto r = policy::parse_rule(name);
        if (!r)
            throw core::Error(core::ErrorKind::Usage, "unknown policy '" + name + "'",
                              "choose among modelctl, lru, ollama, belady");
        rules.push_back(*r);
    }
    std::vector<uint64_t> budgets;
    for (const auto& m : o.memory) {
        auto b = core::util::parse_size(m);
        if (!b || *b == 0)
            throw core::Error(core::ErrorKind::Usage, "bad memory size '" + m + "'",
                              "write it like 24GB or 512MiB");
        budgets.push_back(*b);
    }
    policy::Trace trace = o.from_history ? trace_from_history(ctx) : trace_from_files(o);
    if (o.every > 1 || o.stretch != 1)
        trace.requests = policy::thin(trace.requests, o.every, o.stretch);
    double span = trace.requests.empty() ? 0 : trace.requests.back().time;

    json runs = json::array();
    for (uint64_t budget : budgets) {
        policy::ReplayOptions ro;
        ro.memory = budget;
        ro.max_loaded = o.max_loaded;
        std::vector<policy::ReplayResult> replays;
        for (auto rule : rules)
            replays.push_back(policy::replay(trace, rule, ro));
        bool any_refused = std::any_of(replays.begin(), replays.end(),
                                       [](const auto& r) { return r.refused > 0; });
        std::vector<std::string> header = {"POLICY", "COLD LOADS", "LOADING", "HIT RATE",
                                           "PEAK MEMORY"};
        if (any_refused)
            header.push_back("REFUSED");
        Table table(header);
        json results = json::array();
        for (const auto& r : replays) {
            results.push_back({{"policy", policy::rule_name(r.rule)},
                               {"cold_loads", r.cold_loads},
                               {"load_seconds", r.load_seconds},
                               {"hit_rate", r.hit_rate()},
                               {"peak_bytes", r.peak_bytes},
                               {"refused", r.refused}});
            std::vector<std::string> row = {policy::rule_name(r.rule), std::to_string(r.cold_loads),
                                            seconds_text(r.load_seconds), percent(r.hit_rate()),
                                            core::util::format_size(r.peak_bytes)};
            if (any_refused)
                row.push_back(std::to_string(r.refused));
            table.add(row);
        }
        size_t oversize = replays.empty() ? 0 : replays.front().oversize_requests;
        runs.push_back({{"memory", budget}, {"oversize_requests", oversize}, {"results", results}});
        if (ctx.global.json || ctx.global.quiet)
            continue;
        std::cout << "\nMemory " << core::util::format_size(budget) << ":\n";
        table.print(std::cout, ctx.color());
        if (any_refused)
            std::cout << "Refused: requests for a model that cannot fit, as `modelctl load` "
                         "refuses them"
                      << (oversize ? " (" + std::to_string(oversize) +
                                         " for models larger than the whole budget)"
                                   : std::string())
                      << "; they load nothing and are not hits.\n";
    }
    if (ctx.global.json) {
        print_json({{"schema", "modelctl.simulate/v1"},
                    {"trace",
                     {{"source", o.from_history ? "history" : o.trace},
                      {"requests", trace.requests.size()},
                      {"models", trace.catalog.size()},
                      {"span_seconds", span},
                      {"every", o.every},
                      {"stretch", o.stretch}}},
                    {"runs", runs}});
    } else if (!ctx.global.quiet) {
        std::cout << "\n"
                  << trace.requests.size() << " requests over "
                  << core::util::format_duration(core::util::Seconds(span)) << ", "
                  << trace.catalog.size() << " models; load costs "
                  << (o.from_history ? "as observed" : "from " + o.catalog)
                  << ". Loads take no trace time; ollama = 5m keep_alive, at most 3 loaded.\n";
    }
    return 0;
}

} // namespace modelctl
