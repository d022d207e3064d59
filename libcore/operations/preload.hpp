#pragma once
// Predictive preload's decisions: which models history says will be used in
// a coming hour, and for each, whether to load it, extend its keep-alive, keep
// it as it is, or skip it, with the reason. Preload never evicts: a likely
// model that does not fit beside what is loaded is skipped, naming the
// constraint that binds (memory or budget.max_loaded).

#include "operations/endpoints.hpp"
#include "provider/provider.hpp"
#include "recommend/preload.hpp"
#include "registry/registry.hpp"
#include "resources/resources.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace core::operations {

// A model is preloaded when history gives it at least this chance of a use
// in the coming hour.
inline constexpr double kPreloadLikely = 0.5;

struct PreloadStep {
    recommend::Forecast forecast;
    std::string action; // "load", "refresh", "keep", "skip"
    std::string reason;
    uint64_t bytes = 0;
    provider::LoadSettings settings; // for "load" and "refresh"
};

struct PreloadPlan {
    double at = 0, until = 0;                   // the hour prepared for, epoch seconds
    std::vector<recommend::Forecast> forecasts; // every used model, most likely first
    std::vector<PreloadStep> steps;             // the likely ones, in the same order
    resources::BudgetReport budget;
};

// Plans for the hour [at, at + 1 h) (`at` in seconds since the epoch).
// Reads the server and the store; changes nothing but what observing the
// loaded models records.
PreloadPlan plan_preload(provider::Provider& server, registry::Registry& reg,
                         const config::Config& cfg, const BudgetFn& budget, double at);

// The local time zone's offset from UTC at `when` (epoch seconds).
long utc_offset_at(double when);

} // namespace core::operations
