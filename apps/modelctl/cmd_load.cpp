#include "cmd_load.hpp"

#include "errors.hpp"
#include "output.hpp"
#include "progress.hpp"
#include "registry/registry.hpp"
#include "util/duration.hpp"
#include "util/size.hpp"

#include <cstdio>
#include <iostream>
#include <memory>

namespace modelctl {

using json = nlohmann::ordered_json;

void setup_load(CLI::App& app, Context& ctx) {
    auto opts = std::make_shared<LoadOptions>();
    auto* sub = app.add_subcommand("load", "Load models into memory and wait until they are ready");
    sub->add_option("models", opts->models, "Models to load, e.g. llama3.2:3b")->required();
    sub->add_option("-k,--keep-alive", opts->keep_alive,
                    "How long to keep them loaded when idle: 30m, 2h, forever, 0 (default: the "
                    "server's, 5m)");
    sub->callback([&ctx, opts] { ctx.exit_code = run_load(ctx, *opts); });
}

int run_load(Context& ctx, const LoadOptions& o) {
    std::optional<core::util::KeepAlive> keep_alive;
    if (!o.keep_alive.empty()) {
        keep_alive = core::util::parse_keep_alive(o.keep_alive);
        if (!keep_alive)
            throw core::Error(core::ErrorKind::Usage,
                              "--keep-alive: '" + o.keep_alive + "' is not a duration",
                              "e.g. 30m, 1h30m, 2d, forever");
    }
    auto provider = ctx.provider();
    auto store = ctx.store();
    core::registry::Registry registry(*provider, store);

    int code = 0;
    json results = json::array();
    for (const auto& model : o.models) {
        Progress progress(ctx.show_progress());
        progress.start("loading " + model);
        try {
            auto r = registry.load(model, keep_alive);
            progress.stop();
            auto now = core::util::now();
            results.push_back(
                {{"model", r.model},
                 {"ok", true},
                 {"was_loaded", r.was_loaded},
                 {"seconds", r.seconds},
                 {"observed", r.observed ? loaded_json(*r.observed, now) : json(nullptr)}});
            if (ctx.global.json || ctx.global.quiet)
                continue;
            std::string where;
            if (r.observed)
                where = core::util::format_size(r.observed->size) + ", " +
                        core::provider::processor_label(r.observed->size, r.observed->size_vram) +
                        ", until: " + until_text(r.observed->expires_at, now);
            if (r.was_loaded)
                std::cout << r.model << " was already loaded; keep-alive refreshed (" << where
                          << ")\n";
            else
                std::cout << "loaded " << r.model << " in " << elapsed_text(r.seconds) << " ("
                          << where << ")\n";
        } catch (const core::Error& e) {
            progress.stop();
            results.push_back(model_failure(e, model, code));
        }
    }
    if (ctx.global.json)
        print_json({{"schema", "modelctl.load/v1"},
                    {"server", provider->address()},
                    {"results", results}});
    return code;
}

} // namespace modelctl
