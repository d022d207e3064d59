#include "cmd_pin.hpp"

#include "error.hpp"
#include "errors.hpp"
#include "operations/planning.hpp"
#include "output.hpp"
#include "registry/registry.hpp"

#include <iostream>
#include <memory>

namespace modelctl {

using json = nlohmann::ordered_json;

namespace {

void setup(CLI::App& app, Context& ctx, bool pin) {
    auto opts = std::make_shared<PinOptions>();
    opts->pin = pin;
    auto* sub = app.add_subcommand(pin ? "pin" : "unpin",
                                   pin ? "Pin models: load and gc never evict them"
                                       : "Unpin models: the policy may evict them again");
    auto* models =
        sub->add_option("models", opts->models,
                        pin ? "Installed models (none: list the pinned ones)" : "Pinned models");
    if (!pin)
        models->required();
    sub->callback([&ctx, opts] { ctx.exit_code = run_pin(ctx, *opts); });
}

} // namespace

void setup_pin(CLI::App& app, Context& ctx) {
    setup(app, ctx, true);
}

void setup_unpin(CLI::App& app, Context& ctx) {
    setup(app, ctx, false);
}

const core::provider::InstalledModel&
find_installed(Context& ctx, const std::vector<core::provider::InstalledModel>& installed,
               const std::string& model, const std::string& server) {
    for (const auto& m : installed)
        if (ctx.same_model(m.name, model))
            return m;
    throw core::Error(core::ErrorKind::NotFound,
                      "model '" + model + "' is not installed on the server at " + server,
                      "modelctl list lists the installed models");
}

std::string installed_name(Context& ctx, const std::string& model) {
    auto provider = ctx.provider();
    return find_installed(ctx, provider->installed(), model, provider->address()).name;
}

namespace {

// `modelctl pin` with no model: the pinned models, and by what.
int list_pins(Context& ctx) {
    const auto& cfg = ctx.config();
    auto provider = ctx.provider();
    auto state = ctx.store().read();
    json results = json::array();
    for (const auto& name : core::operations::pinned_names(state, cfg, provider->kind())) {
        auto it = state.models.find(name);
        bool by_store = it != state.models.end() && it->second.pinned.value_or(false);
        results.push_back(
            {{"model", name}, {"pinned", true}, {"pinned_by", by_store ? "store" : "file"}});
        if (ctx.global.quiet)
            std::cout << name << "\n";
        else if (!ctx.global.json)
            std::cout << name << (by_store ? "" : " (pinned by " + cfg.file.string() + ")") << "\n";
    }
    if (ctx.global.json)
        print_json({{"schema", "modelctl.pin/v1"}, {"results", results}});
    else if (results.empty() && !ctx.global.quiet)
        std::cout << "No models are pinned (modelctl pin MODEL pins one).\n";
    return 0;
}

} // namespace

int run_pin(Context& ctx, const PinOptions& o) {
    if (o.pin && o.models.empty())
        return list_pins(ctx);
    const auto& cfg = ctx.config();
    auto provider = ctx.provider();
    auto installed = provider->installed();
    std::vector<std::string> names;
    for (const auto& m : o.models) // all checked before any change
        names.push_back(find_installed(ctx, installed, m, provider->address()).name);
    auto store = ctx.store();
    core::registry::Registry reg(*provider, store);
    json results = json::array();
    int code = 0;
    auto before = store.read();
    for (const auto& n : names) {
        const auto* entry = core::operations::config_entry(cfg, provider->kind(), n);
        auto it = before.models.find(n);
        bool was_pinned = (it != before.models.end() && it->second.pinned.value_or(false)) ||
                          (entry && entry->pin.value_or(false));
        if (!o.pin && !was_pinned) {
            results.push_back({{"model", n}, {"pinned", false}});
            if (!ctx.global.json && !ctx.global.quiet)
                std::cout << n << " was not pinned\n";
            continue;
        }
        reg.set_pin(n, o.pin);
        if (!o.pin && entry && entry->pin.value_or(false)) {
            code = report(n + " stays pinned by the config file " + cfg.file.string(),
                          "remove \"pin\" from its entry there", kFailed);
            results.push_back({{"model", n}, {"pinned", true}, {"pinned_by", "file"}});
            continue;
        }
        results.push_back({{"model", n}, {"pinned", o.pin}});
        if (!ctx.global.json && !ctx.global.quiet)
            std::cout << (o.pin ? "pinned " : "unpinned ") << n << "\n";
    }
    if (ctx.global.json)
        print_json({{"schema", "modelctl.pin/v1"}, {"results", results}});
    return code;
}

} // namespace modelctl
