#include "cmd_status.hpp"

#include "output.hpp"
#include "provider/ollama_api.hpp"
#include "registry/planning.hpp"
#include "registry/registry.hpp"
#include "util/duration.hpp"
#include "util/size.hpp"

#include <iostream>
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

} // namespace

void setup_status(CLI::App& app, Context& ctx) {
    auto opts = std::make_shared<StatusOptions>();
    auto* sub = app.add_subcommand("status", "Show loaded models, where they sit and until when");
    sub->add_flag("-a,--all", opts->all, "Also list every installed model");
    sub->callback([&ctx, opts] { ctx.exit_code = run_status(ctx, *opts); });
}

int run_status(Context& ctx, const StatusOptions& o) {
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
