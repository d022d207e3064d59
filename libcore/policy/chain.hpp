#pragma once
// Residency for a chain of steps whose whole future is known (modelctl
// chain): which models stay loaded between their uses, so that the chain
// spends the fewest seconds loading. Pure: no I/O, no clock.
//
// A model used at step i and next at step j is either kept loaded through
// the steps between (its bytes held beside theirs) or unloaded after step i
// and loaded again for step j (its load seconds paid again). A model loaded
// before the chain starts is likewise kept for its first use or not. The
// plan keeps the set of these intervals that saves the most load seconds
// while every step fits the capacity: exactly up to kExactIntervals
// candidates, greedily by seconds saved per byte-step beyond. An interval
// with no step between (the same model at the next step) holds no memory of
// its own and is always kept; so the plan never loads more than either naive
// rule, unloading after every step or keeping a model only for an identical
// next step, whose figures it reports beside its own.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace core::policy {

struct ChainModel {
    std::string name;
    uint64_t bytes = 0;      // memory it takes loaded, at the context its steps use
    double load_seconds = 0; // what loading it costs
    bool loaded = false;     // in memory when the chain starts
};

struct ChainInput {
    std::vector<ChainModel> models; // each model once
    std::vector<size_t> steps;      // per step, its model: an index in `models`
    uint64_t capacity = 0;          // what the chain's models may hold at once
};

struct ChainStep {
    size_t model = 0;
    bool load = false;                // loaded before the step (else it is resident)
    std::vector<size_t> resident;     // other chain models held during the step, kept for later
    std::vector<size_t> unload_after; // this step's model, when not kept for its next use
    uint64_t bytes = 0;               // held during the step: its model and `resident`
    std::string reason;               // why it loads or is resident, why it goes after
};

struct RuleCost {
    size_t loads = 0;
    double seconds = 0;
};

struct ChainPlan {
    bool feasible = true;
    size_t too_large = 0; // not feasible: the first step whose model alone exceeds the capacity
    // Models loaded at the start that the plan does not keep for their first
    // use: they make room before the first step.
    std::vector<size_t> unload_first;
    std::vector<ChainStep> steps;
    RuleCost plan;
    // The naive rules from the same start (the first step's model, when
    // loaded already, is not loaded again by any of them).
    RuleCost unload_every_step;
    RuleCost keep_if_next_same;
};

// Candidates up to which the best set of kept intervals is found exactly.
constexpr size_t kExactIntervals = 22;

ChainPlan plan_chain(const ChainInput& in);

} // namespace core::policy
