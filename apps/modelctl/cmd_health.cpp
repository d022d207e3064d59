#include "cmd_health.hpp"

#include "commands.hpp"
#include "error.hpp"
#include "errors.hpp"
#include "load_plan.hpp"
#include "metrics/prometheus.hpp"
#include "output.hpp"
#include "registry/registry.hpp"
#include "util/duration.hpp"
#include "util/size.hpp"

#include <algorithm>
#include <chrono>
#include <iostream>
#include <memory>
#include <sstream>

namespace modelctl {

using json = nlohmann::ordered_json;
namespace provider = core::provider;
namespace registry = core::registry;

void setup_health(CLI::App& app, Context& ctx) {
    auto opts = std::make_shared<HealthOptions>();
    auto* sub = app.add_subcommand(
        "health", "Check the server and models for CI: exit 0 healthy, 1 unhealthy, 3 unreachable");
    sub->add_option("models", opts->models,
                    "Models that must be installed, load and answer (none: the server only)");
    sub->add_flag("--loaded", opts->loaded, "Also check every model loaded now");
    sub->add_option("--timeout", opts->timeout,
                    "Longest each check may take, e.g. 30s, 2m (default 30s)");
    sub->add_option("--format", opts->format, "Output: text (default), json or prometheus")
        ->check(one_of({"text", "json", "prometheus"}));
    sub->add_flag("--no-evict", opts->no_evict,
                  "Fail the load check rather than unload other models to make room");
    sub->callback([&ctx, opts] { ctx.exit_code = run_health(ctx, *opts); });
}

namespace {

struct Check {
    std::string name; // server, installed, load, answer
    std::string model;
    bool ok = false;
    std::string detail;
    double seconds = 0;
};

using clock = std::chrono::steady_clock;

double since(clock::time_point t) {
    return std::chrono::duration<double>(clock::now() - t).count();
}

std::string took(double seconds) {
    return seconds < 1 ? fixed(seconds * 1000, 0) + " ms" : elapsed_text(seconds);
}

// Tokens the answer check asks for.
constexpr int kProbeTokens = 8;

class Checker {
public:
    Checker(Context& ctx, provider::Provider& server, core::store::Store& store,
            const core::config::Config& cfg, double timeout, bool no_evict)
        : ctx_(ctx), server_(server), store_(store), reg_(server, store), cfg_(cfg),
          timeout_(timeout), no_evict_(no_evict) {}

    std::vector<Check> checks;
    bool unreachable = false;
    std::string version;

    // Runs `f`, which returns the detail of a check that passed or throws.
    template <class F> bool run(const std::string& name, const std::string& model, F&& f) {
        Check c{name, model, false, "", 0};
        auto t0 = clock::now();
        try {
            c.detail = f();
            c.seconds = since(t0);
            c.ok = c.seconds <= timeout_;
            if (!c.ok)
                c.detail = "took " + took(c.seconds) + ", over the " + limit() + " timeout (" +
                           c.detail + ")";
        } catch (const core::Error& e) {
            if (e.kind() == core::ErrorKind::Interrupted)
                throw; // the user's, not the server's: exit 130
            c.seconds = since(t0);
            c.detail = e.what();
            // The transport gives up at the timeout (read timeout): a model
            // that has not answered by then is too slow, the server is there.
            if (e.kind() == core::ErrorKind::Unreachable && c.seconds >= timeout_ * 0.95 &&
                name != "server")
                c.detail = "no answer within " + limit() + " (timeout)";
            else if (e.kind() == core::ErrorKind::Unreachable)
                unreachable = true;
        }
        checks.push_back(c);
        return c.ok;
    }

    void server() {
        run("server", "", [&] {
            version = server_.version();
            return std::string(server_.kind() == "lmstudio" ? "LM Studio " : "Ollama ") + version +
                   " at " + server_.address();
        });
    }

    // installed -> load -> answer; a failed check skips the rest.
    void model(const std::string& name, const std::vector<provider::InstalledModel>& installed,
               bool check_installed) {
        std::string m = ctx_.canonical(name);
        const provider::InstalledModel* found = nullptr;
        for (const auto& i : installed)
            if (ctx_.same_model(i.name, m))
                found = &i;
        if (check_installed && !run("installed", m, [&]() -> std::string {
                if (!found)
                    throw core::Error(core::ErrorKind::NotFound,
                                      "not installed on the server (modelctl pull " + m + ")");
                return core::util::format_size(found->size) + " on disk, " +
                       (found->details.parameter_size.empty() ? "size unknown"
                                                              : found->details.parameter_size) +
                       (found->details.quantization_level.empty()
                            ? ""
                            : " " + found->details.quantization_level);
            }))
            return;
        std::vector<std::string> caps;
        provider::LoadSettings keep; // what the probe sends, so as not to change the keep-alive
        if (!run("load", m, [&]() -> std::string {
                caps = server_.show(m).capabilities;
                auto lp = plan_loads(ctx_, server_, reg_, cfg_, {m});
                const auto& w = lp.wanted.front();
                auto settings = core::operations::load_settings(cfg_, w, false);
                keep.keep_alive = core::operations::request_keep_alive(store_, w, settings);
                if (w.loaded)
                    return "already loaded, " + where(m);
                lp.require_feasible();
                lp.refuse_evictions(no_evict_);
                std::ostringstream evicted;
                evict(ctx_, reg_, lp.plan, evicted);
                auto r = reg_.load(m, settings, /*as_use=*/false);
                std::string names;
                for (const auto& v : lp.plan.evict)
                    names += (names.empty() ? "" : ", ") + v.name;
                return "loaded in " + elapsed_text(r.seconds) + ", " +
                       (r.observed ? placed(*r.observed) : "not listed by the server afterwards") +
                       (names.empty() ? "" : "; unloaded " + names + " to make room");
            }))
            return;
        bool embedding_only = std::find(caps.begin(), caps.end(), "embedding") != caps.end() &&
                              std::find(caps.begin(), caps.end(), "completion") == caps.end();
        run("answer", m, [&]() -> std::string {
            if (embedding_only) {
                auto e = server_.embed(m, {"health check"}, keep);
                if (e.vectors != 1 || e.dimensions == 0)
                    throw core::Error(core::ErrorKind::Protocol, "the embedding came back empty");
                return "embedded a line into " + std::to_string(e.dimensions) + " dimensions";
            }
            provider::GenerateRequest req;
            req.model = m;
            req.prompt = "Reply with one word: ready?";
            // A few tokens, read to the final line: one token ends before a
            // stream that breaks mid-answer would show it.
            req.num_predict = kProbeTokens;
            req.keep_alive = keep.keep_alive;
            std::string text;
            auto metrics = server_.generate(req, [&](std::string_view t) { text += t; });
            if (metrics.eval_count < 1 && text.empty())
                throw core::Error(core::ErrorKind::Protocol, "the answer had no token");
            return "answered " + std::to_string(metrics.eval_count) + " token(s), streamed to " +
                   "the end (" + (metrics.done_reason.empty() ? "done" : metrics.done_reason) + ")";
        });
    }

    std::string limit() const { return core::util::format_duration(core::util::Seconds(timeout_)); }

private:
    static std::string placed(const provider::LoadedModel& l) {
        return l.size_reported ? core::util::format_size(l.size) + " " +
                                     provider::processor_label(l.size, l.size_vram)
                               : "~" + core::util::format_size(l.size) + " (file size)";
    }
    std::string where(const std::string& m) {
        for (const auto& l : server_.loaded())
            if (ctx_.same_model(l.name, m))
                return placed(l);
        return "not listed by the server afterwards";
    }

    Context& ctx_;
    provider::Provider& server_;
    core::store::Store& store_;
    registry::Registry reg_;
    const core::config::Config& cfg_;
    double timeout_;
    bool no_evict_;
};

} // namespace

int run_health(Context& ctx, const HealthOptions& o) {
    auto timeout = core::util::parse_duration(o.timeout);
    if (!timeout || timeout->count() <= 0)
        throw core::Error(core::ErrorKind::Usage,
                          "--timeout: '" + o.timeout + "' is not a duration of at most " +
                              core::util::kMaxDurationText,
                          "e.g. 30s or 2m");
    std::string format = o.format.empty() ? (ctx.global.json ? "json" : "text") : o.format;
    const auto& cfg = ctx.config();
    auto server = ctx.provider(*timeout);
    auto store = ctx.store();
    Checker checker(ctx, *server, store, cfg, timeout->count(), o.no_evict);

    checker.server();
    if (checker.checks.back().ok && (!o.models.empty() || o.loaded)) {
        std::vector<provider::InstalledModel> installed;
        std::vector<std::string> names;
        bool listed = checker.run("models", "", [&] {
            installed = server->installed();
            std::string detail = std::to_string(installed.size()) + " installed";
            if (o.loaded) {
                auto loaded = server->loaded();
                for (const auto& l : loaded)
                    names.push_back(ctx.canonical(l.name));
                detail += ", " + std::to_string(loaded.size()) + " loaded";
            }
            return detail;
        });
        if (listed) {
            for (const auto& m : o.models) {
                auto n = ctx.canonical(m);
                if (std::find(names.begin(), names.end(), n) == names.end())
                    names.push_back(n);
            }
            for (const auto& n : names) {
                checker.model(n, installed, true);
                if (checker.unreachable)
                    break;
            }
        }
    }

    bool healthy = std::all_of(checker.checks.begin(), checker.checks.end(),
                               [](const Check& c) { return c.ok; });
    int code = healthy ? kOk : checker.unreachable ? kUnreachable : kFailed;
    std::string address = server->address();

    if (format == "json") {
        json checks = json::array();
        for (const auto& c : checker.checks)
            checks.push_back({{"check", c.name},
                              {"model", c.model.empty() ? json(nullptr) : json(c.model)},
                              {"ok", c.ok},
                              {"detail", c.detail},
                              {"seconds", c.seconds}});
        print_json({{"schema", "modelctl.health/v2"},
                    {"server", server_json(*server, checker.version)},
                    {"timeout_seconds", timeout->count()},
                    {"healthy", healthy},
                    {"exit_code", code},
                    {"checks", checks}});
    } else if (format == "prometheus") {
        core::metrics::Exposition e;
        core::metrics::Labels server_label = {{"server", address}};
        e.family("modelctl_health_healthy", "gauge",
                 "Whether every check of the last modelctl health passed (1) or not (0).");
        e.sample(server_label, healthy ? 1 : 0);
        e.family("modelctl_health_server_up", "gauge",
                 "Whether the model server answered modelctl health (1) or not (0).");
        e.sample(server_label, checker.unreachable ? 0 : 1);
        e.family("modelctl_health_check_ok", "gauge",
                 "Whether a health check passed (1) or not (0).");
        for (const auto& c : checker.checks)
            e.sample({{"server", address}, {"check", c.name}, {"model", c.model}}, c.ok ? 1 : 0);
        e.family("modelctl_health_check_duration_seconds", "gauge",
                 "How long a health check took.");
        for (const auto& c : checker.checks)
            e.sample({{"server", address}, {"check", c.name}, {"model", c.model}}, c.seconds);
        e.family("modelctl_health_timestamp_seconds", "gauge",
                 "When modelctl health ran (Unix time).");
        e.sample(server_label,
                 std::chrono::duration<double>(core::util::now().time_since_epoch()).count());
        std::cout << e.text();
    } else {
        for (const auto& c : checker.checks) {
            if (c.ok && ctx.global.quiet) // -q: the failures alone; nothing when healthy
                continue;
            std::string what = c.model.empty() ? c.name : c.model + " " + c.name;
            std::cout << (c.ok ? "ok    " : "FAIL  ") << what << ": " << c.detail;
            if (c.ok)
                std::cout << " (" << took(c.seconds) << ")";
            std::cout << "\n";
        }
        if (!ctx.global.quiet)
            std::cout << (healthy               ? "healthy"
                          : checker.unreachable ? "unreachable"
                                                : "unhealthy")
                      << ": "
                      << std::count_if(checker.checks.begin(), checker.checks.end(),
                                       [](const Check& c) { return c.ok; })
                      << " of " << checker.checks.size() << " checks passed\n";
    }
    std::cout.flush();
    return code;
}

} // namespace modelctl
