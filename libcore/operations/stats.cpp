#include "operations/stats.hpp"

#include "operations/planning.hpp"

namespace core::operations {

UsageStats usage_stats(const store::State& state, util::Timestamp now) {
    UsageStats out;
    double now_s = epoch_seconds(now);
    for (const auto& [name, r] : state.models) {
        if (r.usage.uses == 0 && r.loads == 0)
            continue;
        UsageRow row{r.usage, r.loads, r.load_seconds_total, 0};
        if (r.uses_at)
            row.uses_per_hour = metrics::use_rate({r.uses, epoch_seconds(*r.uses_at)}, now_s,
                                                  metrics::kDecaySeconds) *
                                3600;
        out.rows[name] = row;
    }
    return out;
}

UsageStats usage_stats(const store::Store& store, const store::State& state, util::Seconds window,
                       util::Timestamp now) {
    UsageStats out;
    auto from = now - std::chrono::duration_cast<util::Timestamp::duration>(window);
    auto log = store.read_events();
    if (log.rotated && !log.events.empty() && log.events.front().at > from)
        out.log_starts = log.events.front().at;
    for (const auto& e : log.events) {
        if (e.at < from || store::owner(state, e) != state.endpoint)
            continue;
        UsageRow& row = out.rows[e.model];
        if (e.type == "load") {
            row.loads += 1;
            row.load_seconds += e.seconds;
        } else if (e.type == "use") {
            row.usage.add(store::as_use(e));
        }
    }
    for (auto& [name, row] : out.rows)
        row.uses_per_hour = static_cast<double>(row.usage.uses) / (window.count() / 3600);
    return out;
}

} // namespace core::operations
