#pragma once
// JSON pieces shared by the commands that plan (load, gc).

#include "policy/policy.hpp"
#include "resources/resources.hpp"

#include <nlohmann/json.hpp>

namespace modelctl {

// {"bytes", "max_loaded", "pool", "capacity", "others", "explanation"}
nlohmann::ordered_json budget_json(const core::resources::BudgetReport& b);
// {"model", "bytes", "reload_seconds", "idle_seconds", "uses_per_hour", "priority", "cost",
// "reason"}
nlohmann::ordered_json victim_json(const core::policy::Victim& v);

} // namespace modelctl
