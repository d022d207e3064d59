#include "cmd_config.hpp"

#include "operations/planning.hpp"
#include "output.hpp"
#include "util/duration.hpp"
#include "util/text.hpp"

#include <iostream>
#include <memory>
#include <set>

namespace modelctl {

using json = nlohmann::ordered_json;
namespace config = core::config;

void setup_config(CLI::App& app, Context& ctx) {
    auto opts = std::make_shared<ConfigOptions>();
    auto* sub = app.add_subcommand("config", "Show or check the configuration");
    sub->require_subcommand(1);
    auto* show = sub->add_subcommand(
        "show", "Print every effective setting with where it came from (flag, env, file, default)");
    show->callback([&ctx, opts] { ctx.exit_code = run_config_show(ctx, *opts); });
    auto* check = sub->add_subcommand(
        "check", "Validate a config file (default: the one in use) without running anything");
    check->add_option("file", opts->file, "The file to check");
    check->callback([&ctx, opts] { ctx.exit_code = run_config_check(ctx, *opts); });
}

int run_config_check(Context& ctx, const ConfigOptions& o) {
    std::optional<std::filesystem::path> file;
    if (!o.file.empty())
        file = o.file;
    else if (!ctx.global.config.empty())
        file = ctx.global.config;
    // As serve's SIGHUP reads it: the file with this environment, every key
    // and value checked, the endpoints resolved. Throws Error{Usage}.
    auto cfg = config::load(ctx.env, file);
    auto endpoints = core::operations::resolve_endpoints(cfg);
    if (ctx.global.json) {
        json names = json::array();
        for (const auto& e : endpoints)
            names.push_back(e.name);
        print_json({{"schema", "modelctl.config-check/v1"},
                    {"file", cfg.file.string()},
                    {"file_exists", cfg.file_exists},
                    {"ok", true},
                    {"endpoints", names},
                    {"models", cfg.models.size()}});
    } else if (!ctx.global.quiet) {
        std::cout << core::util::printable(cfg.file.string())
                  << (cfg.file_exists ? ": ok" : ": absent (the defaults apply)") << ", "
                  << endpoints.size() << (endpoints.size() == 1 ? " endpoint, " : " endpoints, ")
                  << cfg.models.size() << (cfg.models.size() == 1 ? " model" : " models")
                  << " configured\n";
    }
    return 0;
}

namespace {

std::string keep_alive_text(const std::optional<core::util::KeepAlive>& k) {
    if (!k)
        return "-";
    return k->forever ? "forever" : core::util::format_duration(k->value);
}

} // namespace

int run_config_show(Context& ctx, const ConfigOptions&) {
    const auto& cfg = ctx.config();
    auto state = ctx.store().read();

    // Each per-model key as the endpoint's server names the model.
    const auto& kind = ctx.endpoint().provider;
    std::set<std::string> models;
    for (const auto& [key, m] : cfg.models)
        models.insert(core::provider::canonical_name(kind, key));
    for (const auto& [name, r] : state.models)
        if (r.pinned || r.priority)
            models.insert(name);

    json settings = json::array();
    Table table({"KEY", "VALUE", "SOURCE"});
    for (const auto& s : cfg.settings) {
        std::string source = config::source_name(s.source);
        if (!s.origin.empty())
            source += " (" + s.origin + ")";
        table.add({s.key, s.value.empty() ? "-" : s.value, source});
        settings.push_back({{"key", s.key},
                            {"value", s.value.empty() ? json(nullptr) : json(s.value)},
                            {"source", config::source_name(s.source)},
                            {"origin", s.origin.empty() ? json(nullptr) : json(s.origin)},
                            {"help", s.help}});
    }
    json per_model = json::array();
    Table mtable({"MODEL", "PIN", "PRIORITY", "KEEP ALIVE", "IDLE TIMEOUT", "NUM CTX"});
    for (const auto& name : models) {
        auto e = core::operations::effective_settings(name, kind, cfg, state);
        auto with = [](const std::string& v, config::Source s) {
            return s == config::Source::Default ? v : v + " (" + config::source_name(s) + ")";
        };
        mtable.add({name, with(e.pinned ? "yes" : "no", e.pin_source),
                    with(std::to_string(e.priority), e.priority_source),
                    keep_alive_text(e.keep_alive), core::util::format_duration(e.idle_timeout),
                    std::to_string(e.num_ctx)});
        per_model.push_back(
            {{"model", name},
             {"pinned", e.pinned},
             {"pin_source", config::source_name(e.pin_source)},
             {"priority", e.priority},
             {"priority_source", config::source_name(e.priority_source)},
             {"keep_alive", e.keep_alive ? json(e.keep_alive->json_seconds()) : json(nullptr)},
             {"idle_timeout_seconds", e.idle_timeout.count()},
             {"num_ctx", e.num_ctx}});
    }
    if (ctx.global.json) {
        print_json({{"schema", "modelctl.config/v1"},
                    {"file", cfg.file.string()},
                    {"file_exists", cfg.file_exists},
                    {"settings", settings},
                    {"models", per_model}});
        return 0;
    }
    std::cout << "Config file: " << cfg.file.string() << (cfg.file_exists ? "" : " (absent)")
              << "\n\n";
    table.print(std::cout, ctx.color());
    if (!mtable.empty()) {
        std::cout << "\n";
        mtable.print(std::cout, ctx.color());
    }
    return 0;
}

} // namespace modelctl
