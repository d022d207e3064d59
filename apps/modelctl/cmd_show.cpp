#include "cmd_show.hpp"

#include "cmd_pin.hpp"
#include "operations/planning.hpp"
#include "output.hpp"
#include "util/duration.hpp"
#include "util/size.hpp"
#include "util/text.hpp"

#include <iostream>
#include <memory>

namespace modelctl {

using json = nlohmann::ordered_json;

void setup_show(CLI::App& app, Context& ctx) {
    auto opts = std::make_shared<ShowOptions>();
    auto* sub = app.add_subcommand(
        "show",
        "Show a model: what its server says of it and what modelctl knows (as ollama show)");
    sub->add_option("model", opts->model, "An installed model")->required();
    sub->callback([&ctx, opts] { ctx.exit_code = run_show(ctx, *opts); });
}

namespace {

std::string or_dash(const std::string& s) {
    return s.empty() ? "-" : core::util::printable(s);
}

} // namespace

int run_show(Context& ctx, const ShowOptions& o) {
    std::string name = installed_name(ctx, o.model);
    auto provider = ctx.provider();
    const auto& cfg = ctx.config();
    auto info = provider->show(name);
    auto state = ctx.store().read();
    auto it = state.models.find(name);
    const core::store::ModelRecord* r = it == state.models.end() ? nullptr : &it->second;
    auto eff = core::operations::effective_settings(name, provider->kind(), cfg, r);
    std::optional<core::provider::LoadedModel> loaded;
    for (const auto& m : provider->loaded())
        if (m.name == name)
            loaded = m;
    auto now = core::util::now();
    uint64_t context =
        core::operations::architecture_number(info.model_info, "context_length").value_or(0);
    uint64_t embedding =
        core::operations::architecture_number(info.model_info, "embedding_length").value_or(0);
    std::string arch = info.model_info.is_object()
                           ? info.model_info.value("general.architecture", info.details.family)
                           : info.details.family;

    if (ctx.global.json) {
        json observed = json::array();
        if (r)
            for (const auto& [num_ctx, ob] : r->observed)
                observed.push_back({{"num_ctx", num_ctx},
                                    {"size", ob.size},
                                    {"size_vram", ob.size_vram},
                                    {"at", time_json(ob.at)}});
        json uses = nullptr;
        if (r && r->usage.uses)
            uses = {{"count", r->usage.uses},
                    {"failures", r->usage.failures},
                    {"latency_p50_ms", r->usage.latency.quantile(0.5)},
                    {"tokens_per_second", r->usage.tokens_per_second()}};
        print_json(
            {{"schema", "modelctl.show/v2"},
             {"server", server_json(*provider)},
             {"model", name},
             {"architecture", arch},
             {"details", details_json(info.details)},
             {"context_length", context ? json(context) : json(nullptr)},
             {"embedding_length", embedding ? json(embedding) : json(nullptr)},
             {"capabilities", info.capabilities},
             {"modified_at", time_json(info.modified_at)},
             {"loaded", loaded ? loaded_json(*loaded, now) : json(nullptr)},
             {"pinned", eff.pinned},
             {"priority", eff.priority},
             {"keep_alive", eff.keep_alive ? json(eff.keep_alive->json_seconds()) : json(nullptr)},
             {"idle_timeout", eff.idle_timeout.count()},
             {"num_ctx", eff.num_ctx ? json(eff.num_ctx) : json(nullptr)},
             {"loads", r ? r->loads : 0},
             {"last_load_seconds", r && r->last_load ? json(r->last_load->seconds) : json(nullptr)},
             {"last_used", time_json(r ? r->last_used : std::nullopt)},
             {"observed", observed},
             {"uses", uses}});
        return 0;
    }
    if (ctx.global.quiet) {
        std::cout << name << "\n";
        return 0;
    }
    auto row = [](const std::string& k, const std::string& v) {
        std::string pad = k.size() < 20 ? std::string(20 - k.size(), ' ') : " ";
        std::cout << "    " << k << pad << v << "\n";
    };
    std::cout << "  Model\n";
    row("architecture", or_dash(arch));
    row("parameters", or_dash(info.details.parameter_size));
    row("context length", context ? std::to_string(context) : "-");
    row("embedding length", embedding ? std::to_string(embedding) : "-");
    row("quantization", or_dash(info.details.quantization_level));
    if (!info.capabilities.empty()) {
        std::cout << "\n  Capabilities\n";
        for (const auto& c : info.capabilities)
            std::cout << "    " << core::util::printable(c) << "\n";
    }
    std::cout << "\n  modelctl\n";
    row("loaded", loaded ? loaded_text(*loaded, now) : "no");
    row("pinned", !eff.pinned                                    ? "no"
                  : eff.pin_source == core::config::Source::File ? "yes, by the config file"
                                                                 : "yes");
    row("priority", std::to_string(eff.priority));
    row("keep_alive", !eff.keep_alive ? "the server's default"
                      : eff.keep_alive->forever
                          ? "forever"
                          : core::util::format_duration(eff.keep_alive->value));
    row("idle_timeout",
        eff.idle_timeout.count() > 0 ? core::util::format_duration(eff.idle_timeout) : "never");
    if (r && !r->observed.empty()) {
        std::string seen;
        for (const auto& [num_ctx, ob] : r->observed)
            seen += (seen.empty() ? "" : ", ") + core::util::format_size(ob.size) + " at context " +
                    std::to_string(num_ctx);
        row("memory observed", seen);
    }
    row("loads", r && r->loads ? std::to_string(r->loads) + ", the last in " +
                                     elapsed_text(r->last_load ? r->last_load->seconds : 0)
                               : "none recorded");
    row("uses", r && r->usage.uses ? std::to_string(r->usage.uses) + ", the last " +
                                         ago_text(r->last_used, now) + " ago"
                                   : "none recorded");
    return 0;
}

} // namespace modelctl
