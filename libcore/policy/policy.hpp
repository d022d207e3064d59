#pragma once
// The eviction policy: pure functions, used by live commands (load, gc) and by
// the trace replay (simulate) alike. No I/O, no clock: time is a number of
// seconds passed in by the caller. The formula and its reasons are in
// docs/POLICY.md.
//
// In short: evicting a model risks paying its reload time again when it is
// next used. With λ its decayed rate of use and `idle` the time since its last
// use, the next use is expected in about 1/λ + idle seconds, so the eviction
// puts at risk
//
//     cost = weight(priority) × reload_seconds / (1/λ + idle)
//
// reload seconds per second. A plan frees the memory (and slots) needed while
// keeping the summed cost of its victims lowest; pins are never victims.

#include "metrics/summary.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace core::policy {

struct Params {
    // Time constant of the decayed use count (metrics::UseCount).
    double decay_seconds = metrics::kDecaySeconds;
    // Up to this many candidates the cheapest set of victims is found
    // exactly; beyond it a greedy pass by cost per byte is used.
    size_t exhaustive_limit = 16;
};

inline constexpr int kDefaultPriority = 5;
inline constexpr int kMaxPriority = 9;

// The decayed use count (metrics/summary.hpp), with the policy's time constant.
using metrics::UseCount;
inline UseCount decayed(const UseCount& c, double now, const Params& p) {
    return metrics::decayed(c, now, p.decay_seconds);
}
inline UseCount add_use(const UseCount& c, double now, const Params& p) {
    return metrics::add_use(c, now, p.decay_seconds);
}
inline double use_rate(const UseCount& c, double now, const Params& p) {
    return metrics::use_rate(c, now, p.decay_seconds);
}

// A loaded model as the policy sees it.
struct Resident {
    std::string name;
    uint64_t bytes = 0;        // memory it holds
    double reload_seconds = 0; // what loading it again costs
    bool pinned = false;
    int priority = kDefaultPriority; // 0..9
    UseCount uses;
    double last_use = 0; // seconds
};

// 2^((priority - 5) / 2): priority 9 weighs 4x the default, priority 1 a quarter.
double priority_weight(int priority);

// The figures behind one eviction, and the cost they add up to.
struct Victim {
    std::string name;
    uint64_t bytes = 0;
    double reload_seconds = 0;
    double idle_seconds = 0;
    double uses_per_hour = 0;
    int priority = kDefaultPriority;
    double cost = 0;    // reload seconds put at risk per second (see above)
    std::string reason; // why this one, in words with figures
};

double eviction_cost(const Resident& r, double now, const Params& p);
Victim describe(const Resident& r, double now, const Params& p);

struct Choice {
    bool feasible = false;
    std::vector<Victim> victims; // cheapest first
    uint64_t freed = 0;
    double cost = 0;
};

// Chooses victims among `candidates` (pinned ones are skipped) freeing at
// least `need_bytes` bytes and `need_slots` slots, with the lowest summed
// cost; among equal costs, the one with fewer victims, then the one freeing
// more memory. Not feasible when even
// evicting every unpinned candidate is not enough.
Choice choose_victims(const std::vector<Resident>& candidates, uint64_t need_bytes,
                      size_t need_slots, double now, const Params& p);

// What the loaded models may hold: `bytes` in all, at most `max_loaded` of
// them (0: no limit on the count).
struct Budget {
    uint64_t bytes = 0;
    size_t max_loaded = 0;
};

struct Want {
    std::string name;
    uint64_t bytes = 0; // what it will take once loaded
};

// Why a plan is refused: what the user can change differs.
enum class Refusal {
    None,
    TooLarge, // a wanted model alone exceeds the whole budget
    Memory,   // pinned and wanted models together exceed the budget's memory
    Count,    // pinned and wanted models together exceed budget.max_loaded
};

struct Plan {
    Refusal refused = Refusal::None; // why not, when the plan is refused
    std::string refusal;             // the same with figures, "" when feasible
    std::vector<std::string> load;   // wanted models not loaded yet
    std::vector<Victim> evict;       // to unload first
    // Why anything must be evicted: the constraint that binds, memory or the
    // count (budget.max_loaded), with figures; "" when nothing must go.
    std::string need;
    uint64_t used_before = 0; // bytes held by loaded models now
    uint64_t used_after = 0;  // after evictions and loads

    bool feasible() const { return refused == Refusal::None; }
};

// Plans loading `wanted` together: models already loaded stay and are not
// victims; the others must fit the budget alongside what stays. Refused when a
// wanted model alone exceeds the budget, or when pinned and wanted models
// together leave no room.
Plan plan_load(const std::vector<Resident>& loaded, const std::vector<Want>& wanted,
               const Budget& budget, double now, const Params& p);

// What gc unloads: first every unpinned model idle for longer than its idle
// timeout (`idle_timeouts[i]` for `loaded[i]`, <= 0: never idle), then, while
// the rest exceed the budget, victims chosen as for a load.
struct GcPlan {
    std::vector<Victim> idle;        // unloaded for idleness
    std::vector<Victim> over_budget; // unloaded to get back under the budget
    bool still_over = false;         // pins alone exceed the budget
    std::string need;                // as Plan::need, for the over-budget victims
    uint64_t used_before = 0;
    uint64_t used_after = 0;
};

// `cause` opens each over-budget victim's reason ("over budget: ...").
GcPlan plan_gc(const std::vector<Resident>& loaded, const std::vector<double>& idle_timeouts,
               const Budget& budget, double now, const Params& p,
               const std::string& cause = "over budget");

} // namespace core::policy
