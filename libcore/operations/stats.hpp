#pragma once
// What `stats` shows of each model of one endpoint: its usage summary, its
// loads and their time, and its uses per hour, over all recorded history (the
// store's summaries) or over a recent window (what is left of the log).

#include "metrics/summary.hpp"
#include "store/store.hpp"
#include "util/duration.hpp"
#include "util/timestamp.hpp"

#include <map>
#include <optional>
#include <string>

namespace core::operations {

struct UsageRow {
    metrics::Summary usage;
    int loads = 0;
    double load_seconds = 0;  // summed over `loads`
    double uses_per_hour = 0; // all history: the decayed rate; a window: uses over its length
};

struct UsageStats {
    std::map<std::string, UsageRow>
        rows; // by model (canonical); models never used nor loaded left out
    // The window reaches back before the oldest event left in the log (older
    // ones were rotated away): when the log starts.
    std::optional<util::Timestamp> log_starts;
};

// Over all recorded history: the summaries in `state`.
UsageStats usage_stats(const store::State& state, util::Timestamp now);

// Over the `window` before `now`, from the store's log: the events of the
// endpoint `state` is seen from (renamed endpoints' included).
UsageStats usage_stats(const store::Store& store, const store::State& state, util::Seconds window,
                       util::Timestamp now);

} // namespace core::operations
