#include "cmd_unload.hpp"

#include "errors.hpp"
#include "output.hpp"
#include "progress.hpp"
#include "registry/registry.hpp"
#include "util/duration.hpp"
#include "util/size.hpp"

#include <iostream>
#include <memory>

namespace modelctl {

using json = nlohmann::ordered_json;

void setup_unload(CLI::App& app, Context& ctx) {
    auto opts = std::make_shared<UnloadOptions>();
    auto* sub = app.add_subcommand("unload", "Unload models and wait until their memory is free");
    sub->add_option("models", opts->models, "Models to unload");
    sub->add_flag("-a,--all", opts->all, "Unload every loaded model");
    sub->callback([&ctx, opts] { ctx.exit_code = run_unload(ctx, *opts); });
}

json unload_result_json(const core::registry::UnloadOutcome& r) {
    return {{"model", r.model},     {"ok", true},       {"was_loaded", r.was_loaded},
            {"seconds", r.seconds}, {"freed", r.freed}, {"freed_vram", r.freed_vram}};
}

int run_unload(Context& ctx, const UnloadOptions& o) {
    if (o.all == !o.models.empty())
        throw core::Error(core::ErrorKind::Usage,
                          o.all ? "name models or use --all, not both"
                                : "name a model to unload, or use --all",
                          "modelctl status lists what is loaded");
    auto provider = ctx.provider();
    auto store = ctx.store();
    core::registry::Registry registry(*provider, store);

    std::vector<std::string> targets = o.models;
    if (o.all)
        for (const auto& m : provider->loaded())
            targets.push_back(m.name);

    int code = 0;
    json results = json::array();
    for (const auto& model : targets) {
        Progress progress(ctx.show_progress());
        progress.start("unloading " + model);
        try {
            auto r = registry.unload(model);
            progress.stop();
            results.push_back(unload_result_json(r));
            if (ctx.global.json || ctx.global.quiet)
                continue;
            if (r.was_loaded)
                std::cout << "unloaded " << r.model << " in " << elapsed_text(r.seconds)
                          << " (freed " << core::util::format_size(r.freed) << ")\n";
            else
                std::cout << r.model << " was not loaded\n";
        } catch (const core::Error& e) {
            progress.stop();
            results.push_back(model_failure(e, model, code));
        }
    }
    if (ctx.global.json)
        print_json({{"schema", "modelctl.unload/v1"},
                    {"server", provider->address()},
                    {"results", results}});
    else if (targets.empty() && !ctx.global.quiet)
        std::cout << "No models loaded on " << provider->address() << "; nothing to unload.\n";
    return code;
}

} // namespace modelctl
