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
    sub->alias("stop"); // as ollama stop
    sub->add_option("models", opts->models, "Models to unload");
    sub->add_flag("-a,--all", opts->all, "Unload every loaded model");
    sub->add_flag("--dry-run", opts->dry_run,
                  "Say what would be unloaded and freed; change nothing");
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
    if (o.dry_run) {
        auto loaded = provider->loaded();
        for (const auto& model : targets) {
            const core::provider::LoadedModel* found = nullptr;
            for (const auto& m : loaded)
                if (ctx.same_model(m.name, model))
                    found = &m;
            std::string name = found ? found->name : ctx.canonical(model);
            results.push_back({{"model", name},
                               {"ok", true},
                               {"was_loaded", found != nullptr},
                               {"seconds", 0},
                               {"freed", found ? found->size : 0},
                               {"freed_vram", found ? found->size_vram : 0}});
            if (ctx.global.json)
                continue;
            if (ctx.global.quiet) {
                if (found)
                    std::cout << name << "\n"; // what would be unloaded
            } else if (found) {
                std::cout << "would unload " << name << " (frees "
                          << core::util::format_size(found->size) << ")\n";
            } else {
                std::cout << name << " is not loaded\n";
            }
        }
    }
    for (const auto& model : o.dry_run ? std::vector<std::string>{} : targets) {
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
            if (e.kind() == core::ErrorKind::NotFound) // not "pull it first": nothing to unload
                results.push_back(model_failure(
                    core::Error(
                        e.kind(), e.what(),
                        "modelctl ps lists what is loaded, modelctl list what is installed"),
                    model, code));
            else
                results.push_back(model_failure(e, model, code));
        }
    }
    if (ctx.global.json)
        print_json({{"schema", "modelctl.unload/v2"},
                    {"server", server_json(*provider)},
                    {"dry_run", o.dry_run},
                    {"results", results}});
    else if (targets.empty() && !ctx.global.quiet)
        std::cout << "No models loaded on " << provider->address() << "; nothing to unload.\n";
    return code;
}

} // namespace modelctl
