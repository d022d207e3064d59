#include "cmd_status.hpp"

#include "errors.hpp"
#include "metrics/prometheus.hpp"
#include "output.hpp"
#include "provider/ollama_api.hpp"
#include "registry/planning.hpp"
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

const core::store::ModelRecord* record_of(const core::store::State& st, const std::string& name) {
    auto it = st.models.find(core::provider::ollama::normalize_name(name));
    return it == st.models.end() ? nullptr : &it->second;
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
void store_metrics(core::metrics::Exposition& e, const core::store::State& st) {
    using core::metrics::Labels;
    e.family("modelctl_model_uses_total", "counter", "Uses of a model recorded by modelctl.");
    for (const auto& [name, r] : st.models)
        if (r.usage.uses)
            e.sample({{"model", name}}, static_cast<double>(r.usage.uses));
    e.family("modelctl_model_failures_total", "counter", "Recorded uses of a model that failed.");
    for (const auto& [name, r] : st.models)
        if (r.usage.uses)
            e.sample({{"model", name}}, static_cast<double>(r.usage.failures));
    e.family("modelctl_model_loads_total", "counter", "Loads of a model modelctl made and timed.");
    for (const auto& [name, r] : st.models)
        if (r.loads)
            e.sample({{"model", name}}, r.loads);
    e.family("modelctl_model_last_load_seconds", "gauge", "How long a model's last load took.");
    for (const auto& [name, r] : st.models)
        if (r.last_load)
            e.sample({{"model", name}}, r.last_load->seconds);
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
         [](const core::bench::Result& b) { return core::registry::epoch_seconds(b.at); }},
    };
    for (const auto& b : bench) {
        e.family(b.name, "gauge", b.help);
        for (const auto& [name, r] : st.models)
            if (!r.bench.empty())
                e.sample({{"model", name}}, b.value(r.bench.back()));
    }
    e.family("modelctl_bench_load_seconds", "gauge", "Load time measured by the last bench.");
    for (const auto& [name, r] : st.models)
        if (!r.bench.empty() && r.bench.back().load_seconds)
            e.sample({{"model", name}}, *r.bench.back().load_seconds);
}

int status_prometheus(Context& ctx) {
    const auto& cfg = ctx.config();
    auto provider = ctx.provider();
    auto store = ctx.store();
    core::registry::Registry registry(*provider, store);
    core::metrics::Exposition e;
    std::string server = provider->address();
    core::metrics::Labels at = {{"server", server}};
    std::optional<core::registry::Status> s;
    std::string version;
    int code = 0;
    try {
        s = registry.status(false);
        version = provider->version();
    } catch (const core::Error& err) {
        if (err.kind() != core::ErrorKind::Unreachable)
            throw;
        code = report(err); // the metrics still say so, for alerts on modelctl_server_up
    }
    e.family("modelctl_server_up", "gauge", "Whether the model server answered (1) or not (0).");
    e.sample(at, s ? 1 : 0);
    if (s) {
        e.family("modelctl_server_info", "gauge", "The model server's kind and version.");
        e.sample({{"server", server}, {"kind", provider->kind()}, {"version", version}}, 1);
        e.family("modelctl_models_loaded", "gauge", "Models in the server's memory.");
        e.sample(at, static_cast<double>(s->loaded.size()));
        e.family("modelctl_model_memory_bytes", "gauge",
                 "Memory a loaded model holds, on the GPU (vram) and in system memory (ram).");
        for (const auto& m : s->loaded) {
            e.sample({{"server", server}, {"model", m.name}, {"memory", "vram"}},
                     static_cast<double>(m.size_vram));
            e.sample({{"server", server}, {"model", m.name}, {"memory", "ram"}},
                     static_cast<double>(m.size - std::min(m.size, m.size_vram)));
        }
        e.family("modelctl_model_context_length", "gauge",
                 "Context length a model is loaded with.");
        for (const auto& m : s->loaded)
            if (m.context_length)
                e.sample({{"server", server}, {"model", m.name}}, m.context_length);
        e.family("modelctl_model_expiry_timestamp_seconds", "gauge",
                 "When the server will unload a loaded model (Unix time; +Inf: never).");
        for (const auto& m : s->loaded) {
            auto kind = core::provider::classify_expiry(m.expires_at, s->now);
            if (kind == core::provider::Expiry::Never)
                continue; // the server gave no expiry
            e.sample({{"server", server}, {"model", m.name}},
                     kind == core::provider::Expiry::Forever
                         ? std::numeric_limits<double>::infinity()
                         : core::registry::epoch_seconds(*m.expires_at));
        }
        e.family("modelctl_model_pinned", "gauge",
                 "Whether a loaded model is pinned (1) or not (0).");
        for (const auto& m : s->loaded)
            e.sample(
                {{"server", server}, {"model", m.name}},
                core::registry::effective_settings(m.name, cfg, record_of(s->state, m.name)).pinned
                    ? 1
                    : 0);
        try {
            auto budget = ctx.budget(s->loaded);
            e.family("modelctl_memory_budget_bytes", "gauge",
                     "The memory budget modelctl plans loaded models within.");
            e.sample({{"server", server}, {"pool", budget.pool}},
                     static_cast<double>(budget.budget.bytes));
        } catch (const core::Error& err) {
            ctx.note(std::string("no budget: ") + err.what());
        }
        store_metrics(e, s->state);
    } else {
        store_metrics(e, store.read());
    }
    std::cout << e.text() << std::flush;
    return code;
}

} // namespace

void setup_status(CLI::App& app, Context& ctx) {
    auto opts = std::make_shared<StatusOptions>();
    auto* sub = app.add_subcommand("status", "Show loaded models, where they sit and until when");
    sub->add_flag("-a,--all", opts->all, "Also list every installed model");
    sub->add_option("--format", opts->format,
                    "Output: text (default), json, or prometheus (for node_exporter's textfile "
                    "collector)")
        ->check(CLI::IsMember({"text", "json", "prometheus"}));
    sub->callback([&ctx, opts] { ctx.exit_code = run_status(ctx, *opts); });
}

int run_status(Context& ctx, const StatusOptions& o) {
    if (o.format == "prometheus")
        return status_prometheus(ctx);
    if (o.format == "json")
        ctx.global.json = true;
    const auto& cfg = ctx.config();
    auto provider = ctx.provider();
    auto store = ctx.store();
    core::registry::Registry registry(*provider, store);
    auto s = registry.status(o.all);
    const auto now = s.now;
    auto settings = [&](const std::string& name) {
        return core::registry::effective_settings(name, cfg, record_of(s.state, name));
    };

    if (ctx.global.json) {
        json loaded = json::array();
        for (const auto& m : s.loaded) {
            json j = loaded_json(m, now);
            const auto* r = record_of(s.state, m.name);
            j["known"] = record_json(r);
            auto eff = settings(m.name);
            j["pinned"] = eff.pinned;
            j["priority"] = eff.priority;
            j["idle_seconds"] =
                r && r->last_used ? json(std::chrono::duration<double>(now - *r->last_used).count())
                                  : json(nullptr);
            loaded.push_back(std::move(j));
        }
        json out = {{"schema", "modelctl.status/v1"},
                    {"server",
                     {{"kind", provider->kind()},
                      {"address", provider->address()},
                      {"version", o.all ? json(s.version) : json(nullptr)}}},
                    {"now", time_json(now)},
                    {"loaded", loaded}};
        if (o.all) {
            json installed = json::array();
            for (const auto& m : s.installed) {
                bool is_loaded = false;
                for (const auto& l : s.loaded)
                    is_loaded = is_loaded || core::provider::ollama::same_model(l.name, m.name);
                installed.push_back({{"name", m.name},
                                     {"digest", m.digest},
                                     {"size", m.size},
                                     {"modified_at", time_json(m.modified_at)},
                                     {"loaded", is_loaded},
                                     {"details", details_json(m.details)},
                                     {"known", record_json(record_of(s.state, m.name))}});
            }
            out["installed"] = installed;
        }
        print_json(out);
        return 0;
    }

    if (ctx.global.quiet) { // names only, for scripts
        for (const auto& m : s.loaded)
            std::cout << m.name << "\n";
        return 0;
    }

    bool color = ctx.color();
    if (s.loaded.empty()) {
        std::cout << "No models loaded on " << provider->address() << ".\n";
    } else {
        Table t({"NAME", "ID", "SIZE", "PROCESSOR", "CONTEXT", "UNTIL", "IDLE", "LOADS",
                 "LAST LOAD", "PIN"});
        for (const auto& m : s.loaded) {
            const auto* r = record_of(s.state, m.name);
            t.add({m.name, m.digest.substr(0, 12), util::format_size(m.size),
                   core::provider::processor_label(m.size, m.size_vram),
                   m.context_length ? std::to_string(m.context_length) : "-",
                   until_text(m.expires_at, now), r ? ago_text(r->last_used, now) : "-",
                   std::to_string(r ? r->loads : 0),
                   r && r->last_load ? elapsed_text(r->last_load->seconds) : "-",
                   settings(m.name).pinned ? "yes" : "-"});
        }
        t.print(std::cout, color);
    }
    if (o.all) {
        std::cout << "\n"
                  << provider->kind() << " " << s.version << " at " << provider->address() << ", "
                  << s.installed.size() << " models installed:\n";
        Table t({"INSTALLED", "ID", "SIZE", "PARAMS", "QUANT", "MODIFIED", "LOADED", "LOADS"});
        for (const auto& m : s.installed) {
            bool is_loaded = false;
            for (const auto& l : s.loaded)
                is_loaded = is_loaded || core::provider::ollama::same_model(l.name, m.name);
            const auto* r = record_of(s.state, m.name);
            t.add({m.name, m.digest.substr(0, 12), util::format_size(m.size),
                   m.details.parameter_size.empty() ? "-" : m.details.parameter_size,
                   m.details.quantization_level.empty() ? "-" : m.details.quantization_level,
                   m.modified_at ? ago_text(m.modified_at, now) + " ago" : "-",
                   is_loaded ? "yes" : "no", std::to_string(r ? r->loads : 0)});
        }
        t.print(std::cout, color);
    }
    return 0;
}

} // namespace modelctl
