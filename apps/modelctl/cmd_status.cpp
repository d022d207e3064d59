#include "cmd_status.hpp"

#include "commands.hpp"
#include "errors.hpp"
#include "metrics/prometheus.hpp"
#include "operations/planning.hpp"
#include "operations/status.hpp"
#include "output.hpp"
#include "registry/registry.hpp"
#include "util/duration.hpp"
#include "util/size.hpp"

#include <iostream>
#include <limits>
#include <memory>
#include <set>

namespace modelctl {

using json = nlohmann::ordered_json;
namespace util = core::util;

namespace {

// One endpoint as status sees it: its server's answer, or why there is none.
struct Seen {
    Endpoint endpoint;
    std::unique_ptr<core::provider::Provider> provider;
    std::optional<core::store::Store> store;
    std::optional<core::registry::Status> status;
    core::operations::StatusView view; // of `status`, when there is one
    std::string version;
    std::optional<core::Error> error; // unreachable (or failed)
    // For Prometheus: the budget (when one can be had) and what the store
    // knows, whether the server answered or not.
    std::optional<core::resources::BudgetReport> budget;
    core::store::State state;
};

// What to read of each endpoint besides its loaded models.
struct Look {
    bool installed = false; // and the server's version with them
    bool version = false;
    bool budget = false; // and the store's state even when the server is down
    bool record = true;  // false: write nothing to the store (Registry::peek)
};

// Reads every endpoint to visit, as `what` says; an optional one (the
// default LM Studio) that does not answer is left out, a failing one is kept
// with its error.
std::vector<Seen> look(Context& ctx, const Look& what) {
    std::vector<Seen> out;
    for (const auto& e : ctx.endpoints_to_visit()) {
        Seen s{e, ctx.provider(e), ctx.store(e), std::nullopt, {}, "", std::nullopt, {}, {}};
        try {
            core::registry::Registry registry(*s.provider, *s.store);
            s.status =
                what.record ? registry.status(what.installed) : registry.peek(what.installed);
            s.view = core::operations::status_view(*s.status, *s.provider, ctx.config());
            if (what.installed)
                s.version = s.status->version;
            else if (what.version)
                s.version = s.provider->version();
        } catch (const core::Error& err) {
            if (err.kind() == core::ErrorKind::Store || err.kind() == core::ErrorKind::Usage ||
                err.kind() == core::ErrorKind::Interrupted)
                throw;
            if (ctx.absent(e, err))
                continue;
            s.error = err;
        }
        if (what.budget) {
            s.state = s.status ? s.status->state : s.store->read();
            if (s.status) {
                try {
                    s.budget = ctx.budget(s.endpoint, s.status->loaded);
                } catch (const core::Error& err) {
                    ctx.note("endpoint " + s.endpoint.name + ": no budget: " + err.what());
                }
            }
        }
        out.push_back(std::move(s));
    }
    return out;
}

// Reports each endpoint that failed, naming it; returns the exit code.
int report_failures(const std::vector<Seen>& seen) {
    int code = 0;
    for (const auto& s : seen)
        if (s.error)
            report_endpoint(s.endpoint.name, *s.error, code);
    return code;
}

json record_json(const core::store::ModelRecord* r) {
    if (!r)
        return {{"loads", 0},
                {"last_used", nullptr},
                {"last_load", nullptr},
                {"capabilities", json::array()}};
    json last_load = nullptr;
    if (r->last_load)
        last_load = {{"at", time_json(r->last_load->at)},
                     {"seconds", r->last_load->seconds},
                     {"size", r->last_load->size},
                     {"size_vram", r->last_load->size_vram}};
    return {{"loads", r->loads},
            {"last_used", time_json(r->last_used)},
            {"last_load", last_load},
            {"capabilities", r->capabilities}};
}

// What the store knows, whether the server answers or not: uses, loads and
// the newest bench result of each model.
void store_metrics(core::metrics::Exposition& e,
                   const std::vector<std::pair<std::string, const core::store::State*>>& states) {
    using core::metrics::Labels;
    // Each model of each endpoint, labelled {endpoint, model}.
    auto each = [&](auto&& f) {
        for (const auto& [endpoint, st] : states)
            for (const auto& [name, r] : st->models)
                f(Labels{{"endpoint", endpoint}, {"model", name}}, r);
    };
    e.family("modelctl_model_uses_total", "counter", "Uses of a model recorded by modelctl.");
    each([&](const Labels& l, const core::store::ModelRecord& r) {
        if (r.usage.uses)
            e.sample(l, static_cast<double>(r.usage.uses));
    });
    e.family("modelctl_model_failures_total", "counter", "Recorded uses of a model that failed.");
    each([&](const Labels& l, const core::store::ModelRecord& r) {
        if (r.usage.uses)
            e.sample(l, static_cast<double>(r.usage.failures));
    });
    e.family("modelctl_model_loads_total", "counter", "Loads of a model modelctl made and timed.");
    each([&](const Labels& l, const core::store::ModelRecord& r) {
        if (r.loads)
            e.sample(l, r.loads);
    });
    e.family("modelctl_model_last_load_seconds", "gauge", "How long a model's last load took.");
    each([&](const Labels& l, const core::store::ModelRecord& r) {
        if (r.last_load)
            e.sample(l, r.last_load->seconds);
    });
    struct Bench {
        const char* name;
        const char* help;
        double (*value)(const core::bench::Result&);
    };
    static const Bench bench[] = {
        {"modelctl_bench_tokens_per_second", "Median generation tokens/s of the last bench.",
         [](const core::bench::Result& b) { return b.tokens_per_second.median; }},
        {"modelctl_bench_prompt_tokens_per_second", "Median prompt tokens/s of the last bench.",
         [](const core::bench::Result& b) { return b.prompt_tokens_per_second.median; }},
        {"modelctl_bench_ttft_seconds", "Median time to first token of the last bench.",
         [](const core::bench::Result& b) { return b.ttft_ms.median / 1000; }},
        {"modelctl_bench_total_seconds", "Median total time of an answer in the last bench.",
         [](const core::bench::Result& b) { return b.total_ms.median / 1000; }},
        {"modelctl_bench_timestamp_seconds", "When the last bench ran (Unix time).",
         [](const core::bench::Result& b) { return core::operations::epoch_seconds(b.at); }},
    };
    for (const auto& b : bench) {
        e.family(b.name, "gauge", b.help);
        each([&](const Labels& l, const core::store::ModelRecord& r) {
            if (!r.bench.empty())
                e.sample(l, b.value(r.bench.back()));
        });
    }
    e.family("modelctl_bench_load_seconds", "gauge", "Load time measured by the last bench.");
    each([&](const Labels& l, const core::store::ModelRecord& r) {
        if (!r.bench.empty() && r.bench.back().load_seconds)
            e.sample(l, *r.bench.back().load_seconds);
    });
}

// The Prometheus text of what was seen.
std::string prometheus_text(const std::vector<Seen>& seen) {
    core::metrics::Exposition e;
    auto at = [](const Seen& s) {
        return core::metrics::Labels{{"endpoint", s.endpoint.name},
                                     {"server", s.provider->address()}};
    };
    auto with = [&](const Seen& s, const core::provider::LoadedModel& m) {
        auto l = at(s);
        l.emplace_back("model", m.name);
        return l;
    };
    e.family("modelctl_server_up", "gauge", "Whether the model server answered (1) or not (0).");
    for (const auto& s : seen)
        e.sample(at(s), s.status ? 1 : 0);
    e.family("modelctl_server_info", "gauge", "The model server's kind and version.");
    for (const auto& s : seen)
        if (s.status) {
            auto l = at(s);
            l.emplace_back("kind", s.provider->kind());
            l.emplace_back("version", s.version);
            e.sample(l, 1);
        }
    e.family("modelctl_models_loaded", "gauge", "Models in the server's memory.");
    for (const auto& s : seen)
        if (s.status)
            e.sample(at(s), static_cast<double>(s.status->loaded.size()));
    e.family("modelctl_model_memory_bytes", "gauge",
             "Memory a loaded model holds, on the GPU (vram) and in system memory (ram); "
             "left out where the server does not report it (LM Studio).");
    for (const auto& s : seen)
        if (s.status)
            for (const auto& m : s.status->loaded) {
                if (!m.size_reported)
                    continue;
                auto l = with(s, m);
                l.emplace_back("memory", "vram");
                e.sample(l, static_cast<double>(m.size_vram));
                l.back().second = "ram";
                e.sample(l, static_cast<double>(m.size - std::min(m.size, m.size_vram)));
            }
    e.family("modelctl_model_context_length", "gauge", "Context length a model is loaded with.");
    for (const auto& s : seen)
        if (s.status)
            for (const auto& m : s.status->loaded)
                if (m.context_length)
                    e.sample(with(s, m), m.context_length);
    e.family("modelctl_model_expiry_timestamp_seconds", "gauge",
             "When the server will unload a loaded model (Unix time; +Inf: never).");
    for (const auto& s : seen)
        if (s.status)
            for (const auto& m : s.status->loaded) {
                auto kind = core::provider::classify_expiry(m.expires_at, s.status->now);
                if (kind == core::provider::Expiry::Never || !m.expiry_reported)
                    continue; // the server gave no expiry
                e.sample(with(s, m), kind == core::provider::Expiry::Forever
                                         ? std::numeric_limits<double>::infinity()
                                         : core::operations::epoch_seconds(*m.expires_at));
            }
    e.family("modelctl_model_pinned", "gauge", "Whether a loaded model is pinned (1) or not (0).");
    for (const auto& s : seen)
        for (const auto& v : s.view.loaded)
            e.sample(with(s, v.model), v.settings.pinned ? 1 : 0);
    e.family("modelctl_memory_budget_bytes", "gauge",
             "The memory budget modelctl plans loaded models within.");
    for (const auto& s : seen)
        if (s.budget) {
            auto l = at(s);
            l.emplace_back("pool", s.budget->pool);
            e.sample(l, static_cast<double>(s.budget->budget.bytes));
        }
    std::vector<std::pair<std::string, const core::store::State*>> states;
    for (const auto& s : seen)
        states.emplace_back(s.endpoint.name, &s.state);
    store_metrics(e, states);
    return e.text();
}

// status --json: every endpoint, and at the top level the one commands use
// (`primary`, as before endpoints).
json status_document(const std::vector<Seen>& seen, const std::string& primary_name, bool all,
                     core::util::Timestamp now) {
    auto primary = std::find_if(seen.begin(), seen.end(),
                                [&](const Seen& s) { return s.endpoint.name == primary_name; });
    auto loaded_of = [&](const Seen& s) {
        json loaded = json::array();
        for (const auto& v : s.view.loaded) {
            json j = loaded_json(v.model, now);
            j["known"] = record_json(v.record);
            j["pinned"] = v.settings.pinned;
            j["priority"] = v.settings.priority;
            j["idle_seconds"] = v.idle_seconds ? json(*v.idle_seconds) : json(nullptr);
            loaded.push_back(std::move(j));
        }
        return loaded;
    };
    auto installed_of = [&](const Seen& s) {
        json installed = json::array();
        for (const auto& v : s.view.installed)
            installed.push_back({{"name", v.model.name},
                                 {"digest", v.model.digest},
                                 {"size", v.model.size},
                                 {"modified_at", time_json(v.model.modified_at)},
                                 {"loaded", v.loaded},
                                 {"details", details_json(v.model.details)},
                                 {"known", record_json(v.record)}});
        return installed;
    };
    json endpoints = json::array();
    for (const auto& s : seen) {
        json j = {{"name", s.endpoint.name},
                  {"provider", s.endpoint.provider},
                  {"address", s.provider->address()},
                  {"reachable", s.status.has_value()},
                  {"error", s.error ? error_json(*s.error) : json(nullptr)},
                  {"version", all && s.status ? json(s.version) : json(nullptr)},
                  {"loaded", loaded_of(s)}};
        if (all)
            j["installed"] = installed_of(s);
        endpoints.push_back(std::move(j));
    }
    // The top level describes the endpoint commands use, as before endpoints.
    json out = {{"schema", "modelctl.status/v1"}};
    if (primary != seen.end()) {
        out["server"] = {
            {"kind", primary->provider->kind()},
            {"address", primary->provider->address()},
            {"version", all && primary->status ? json(primary->version) : json(nullptr)}};
        out["now"] = time_json(now);
        out["loaded"] = loaded_of(*primary);
        if (all)
            out["installed"] = installed_of(*primary);
    } else {
        out["server"] = nullptr;
        out["now"] = time_json(now);
        out["loaded"] = json::array();
    }
    out["endpoints"] = std::move(endpoints);
    return out;
}

// The tables of each endpoint, for a person.
void print_tables(std::ostream& out, const std::vector<Seen>& seen, bool all, bool loaded_table,
                  core::util::Timestamp now, bool color) {
    bool several = seen.size() > 1;
    bool first = true;
    for (const auto& s : seen) {
        if (!first)
            out << "\n";
        first = false;
        if (several)
            out << s.endpoint.name << " (" << s.endpoint.provider << " at " << s.provider->address()
                << ")" << (s.status ? ":" : ": unreachable, see the error above") << "\n";
        if (!s.status)
            continue;
        const auto& st = *s.status;
        const auto& view = s.view;
        if (!loaded_table) {
        } else if (view.loaded.empty()) {
            out << "No models loaded on " << s.provider->address() << ".\n";
        } else {
            Table t({"NAME", "ID", "SIZE", "PROCESSOR", "CONTEXT", "UNTIL", "IDLE", "LOADS",
                     "LAST LOAD", "PIN"});
            for (const auto& v : view.loaded) {
                const auto& m = v.model;
                const auto* r = v.record;
                std::string id = !m.digest.empty() ? m.digest.substr(0, 12)
                                 : !m.instance_id.empty() && m.instance_id != m.name ? m.instance_id
                                                                                     : "-";
                t.add({m.name, id, (m.size_reported ? "" : "~") + util::format_size(m.size),
                       m.size_reported ? core::provider::processor_label(m.size, m.size_vram)
                                       : "unknown",
                       m.context_length ? std::to_string(m.context_length) : "-",
                       m.expiry_reported ? until_text(m.expires_at, now) : "unknown",
                       r ? ago_text(r->last_used, now) : "-", std::to_string(r ? r->loads : 0),
                       r && r->last_load ? elapsed_text(r->last_load->seconds) : "-",
                       v.settings.pinned ? "yes" : "-"});
            }
            t.print(out, color);
        }
        bool unplaced = view.sizes_unreported, no_expiry = view.expiry_unreported;
        if (unplaced || no_expiry)
            out << s.provider->kind() << " does not report"
                << (unplaced ? " the memory a loaded model holds (~: its file's size)" : "")
                << (unplaced && no_expiry ? " or" : "")
                << (no_expiry ? " when it will unload one" : "") << ".\n";
        if (all) {
            if (loaded_table)
                out << "\n"
                    << s.provider->kind() << " " << st.version << " at " << s.provider->address()
                    << ", " << st.installed.size() << " models installed:\n";
            else if (view.installed.empty()) {
                out << "No models installed on " << s.provider->address() << ".\n";
                continue;
            }
            Table t({loaded_table ? "INSTALLED" : "NAME", "ID", "SIZE", "PARAMS", "QUANT",
                     "MODIFIED", "LOADED", "LOADS"});
            for (const auto& v : view.installed) {
                const auto& m = v.model;
                t.add({m.name, m.digest.empty() ? "-" : m.digest.substr(0, 12),
                       m.size ? util::format_size(m.size) : "-",
                       m.details.parameter_size.empty() ? "-" : m.details.parameter_size,
                       m.details.quantization_level.empty() ? "-" : m.details.quantization_level,
                       m.modified_at ? core::util::human_time(*m.modified_at, now) : "-",
                       v.loaded ? "yes" : "no", std::to_string(v.record ? v.record->loads : 0)});
            }
            t.print(out, color);
        }
    }
}

} // namespace

void setup_status(CLI::App& app, Context& ctx) {
    auto opts = std::make_shared<StatusOptions>();
    auto* sub = app.add_subcommand("status", "Show loaded models, where they sit and until when");
    sub->alias("ps");
    sub->add_flag("-a,--all", opts->all, "Also list every installed model");
    sub->add_option("--format", opts->format,
                    "Output: text (default), json, or prometheus (for node_exporter's textfile "
                    "collector)")
        ->check(one_of({"text", "json", "prometheus"}));
    sub->callback([&ctx, opts] { ctx.exit_code = run_status(ctx, *opts); });
}

json status_json(Context& ctx, bool all) {
    auto seen = look(ctx, {.installed = all, .version = false, .budget = false});
    return status_document(seen, ctx.endpoint().name, all, core::util::now());
}

void setup_list(CLI::App& app, Context& ctx) {
    auto* sub = app.add_subcommand("list", "List the installed models (as ollama list)");
    sub->alias("ls");
    sub->callback([&ctx] {
        StatusOptions o;
        o.all = o.installed_only = true;
        ctx.exit_code = run_status(ctx, o);
    });
}

int run_status(Context& ctx, const StatusOptions& o) {
    if (o.format == "prometheus") {
        auto seen = look(ctx, {.installed = false, .version = true, .budget = true});
        int code = report_failures(seen);
        std::cout << prometheus_text(seen) << std::flush;
        return code;
    }
    if (o.format == "json")
        ctx.global.json = true;
    auto seen = look(
        ctx, {.installed = o.all, .version = false, .budget = false, .record = !o.installed_only});
    // One endpoint alone (the usual case) fails as before: no output, exit 3.
    if (seen.size() == 1 && seen[0].error)
        throw *seen[0].error;
    int code = report_failures(seen);
    const auto now = core::util::now();
    if (ctx.global.json) {
        print_json(status_document(seen, ctx.endpoint().name, o.all, now));
    } else if (ctx.global.quiet) { // names only, for scripts: loaded (with --all, installed)
        for (const auto& s : seen)
            if (s.status) {
                if (o.all)
                    for (const auto& m : s.status->installed)
                        std::cout << m.name << "\n";
                else
                    for (const auto& m : s.status->loaded)
                        std::cout << m.name << "\n";
            }
    } else {
        print_tables(std::cout, seen, o.all, !o.installed_only, now, ctx.color());
    }
    return code;
}

} // namespace modelctl
