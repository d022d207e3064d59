#include "cmd_preload.hpp"

#include "error.hpp"
#include "errors.hpp"
#include "load_plan.hpp"
#include "operations/planning.hpp"
#include "operations/preload.hpp"
#include "output.hpp"
#include "plan_output.hpp"
#include "progress.hpp"
#include "registry/registry.hpp"
#include "util/size.hpp"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <memory>

namespace modelctl {

using json = nlohmann::ordered_json;
namespace registry = core::registry;

void setup_preload(CLI::App& app, Context& ctx) {
    auto opts = std::make_shared<PreloadOptions>();
    auto* sub = app.add_subcommand("preload",
                                   "Load the models history says will be used in the coming hour");
    sub->add_option("--at", opts->at,
                    "The hour to prepare for: now, or HH:MM local time (its next occurrence)");
    sub->add_option("--memory", opts->memory,
                    "Memory budget for loaded models, e.g. 24GB (default: config and probes)");
    sub->add_flag("-n,--dry-run", opts->dry_run, "Print the forecast and the plan; change nothing");
    sub->callback([&ctx, opts] { ctx.exit_code = run_preload(ctx, *opts); });
}

namespace {

// `at` as seconds since the epoch: now, or the next HH:MM in local time
// (today's while its hour is still running).
double target_time(const std::string& at, double now) {
    if (at == "now")
        return now;
    int hh = -1, mm = -1;
    char extra = 0;
    if (std::sscanf(at.c_str(), "%d:%d%c", &hh, &mm, &extra) != 2 || hh < 0 || hh > 23 || mm < 0 ||
        mm > 59 || at.size() != 5)
        throw core::Error(core::ErrorKind::Usage, "--at: '" + at + "' is not now or HH:MM",
                          "e.g. --at 09:00");
    std::time_t t = static_cast<std::time_t>(now);
    for (int day = 0; day < 2; ++day) {
        std::tm tm{};
        localtime_r(&t, &tm);
        tm.tm_mday += day;
        tm.tm_hour = hh;
        tm.tm_min = mm;
        tm.tm_sec = 0;
        tm.tm_isdst = -1;
        double when = static_cast<double>(std::mktime(&tm));
        if (when + 3600 > now)
            return when;
    }
    return now; // not reached
}

std::string local_text(double when, const char* format) {
    std::time_t t = static_cast<std::time_t>(when);
    std::tm tm{};
    localtime_r(&t, &tm);
    char buf[64];
    std::strftime(buf, sizeof buf, format, &tm);
    return buf;
}

} // namespace

int run_preload(Context& ctx, const PreloadOptions& o) {
    std::map<std::string, core::config::Flag> flags;
    if (!o.memory.empty())
        flags["budget.memory"] = {"--memory", o.memory};
    const auto& cfg = ctx.config(flags);
    double now_s = core::operations::epoch_seconds(core::util::now());
    double at = target_time(o.at, now_s);

    auto provider = ctx.provider();
    auto store = ctx.store();
    registry::Registry reg(*provider, store);
    auto p = core::operations::plan_preload(*provider, reg, cfg, ctx.budget_fn(), at);
    auto& steps = p.steps;
    const auto& forecasts = p.forecasts;
    const auto& budget = p.budget;
    double until = p.until;

    // Carry it out.
    int code = 0;
    json results = json::array();
    if (!o.dry_run)
        for (auto& s : steps) {
            if (s.action != "load" && s.action != "refresh")
                continue;
            Progress progress(ctx.show_progress());
            progress.start("preloading " + s.forecast.model);
            try {
                auto r = reg.load(s.forecast.model, s.settings, /*as_use=*/false);
                progress.stop();
                results.push_back(
                    {{"model", r.model},
                     {"ok", true},
                     {"seconds", r.seconds},
                     {"observed",
                      r.observed ? loaded_json(*r.observed, core::util::now()) : json(nullptr)}});
            } catch (const core::Error& e) {
                progress.stop();
                results.push_back(model_failure(e, s.forecast.model, code));
                s.action = "failed";
            }
        }

    std::string window = local_text(at, "%a %H:%M") + "-" + local_text(until, "%H:%M");
    if (ctx.global.json) {
        json fs = json::array();
        for (const auto& f : forecasts) {
            json j = {{"model", f.model},
                      {"expected_uses", f.expected_uses},
                      {"probability", f.probability},
                      {"slot_uses", f.slot_uses},
                      {"weeks", f.weeks},
                      {"action", "unlikely"},
                      {"reason", nullptr},
                      {"bytes", nullptr}};
            for (const auto& s : steps)
                if (s.forecast.model == f.model) {
                    j["action"] = s.action;
                    j["reason"] = s.reason;
                    j["bytes"] = s.bytes;
                }
            fs.push_back(j);
        }
        print_json({{"schema", "modelctl.preload/v2"},
                    {"server", server_json(*provider)},
                    {"dry_run", o.dry_run},
                    {"at", time_json(core::util::Timestamp(
                               std::chrono::duration_cast<core::util::Timestamp::duration>(
                                   std::chrono::duration<double>(at))))},
                    {"threshold", core::operations::kPreloadLikely},
                    {"budget", budget_json(budget)},
                    {"forecast", fs},
                    {"results", results}});
        return code;
    }
    // Cron: quiet unless something was loaded, or a likely model was skipped.
    bool noteworthy =
        !results.empty() ||
        std::any_of(steps.begin(), steps.end(), [](const auto& s) { return s.action == "skip"; });
    if (ctx.global.quiet || (!o.dry_run && !noteworthy && !ctx.stdout_tty && !ctx.global.verbose))
        return code;
    if (steps.empty()) {
        size_t young = 0;
        for (const auto& f : forecasts)
            young += f.weeks < 1 ? 1 : 0;
        std::cout << "Nothing is likely to be used " << window;
        if (forecasts.empty())
            std::cout << " (no recorded uses yet)";
        else if (young)
            std::cout << " (" << young << " of " << forecasts.size()
                      << " used models have less than a week of history, too little for "
                         "weekly habits)";
        std::cout << ".\n";
        return code;
    }
    std::cout << "Likely in " << window << " (" << fixed(core::operations::kPreloadLikely * 100, 0)
              << "% chance or more; budget " << core::util::format_size(budget.budget.bytes)
              << "):\n";
    for (const auto& s : steps) {
        const auto& f = s.forecast;
        std::string verb = s.action == "load"      ? (o.dry_run ? "would load" : "loaded")
                           : s.action == "refresh" ? (o.dry_run ? "would refresh" : "refreshed")
                           : s.action == "failed"  ? "failed"
                                                   : s.action;
        std::cout << verb << " " << f.model << ": " << fixed(f.probability * 100, 0) << "% likely ("
                  << fixed(f.expected_uses, 1) << " uses expected; " << f.slot_uses
                  << " recorded in this hour over " << fixed(f.weeks, 1) << " weeks); " << s.reason
                  << "\n";
    }
    if (o.dry_run)
        std::cout << "Nothing was changed (--dry-run).\n";
    return code;
}

} // namespace modelctl
