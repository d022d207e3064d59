#include "cmd_rollback.hpp"

#include "cmd_versions.hpp"
#include "errors.hpp"
#include "operations/planning.hpp"
#include "output.hpp"
#include "registry/registry.hpp"
#include "versions/manager.hpp"

#include <iostream>
#include <memory>

namespace modelctl {

using json = nlohmann::ordered_json;
namespace versions = core::versions;

void setup_rollback(CLI::App& app, Context& ctx) {
    auto opts = std::make_shared<RollbackOptions>();
    auto* sub = app.add_subcommand(
        "rollback", "Make an earlier version of a model current again (see modelctl versions)");
    sub->add_option("model", opts->model, "The model, e.g. llama3.2")->required();
    sub->add_option("--to", opts->to,
                    "The version, by digest or its first digits (default: the newest kept "
                    "earlier version)");
    sub->add_flag("--reload", opts->reload,
                  "Reload the model if it is loaded, so that the rolled-back weights serve now");
    sub->callback([&ctx, opts] { ctx.exit_code = run_rollback(ctx, *opts); });
}

int run_rollback(Context& ctx, const RollbackOptions& o) {
    const auto& cfg = ctx.config();
    const auto& e = ctx.endpoint();
    auto server = model_files_server(ctx, e);
    auto store = ctx.store(e);
    versions::Manager manager(*server, store);
    auto r = manager.rollback(o.model, o.to);

    std::optional<core::provider::LoadedModel> loaded;
    for (const auto& m : server->loaded())
        if (server->same_model(m.name, r.model))
            loaded = m;
    // Ollama reloads a model whose weights changed on its next request
    // (server/sched.go needsReload compares the model path); until then the
    // loaded copy serves the old weights.
    bool stale = r.changed && loaded && loaded->digest != r.to;
    json reloaded = nullptr;
    if (stale && o.reload) {
        core::registry::Registry reg(*server, store);
        auto state = store.read();
        auto eff = core::operations::effective_settings(r.model, e.provider, cfg, state);
        reg.unload(r.model);
        auto l = reg.load(r.model, {eff.keep_alive, loaded->context_length});
        reloaded = {{"seconds", l.seconds},
                    {"digest", l.observed ? json(l.observed->digest) : json(nullptr)}};
    }
    if (ctx.global.json) {
        print_json({{"schema", "modelctl.rollback/v1"},
                    {"model", r.model},
                    {"endpoint", e.name},
                    {"changed", r.changed},
                    {"from", r.from.empty() ? json(nullptr) : json(r.from)},
                    {"to", r.to},
                    {"kept_by", r.kept_by.empty() ? json(nullptr) : json(r.kept_by)},
                    {"loaded", loaded.has_value()},
                    {"reloaded", reloaded}});
        return 0;
    }
    if (ctx.global.quiet)
        return 0;
    if (!r.changed) {
        std::cout << r.model << " is already at " << versions::short_digest(r.to)
                  << (o.reload ? "; nothing to reload" : "") << "\n";
        return 0;
    }
    std::cout << "rolled back " << r.model << " to " << versions::short_digest(r.to);
    if (!r.from.empty())
        std::cout << "; " << versions::short_digest(r.from) << " is kept as " << r.kept_by;
    std::cout << "\n";
    if (!reloaded.is_null())
        std::cout << "reloaded " << r.model << " in " << elapsed_text(reloaded["seconds"]) << "\n";
    else if (o.reload)
        std::cout << "not reloaded: " << r.model
                  << (loaded ? " is loaded with these weights already\n"
                             : " is not loaded; its next load reads the weights rolled back to\n");
    else if (stale)
        std::cout << r.model << " is loaded with the weights of "
                  << versions::short_digest(loaded->digest)
                  << " until it is reloaded (--reload reloads it now)\n";
    return 0;
}

} // namespace modelctl
