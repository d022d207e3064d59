#include "cmd_versions.hpp"

#include "errors.hpp"
#include "operations/planning.hpp"
#include "output.hpp"
#include "util/size.hpp"
#include "versions/manager.hpp"

#include <iostream>

namespace modelctl {

using json = nlohmann::ordered_json;
namespace versions = core::versions;

std::unique_ptr<core::provider::Provider> model_files_server(Context& ctx, const Endpoint& e) {
    if (e.provider != "ollama")
        throw core::Error(
            core::ErrorKind::Usage,
            "endpoint " + e.name + " is " + (e.provider == "lmstudio" ? "LM Studio" : e.provider) +
                ", whose API neither copies nor deletes models; model versions "
                "are kept on Ollama only",
            "name an Ollama endpoint with --endpoint (modelctl endpoints lists them)");
    return ctx.provider(e);
}

void setup_versions(CLI::App& app, Context& ctx) {
    auto opts = std::make_shared<VersionsOptions>();
    auto* sub = app.add_subcommand(
        "versions",
        "Show a model's versions: digests, when pulled, which are kept, which is current");
    sub->add_option("model", opts->model, "The model, e.g. llama3.2")->required();
    sub->callback([&ctx, opts] { ctx.exit_code = run_versions(ctx, *opts); });
}

namespace {

json bench_json(const std::optional<core::bench::Result>& b) {
    if (!b)
        return nullptr;
    return {{"at", core::util::format_rfc3339(b->at)},
            {"tokens_per_second", b->tokens_per_second.median},
            {"prompt_tokens_per_second", b->prompt_tokens_per_second.median},
            {"ttft_ms", b->ttft_ms.median},
            {"load_seconds", b->load_seconds ? json(*b->load_seconds) : json(nullptr)}};
}

std::string state_text(const versions::Version& v) {
    if (v.current)
        return "current";
    if (!v.installed)
        return "deleted";
    return v.pinned ? "kept, pinned" : "kept";
}

} // namespace

int run_versions(Context& ctx, const VersionsOptions& o) {
    const auto& cfg = ctx.config();
    const auto& e = ctx.endpoint();
    auto server = model_files_server(ctx, e);
    auto store = ctx.store(e);
    std::string name = server->canonical(o.model);
    versions::Manager manager(*server, store);
    auto state = store.read();
    auto list = manager.list(name, core::operations::pinned_names(state, cfg, e.provider));
    if (list.empty())
        throw core::Error(core::ErrorKind::NotFound,
                          "'" + name + "' is not installed on the server at " + server->address() +
                              ", and modelctl has no history of it",
                          "modelctl pull " + o.model + " installs it");
    int keep = core::operations::effective_settings(name, e.provider, cfg, state).keep_versions;
    auto now = core::util::now();

    if (ctx.global.json) {
        json out = json::array();
        for (const auto& v : list)
            out.push_back({{"digest", v.digest},
                           {"current", v.current},
                           {"installed", v.installed},
                           {"kept_by", v.kept_by.empty() ? json(nullptr) : json(v.kept_by)},
                           {"pinned", v.pinned},
                           {"pulled_at", time_json(v.pulled_at)},
                           {"size", v.size},
                           {"bench", bench_json(v.bench)}});
        print_json({{"schema", "modelctl.versions/v2"},
                    {"model", name},
                    {"endpoint", e.name},
                    {"server", server_json(*server)},
                    {"keep_versions", keep},
                    {"versions", out}});
        return 0;
    }
    if (ctx.global.quiet) { // the digests, newest first, for scripts
        for (const auto& v : list)
            std::cout << v.digest << "\n";
        return 0;
    }
    Table t({"DIGEST", "STATE", "PULLED", "SIZE", "KEPT AS", "BENCH"});
    size_t installed = 0;
    for (const auto& v : list) {
        installed += v.installed ? 1 : 0;
        std::string bench = "-";
        if (v.bench)
            bench = fixed(v.bench->tokens_per_second.median, 1) + " tok/s, ttft " +
                    fixed(v.bench->ttft_ms.median, 1) + " ms";
        t.add({versions::short_digest(v.digest), state_text(v),
               v.pulled_at ? ago_text(v.pulled_at, now) + " ago" : "-",
               v.size ? core::util::format_size(v.size) : "-",
               v.current ? name : (v.kept_by.empty() ? "-" : v.kept_by), bench});
    }
    std::cout << name << " on " << e.name << " (" << server->address() << ")\n";
    t.print(std::cout, ctx.color());
    std::cout << installed << " installed; keep_versions " << keep;
    if (static_cast<int>(installed) > keep)
        std::cout << ": modelctl gc --versions deletes the oldest";
    std::cout << "\n";
    return 0;
}

} // namespace modelctl
