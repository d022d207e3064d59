#include "plan_output.hpp"

namespace modelctl {

using json = nlohmann::ordered_json;

json budget_json(const core::resources::BudgetReport& b) {
    return {{"bytes", b.budget.bytes}, {"max_loaded", b.budget.max_loaded},
            {"pool", b.pool},          {"capacity", b.capacity},
            {"others", b.others},      {"explanation", b.explanation}};
}

json victim_json(const core::policy::Victim& v) {
    return {{"model", v.name},
            {"bytes", v.bytes},
            {"reload_seconds", v.reload_seconds},
            {"idle_seconds", v.idle_seconds},
            {"uses_per_hour", v.uses_per_hour},
            {"priority", v.priority},
            {"cost", v.cost},
            {"reason", v.reason}};
}

} // namespace modelctl
