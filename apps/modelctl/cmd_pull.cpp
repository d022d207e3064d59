#include "cmd_pull.hpp"

#include "cmd_versions.hpp"
#include "errors.hpp"
#include "operations/planning.hpp"
#include "output.hpp"
#include "progress_bar.hpp"
#include "util/interrupt.hpp"
#include "util/size.hpp"
#include "versions/manager.hpp"

#include <iostream>
#include <memory>

namespace modelctl {

using json = nlohmann::ordered_json;
namespace versions = core::versions;

void setup_pull(CLI::App& app, Context& ctx) {
    auto opts = std::make_shared<PullOptions>();
    auto* sub = app.add_subcommand(
        "pull", "Pull the newest version of models, keeping the installed one for rollback "
                "(LM Studio: download them)");
    sub->add_option("models", opts->models, "Models to pull, e.g. llama3.2 qwen2.5-coder:7b")
        ->required();
    sub->callback([&ctx, opts] { ctx.exit_code = run_pull(ctx, *opts); });
}

int run_pull(Context& ctx, const PullOptions& o) {
    const auto& cfg = ctx.config();
    const auto& e = ctx.endpoint();
    auto server = ctx.provider(e); // Ollama, or LM Studio (which keeps no versions)
    auto store = ctx.store(e);
    versions::Manager manager(*server, store);
    int code = 0;
    json results = json::array();
    for (const auto& model : o.models) {
        ProgressBar bar(ctx.show_progress());
        try {
            auto r = manager.pull(model, [&](const core::provider::PullProgress& p) {
                bar.update(p.status, p.completed, p.total);
                return !core::util::interrupted();
            });
            bar.clear();
            auto digest = [](const std::string& d) { return d.empty() ? json(nullptr) : json(d); };
            results.push_back({{"model", r.model},
                               {"ok", true},
                               {"changed", r.changed},
                               {"before", digest(r.before)},
                               {"after", digest(r.after)},
                               {"size", r.size},
                               {"kept_by", r.kept_by.empty() ? json(nullptr) : json(r.kept_by)},
                               {"seconds", r.seconds}});
            if (ctx.global.json || ctx.global.quiet)
                continue;
            // LM Studio names no digest.
            std::string digest_text = r.after.empty() ? "" : versions::short_digest(r.after);
            if (!r.changed) {
                std::cout << r.model << " is "
                          << (r.after.empty() ? "installed already\n"
                                              : "up to date (" + digest_text + ")\n");
                continue;
            }
            std::cout << "pulled " << r.model << (digest_text.empty() ? "" : " " + digest_text)
                      << " (" << core::util::format_size(r.size) << ", " << elapsed_text(r.seconds)
                      << ")";
            if (!r.before.empty())
                std::cout << "; the previous version " << versions::short_digest(r.before)
                          << " is kept as " << r.kept_by;
            std::cout << "\n";
            if (r.after.empty())
                continue; // no versions to count
            auto state = store.read();
            int keep =
                core::operations::effective_settings(r.model, e.provider, cfg, state).keep_versions;
            auto list =
                manager.list(r.model, core::operations::pinned_names(state, cfg, e.provider));
            auto extra = versions::beyond_retention(list, keep);
            if (!extra.empty())
                std::cout << extra.size() << " more version" << (extra.size() > 1 ? "s" : "")
                          << " of " << r.model << " than keep_versions (" << keep
                          << ") installed: modelctl gc --versions deletes "
                          << (extra.size() > 1 ? "them" : "it") << "\n";
        } catch (const core::Error& err) {
            bar.clear();
            if (err.kind() == core::ErrorKind::Interrupted && e.provider != "ollama")
                throw; // what LM Studio goes on with is in the message
            if (err.kind() == core::ErrorKind::Interrupted)
                throw core::Error(core::ErrorKind::Interrupted,
                                  std::string(err.what()) +
                                      "; the installed versions and the store are as they were",
                                  "pull again: the server resumes where it stopped");
            results.push_back(model_failure(err, model, code));
        }
    }
    if (ctx.global.json)
        print_json({{"schema", "modelctl.pull/v1"}, {"endpoint", e.name}, {"results", results}});
    return code;
}

} // namespace modelctl
