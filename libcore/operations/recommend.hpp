#pragma once
// What `recommend` ranks: each installed model (version tags left out) with
// its capabilities, the memory it will take (as `load` estimates it), whether
// it is loaded, fits, would evict (naming whom) or cannot fit beside the
// pins, as `load` would plan it alone, and what was measured of it.

#include "operations/endpoints.hpp"
#include "recommend/recommend.hpp"
#include "registry/registry.hpp"
#include "resources/resources.hpp"

#include <optional>
#include <string>
#include <vector>

namespace core::operations {

struct RecommendInput {
    std::vector<recommend::Candidate> candidates;
    std::optional<resources::BudgetReport> budget; // absent: no budget could be had
    std::string no_budget;                         // why not, when absent
};

// Reads the server (its loaded and installed models, each one's /api/show)
// and the store (recording uses seen through expiry). A budget that cannot be
// had (Error{Usage}: the config sets none and the machine says nothing) is
// reported in `no_budget`, and readiness is then left as Fits.
RecommendInput recommend_candidates(provider::Provider& server, registry::Registry& reg,
                                    const config::Config& cfg, const BudgetFn& budget);

} // namespace core::operations
