#include "cmd_gc.hpp"

#include "cmd_versions.hpp"
#include "errors.hpp"
#include "operations/gc.hpp"
#include "output.hpp"
#include "plan_output.hpp"
#include "registry/registry.hpp"
#include "store/lockfile.hpp"
#include "util/size.hpp"
#include "versions/manager.hpp"

#include <iostream>
#include <memory>
#include <set>

namespace modelctl {

using json = nlohmann::ordered_json;
namespace registry = core::registry;
namespace policy = core::policy;

void setup_gc(CLI::App& app, Context& ctx) {
    auto opts = std::make_shared<GcOptions>();
    auto* sub = app.add_subcommand(
        "gc", "Unload idle models, then unload by the policy while over the memory budget");
    sub->add_option("--idle", opts->idle,
                    "Unload models idle longer than this, e.g. 30m (default: idle_timeout, 30m)");
    sub->add_option("--memory", opts->memory,
                    "Memory budget for loaded models, e.g. 24GB (default: config and probes)");
    sub->add_flag("--versions", opts->versions,
                  "Instead: delete model versions beyond keep_versions (never the current or a "
                  "pinned one)");
    sub->add_flag("-n,--dry-run", opts->dry_run, "Print what would be done, and why");
    sub->callback([&ctx, opts] { ctx.exit_code = run_gc(ctx, *opts); });
}

json gc_endpoint(Context& ctx, const Endpoint& e, const GcOptions& o,
                 const core::config::Config& cfg, const std::string& prefix, int& code,
                 const GcRun& run) {
    auto provider = ctx.provider(e);
    auto store = ctx.store(e);
    registry::Registry reg(*provider, store);
    auto g =
        core::operations::plan_gc(*provider, reg, cfg, ctx.budget_fn(e), !o.idle.empty(), run.keep);
    bool text = run.text && !ctx.global.json && !ctx.global.quiet;
    if (!g.budget && run.text)
        ctx.note("no memory budget (" + g.no_budget + "): idle models only");
    const auto& plan = g.plan;
    const auto& budget = g.budget;

    json actions = json::array();
    auto act = [&](const policy::Victim& v, const char* why) {
        json a = victim_json(v);
        a["why"] = why;
        a["endpoint"] = e.name;
        if (o.dry_run) {
            if (text)
                std::cout << prefix << "would unload " << v.name << ": " << v.reason << "\n";
            actions.push_back(a);
            return;
        }
        try {
            auto r = reg.unload(v.name);
            a["ok"] = true;
            a["freed"] = r.freed;
            if (run.unloaded)
                run.unloaded(v, why);
            if (text)
                std::cout << prefix << "unloaded " << v.name << " (" << v.reason << ")\n";
        } catch (const core::Error& err) {
            json failure = model_failure(err, v.name, code);
            a["ok"] = false;
            a["error"] = failure["error"];
        }
        actions.push_back(a);
    };
    for (const auto& v : plan.idle)
        act(v, "idle");
    for (const auto& v : plan.over_budget)
        act(v, "over_budget");
    if (plan.still_over && run.text && !ctx.global.json)
        std::cerr << "modelctl: gc: " << prefix << "pinned models alone exceed the budget of "
                  << core::util::format_size(budget->budget.bytes) << "\n";

    json result = {{"endpoint", e.name},
                   {"server", server_json(*provider)},
                   {"budget", budget ? budget_json(*budget) : json(nullptr)},
                   {"used_before", plan.used_before},
                   {"used_after", plan.used_after},
                   {"still_over_budget", plan.still_over},
                   {"actions", actions},
                   {"error", nullptr}};
    if (text && o.dry_run && actions.empty()) {
        std::cout << prefix << "nothing to unload: " << g.loaded << " loaded, none idle"
                  << (budget ? ", within the budget of " +
                                   core::util::format_size(budget->budget.bytes)
                             : std::string())
                  << "\n";
    }
    return result;
}

// One Ollama endpoint's gc --versions: for each model with versions kept,
// the version tags beyond its keep_versions go (dry run: are named).
json gc_versions_endpoint(Context& ctx, const Endpoint& e, const GcOptions& o,
                          const core::config::Config& cfg, const std::string& prefix, int& code) {
    namespace versions = core::versions;
    auto server = model_files_server(ctx, e);
    auto store = ctx.store(e);
    versions::Manager manager(*server, store);
    auto installed = server->installed();
    auto state = store.read();
    auto now = core::util::now();
    json actions = json::array();
    for (const auto& [name, v, keep] :
         core::operations::plan_version_gc(installed, state, cfg, e.provider)) {
        std::string why =
            "version " + versions::short_digest(v.digest) + " of " + name +
            (v.pulled_at ? ", pulled " + ago_text(v.pulled_at, now) + " ago" : std::string()) +
            ", beyond keep_versions " + std::to_string(keep);
        json a = {{"endpoint", e.name}, {"model", name},  {"tag", v.kept_by},
                  {"digest", v.digest}, {"size", v.size}, {"why", "versions"}};
        if (o.dry_run) {
            if (!ctx.global.json && !ctx.global.quiet)
                std::cout << prefix << "would delete " << v.kept_by << ": " << why << "\n";
            actions.push_back(a);
            continue;
        }
        try {
            manager.drop(name, v);
            a["ok"] = true;
            if (!ctx.global.json && !ctx.global.quiet)
                std::cout << prefix << "deleted " << v.kept_by << " (" << why << ")\n";
        } catch (const core::Error& err) {
            json failure = model_failure(err, v.kept_by, code);
            a["ok"] = false;
            a["error"] = failure["error"];
        }
        actions.push_back(a);
    }
    if (o.dry_run && actions.empty() && !ctx.global.json && !ctx.global.quiet)
        std::cout << prefix << "no versions beyond keep_versions\n";
    return {{"endpoint", e.name},
            {"server", server_json(*server)},
            {"actions", actions},
            {"error", nullptr}};
}

int run_gc(Context& ctx, const GcOptions& o) {
    if (o.versions && (!o.idle.empty() || !o.memory.empty()))
        throw core::Error(core::ErrorKind::Usage,
                          "gc --versions deletes model versions; --idle and --memory are for "
                          "unloading",
                          "run them as two commands");
    std::map<std::string, core::config::Flag> flags;
    if (!o.idle.empty())
        flags["idle_timeout"] = {"--idle", o.idle};
    if (!o.memory.empty())
        flags["budget.memory"] = {"--memory", o.memory};
    const auto& cfg = ctx.config(flags);
    auto store = ctx.store();

    // One gc at a time; the second one has nothing to add.
    store.ensure_dir();
    auto lock = core::store::LockFile::try_acquire(store.dir() / "gc.lock");
    if (!lock) {
        if (ctx.global.json)
            print_json({{"schema", "modelctl.gc/v2"}, {"skipped", "another gc is running"}});
        else if (!ctx.global.quiet)
            std::cerr << "modelctl: gc: another gc is running; nothing to do\n";
        return 0;
    }

    // Every endpoint (or the one --endpoint names), each with its own budget.
    auto endpoints = ctx.endpoints_to_visit();
    int code = 0;
    json results = json::array();
    json all_actions = json::array();
    std::optional<json> primary;
    for (const auto& e : endpoints) {
        std::string prefix = endpoints.size() > 1 ? e.name + ": " : "";
        json r;
        try {
            if (o.versions && e.provider != "ollama" && endpoints.size() > 1) {
                ctx.note("endpoint " + e.name + " left out: it keeps no model versions");
                continue;
            }
            r = o.versions ? gc_versions_endpoint(ctx, e, o, cfg, prefix, code)
                           : gc_endpoint(ctx, e, o, cfg, prefix, code);
        } catch (const core::Error& err) {
            if (err.kind() == core::ErrorKind::Store || err.kind() == core::ErrorKind::Usage ||
                err.kind() == core::ErrorKind::Interrupted)
                throw;
            if (ctx.absent(e, err))
                continue;
            if (endpoints.size() == 1)
                throw;
            report_endpoint(e.name, err, code);
            r = {{"endpoint", e.name}, {"error", error_json(err)}};
        }
        for (const auto& a : r.value("actions", json::array()))
            all_actions.push_back(a);
        if (e.name == ctx.endpoint().name)
            primary = r;
        results.push_back(std::move(r));
    }
    if (ctx.global.json) {
        json out = {{"schema", "modelctl.gc/v2"}, {"dry_run", o.dry_run}};
        if (o.versions) {
            out["versions"] = true;
            out["actions"] = all_actions;
            out["endpoints"] = results;
            print_json(out);
            return code;
        }
        print_json(gc_document(o, results, primary));
    }
    return code;
}

json gc_document(const GcOptions& o, const json& results, const std::optional<json>& primary) {
    // The top level is the endpoint commands use, as before endpoints, with
    // every endpoint's actions.
    json out = {{"schema", "modelctl.gc/v2"}, {"dry_run", o.dry_run}};
    json p = primary.value_or(json::object());
    for (const char* k : {"server", "budget", "used_before", "used_after", "still_over_budget"})
        out[k] = p.value(k, json(nullptr));
    out["actions"] = json::array();
    for (const auto& r : results)
        for (const auto& a : r.value("actions", json::array()))
            out["actions"].push_back(a);
    out["endpoints"] = results;
    return out;
}

} // namespace modelctl
