#include "cmd_stats.hpp"

#include "error.hpp"
#include "operations/stats.hpp"
#include "output.hpp"
#include "util/duration.hpp"

#include <cmath>
#include <cstdio>
#include <iostream>
#include <memory>

namespace modelctl {

using json = nlohmann::ordered_json;

void setup_stats(CLI::App& app, Context& ctx) {
    auto opts = std::make_shared<StatsOptions>();
    auto* sub = app.add_subcommand("stats", "Show recorded usage per model");
    sub->add_option("model", opts->model, "Only this model");
    sub->add_option("--since", opts->since, "Only the last DURATION, e.g. 7d, 12h (from the log)");
    sub->callback([&ctx, opts] { ctx.exit_code = run_stats(ctx, *opts); });
}

int run_stats(Context& ctx, const StatsOptions& o) {
    auto store = ctx.store();
    auto state = store.read();
    auto now = core::util::now();
    std::string only = o.model.empty() ? "" : ctx.canonical(o.model);
    core::operations::UsageStats stats;
    if (o.since.empty()) {
        stats = core::operations::usage_stats(state, now);
    } else {
        auto d = core::util::parse_duration(o.since);
        if (!d || d->count() <= 0)
            throw core::Error(core::ErrorKind::Usage,
                              "--since: '" + o.since + "' is not a duration", "e.g. 7d, 12h, 30m");
        stats = core::operations::usage_stats(store, state, *d, now);
    }
    auto& rows = stats.rows;
    const auto& log_starts = stats.log_starts;
    if (!only.empty()) {
        auto it = rows.find(only);
        std::map<std::string, core::operations::UsageRow> one;
        if (it != rows.end())
            one.insert(*it);
        rows.swap(one);
    }

    json models = json::array();
    Table t({"MODEL", "USES", "FAILED", "P50", "P95", "TOK/S", "TOKENS", "LOADS", "MEAN LOAD",
             "DEMAND/H", "LAST USE"});
    for (const auto& [name, row] : rows) {
        const auto& u = row.usage;
        std::optional<core::util::Timestamp> last;
        if (u.last_use)
            last =
                core::util::Timestamp(std::chrono::duration_cast<core::util::Timestamp::duration>(
                    std::chrono::duration<double>(*u.last_use)));
        double mean_load = row.loads ? row.load_seconds / row.loads : 0;
        models.push_back(
            {{"model", name},
             {"uses", u.uses},
             {"failures", u.failures},
             {"success_rate", u.success_rate()},
             {"latency_ms", {{"p50", u.latency.quantile(0.5)}, {"p95", u.latency.quantile(0.95)}}},
             {"ttft_ms", {{"p50", u.ttft.quantile(0.5)}, {"p95", u.ttft.quantile(0.95)}}},
             {"tokens_in", u.tokens_in},
             {"tokens_out", u.tokens_out},
             {"tokens_per_second", u.tokens_per_second()},
             {"loads", row.loads},
             {"mean_load_seconds", mean_load},
             {"uses_per_hour", row.uses_per_hour},
             {"last_use", time_json(last)},
             {"hour_of_week", u.hour_of_week}});
        t.add({name, std::to_string(u.uses),
               u.uses ? fixed(100.0 * static_cast<double>(u.failures) / static_cast<double>(u.uses),
                              1) +
                            "%"
                      : "-",
               u.latency.count() ? elapsed_text(u.latency.quantile(0.5) / 1000) : "-",
               u.latency.count() ? elapsed_text(u.latency.quantile(0.95) / 1000) : "-",
               u.tokens_per_second() > 0 ? fixed(u.tokens_per_second(), 1) : "-",
               std::to_string(u.tokens_out), std::to_string(row.loads),
               row.loads ? elapsed_text(mean_load) : "-", fixed(row.uses_per_hour, 2),
               ago_text(last, now)});
    }
    if (ctx.global.json) {
        print_json({{"schema", "modelctl.stats/v1"},
                    {"since", o.since.empty() ? json(nullptr) : json(o.since)},
                    {"log_starts", time_json(log_starts)},
                    {"models", models}});
        return 0;
    }
    if (ctx.global.quiet) { // the names of the models with recorded usage, for scripts
        for (const auto& m : models)
            std::cout << m["model"].get<std::string>() << "\n";
        return 0;
    }
    if (rows.empty()) {
        if (!ctx.global.quiet)
            std::cout << "No recorded usage" << (only.empty() ? "" : " of " + only)
                      << (o.since.empty() ? "" : " in the last " + o.since)
                      << ". modelctl records its own loads; `modelctl record` adds uses.\n";
        return 0;
    }
    t.print(std::cout, ctx.color());
    std::cout << "(DEMAND/H: uses and explicit loads an hour, recent ones weighing most, as the "
                 "eviction policy counts them)\n";
    if (log_starts && !ctx.global.quiet)
        std::cout << "(the event log starts " << core::util::format_rfc3339(*log_starts)
                  << "; older events were rotated away, see history.max_log_size)\n";
    return 0;
}

} // namespace modelctl
