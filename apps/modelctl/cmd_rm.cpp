#include "cmd_rm.hpp"

#include "cmd_pin.hpp"
#include "errors.hpp"
#include "operations/planning.hpp"
#include "output.hpp"
#include "registry/registry.hpp"
#include "util/size.hpp"
#include "versions/manager.hpp"

#include <iostream>
#include <memory>

namespace modelctl {

using json = nlohmann::ordered_json;

void setup_rm(CLI::App& app, Context& ctx) {
    auto opts = std::make_shared<RmOptions>();
    auto* sub = app.add_subcommand(
        "rm", "Delete models from the server, with their kept versions (as ollama rm)");
    sub->add_option("models", opts->models, "Installed models")->required();
    sub->add_flag("-f,--force", opts->force, "Delete a pinned or loaded model too (unloading it)");
    sub->add_flag("-n,--dry-run", opts->dry_run, "Say what would be deleted; change nothing");
    sub->callback([&ctx, opts] { ctx.exit_code = run_rm(ctx, *opts); });
}

int run_rm(Context& ctx, const RmOptions& o) {
    const auto& cfg = ctx.config();
    auto provider = ctx.provider();
    auto installed = provider->installed();
    std::vector<core::provider::InstalledModel> targets;
    for (const auto& m : o.models) // all checked before any change
        targets.push_back(find_installed(ctx, installed, m, provider->address()));
    auto store = ctx.store();
    core::registry::Registry reg(*provider, store);
    core::versions::Manager manager(*provider, store);
    auto pinned = core::operations::pinned_names(store.read(), cfg, provider->kind());
    auto loaded = provider->loaded();
    int code = 0;
    json results = json::array();
    for (const auto& target : targets) {
        const std::string& name = target.name;
        try {
            bool is_loaded = false;
            for (const auto& l : loaded)
                is_loaded = is_loaded || l.name == name;
            if (!o.force && (pinned.count(name) || is_loaded))
                throw core::Error(core::ErrorKind::Refused,
                                  name + " is " + (pinned.count(name) ? "pinned" : "loaded") +
                                      ": rm never deletes it",
                                  pinned.count(name)
                                      ? "modelctl unpin " + name + " first, or --force"
                                      : "modelctl unload " + name + " first, or --force");
            auto versions = provider->kind() == "ollama" ? manager.list(name, pinned)
                                                         : std::vector<core::versions::Version>{};
            uint64_t size = target.size;
            std::vector<std::string> tags;
            for (const auto& v : versions) {
                if (v.kept_by.empty())
                    continue;
                if (v.pinned && !o.force)
                    throw core::Error(core::ErrorKind::Refused,
                                      v.kept_by + ", a kept version of " + name + ", is pinned",
                                      "modelctl unpin " + v.kept_by + " first, or --force");
                tags.push_back(v.kept_by);
                if (!v.current)
                    size += v.size;
            }
            std::vector<std::string> deleted = tags;
            deleted.push_back(name);
            bool unloaded = false;
            if (!o.dry_run) {
                if (is_loaded) {
                    reg.unload(name);
                    unloaded = true;
                }
                deleted = manager.remove(name, versions);
            }
            results.push_back({{"model", name},
                               {"ok", true},
                               {"deleted", deleted},
                               {"size", size},
                               {"unloaded", unloaded}});
            if (ctx.global.json)
                continue;
            if (ctx.global.quiet) {
                std::cout << name << "\n";
                continue;
            }
            std::string kept = tags.empty() ? ""
                                            : " and " + std::to_string(tags.size()) +
                                                  " kept version" + (tags.size() > 1 ? "s" : "");
            std::cout << (o.dry_run ? "would delete " : "deleted ") << name << kept << " ("
                      << core::util::format_size(size) << ")"
                      << (unloaded    ? ", unloaded first"
                          : is_loaded ? ", unloading it first"
                                      : "")
                      << "\n";
        } catch (const core::Error& e) {
            results.push_back(model_failure(e, name, code));
        }
    }
    if (ctx.global.json)
        print_json({{"schema", "modelctl.rm/v2"},
                    {"server", server_json(*provider)},
                    {"dry_run", o.dry_run},
                    {"results", results}});
    return code;
}

} // namespace modelctl
