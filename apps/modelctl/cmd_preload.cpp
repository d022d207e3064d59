#include "cmd_preload.hpp"

#include "error.hpp"
#include "errors.hpp"
#include "load_plan.hpp"
#include "output.hpp"
#include "plan_output.hpp"
#include "progress.hpp"
#include "provider/ollama_api.hpp"
#include "recommend/preload.hpp"
#include "registry/planning.hpp"
#include "registry/registry.hpp"
#include "util/size.hpp"

#include <cmath>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <memory>

namespace modelctl {

using json = nlohmann::ordered_json;
namespace registry = core::registry;
namespace rec = core::recommend;

// A model is preloaded when history gives it at least this chance of a use
// in the coming hour.
constexpr double kLikely = 0.5;

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

long utc_offset_at(double when) {
    std::time_t t = static_cast<std::time_t>(when);
    std::tm tm{};
    localtime_r(&t, &tm);
    return tm.tm_gmtoff;
}

std::string local_text(double when, const char* format) {
    std::time_t t = static_cast<std::time_t>(when);
    std::tm tm{};
    localtime_r(&t, &tm);
    char buf[64];
    std::strftime(buf, sizeof buf, format, &tm);
    return buf;
}

struct Step {
    rec::Forecast forecast;
    std::string action; // "load", "refresh", "keep", "skip"
    std::string reason;
    uint64_t bytes = 0;
    core::provider::LoadSettings settings;
};

} // namespace

int run_preload(Context& ctx, const PreloadOptions& o) {
    std::map<std::string, core::config::Flag> flags;
    if (!o.memory.empty())
        flags["budget.memory"] = {"--memory", o.memory};
    const auto& cfg = ctx.config(flags);
    auto now = core::util::now();
    double now_s = registry::epoch_seconds(now);
    double at = target_time(o.at, now_s);
    double until = at + 3600;

    auto provider = ctx.provider();
    auto store = ctx.store();
    registry::Registry reg(*provider, store);
    auto loaded = provider->loaded();
    auto state = reg.observe(loaded, now);
    auto budget = ctx.budget(loaded);
    auto residents = registry::residents(loaded, state, cfg, now);

    std::vector<rec::Forecast> forecasts;
    for (const auto& [name, r] : state.models) {
        if (r.usage.uses == 0)
            continue;
        double start = r.usage.first_use.value_or(registry::epoch_seconds(r.first_seen));
        forecasts.push_back(rec::forecast(name, r.usage, start, at, utc_offset_at(at), now_s));
    }
    rec::sort_forecasts(forecasts);

    std::vector<Step> steps;
    std::vector<core::policy::Want> chosen;
    for (const auto& f : forecasts) {
        if (f.probability < kLikely)
            continue;
        Step s;
        s.forecast = f;
        std::vector<registry::Wanted> wanted;
        try {
            wanted = registry::describe_wanted(*provider, {f.model}, loaded, state, cfg, now);
        } catch (const core::Error& e) {
            if (e.kind() != core::ErrorKind::NotFound)
                throw;
            s.action = "skip";
            s.reason = "not installed on the server any more";
            steps.push_back(s);
            continue;
        }
        const auto& w = wanted.front();
        s.bytes = w.estimate.bytes;
        // Keep it loaded to the end of the forecast hour at least.
        double cover = std::ceil(until - now_s);
        s.settings = load_settings(cfg, w, false);
        auto ka = s.settings.keep_alive;
        if (!ka || (!ka->forever && ka->value.count() < cover))
            s.settings.keep_alive = core::util::KeepAlive{false, core::util::Seconds(cover)};
        if (w.loaded) {
            core::provider::LoadedModel live;
            for (const auto& l : loaded)
                if (ctx.same_model(l.name, w.model))
                    live = l;
            auto expiry = core::provider::classify_expiry(live.expires_at, now);
            // Ten minutes short of the hour's end is close enough: a second
            // preload a moment later has nothing to add.
            if (expiry == core::provider::Expiry::Forever ||
                expiry == core::provider::Expiry::Never ||
                registry::epoch_seconds(*live.expires_at) >= until - 600) {
                s.action = "keep";
                s.reason = "loaded, and stays loaded through the hour";
            } else {
                s.action = "refresh";
                s.reason = "loaded, but would expire " + until_text(live.expires_at, now) +
                           "; keep-alive extended to the end of the hour";
            }
            steps.push_back(s);
            continue;
        }
        auto wants = chosen;
        wants.push_back({w.model, w.estimate.bytes});
        auto plan =
            core::policy::plan_load(residents, wants, budget.budget, now_s, core::policy::Params{});
        if (plan.feasible && plan.evict.empty()) {
            s.action = "load";
            s.reason = "fits in free memory (" + core::util::format_size(w.estimate.bytes) + ", " +
                       w.estimate.source + ")";
            chosen.push_back({w.model, w.estimate.bytes});
        } else {
            s.action = "skip";
            s.reason =
                "needs " + core::util::format_size(w.estimate.bytes) +
                (plan.feasible ? ", more than is free; preload never evicts" : ": " + plan.refusal);
        }
        steps.push_back(s);
    }

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
        print_json({{"schema", "modelctl.preload/v1"},
                    {"server", provider->address()},
                    {"dry_run", o.dry_run},
                    {"at", time_json(core::util::Timestamp(
                               std::chrono::duration_cast<core::util::Timestamp::duration>(
                                   std::chrono::duration<double>(at))))},
                    {"threshold", kLikely},
                    {"budget", budget_json(budget)},
                    {"forecast", fs},
                    {"results", results}});
        return code;
    }
    bool acted = !results.empty();
    if (ctx.global.quiet || (!o.dry_run && !acted && !ctx.stdout_tty && !ctx.global.verbose))
        return code; // cron: quiet unless something happened
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
    std::cout << "Likely in " << window << " (" << fixed(kLikely * 100, 0)
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
