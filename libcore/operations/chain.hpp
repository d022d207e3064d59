#pragma once
// `modelctl chain`: a chain file read and checked, its prompts filled in, and
// its residency planned (policy/chain.hpp) from what the server and the store
// say: each model's memory at the context its steps use (as load --dry-run
// estimates it), its observed load time, what is loaded now, and the budget
// less the pinned models outside the chain, which hold.

#include "config/config.hpp"
#include "operations/endpoints.hpp"
#include "operations/planning.hpp"
#include "policy/chain.hpp"
#include "registry/registry.hpp"
#include "resources/resources.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace core::operations {

struct ChainStepSpec {
    std::string model;
    std::string prompt;                                // with {input} and {step.N}
    nlohmann::json options = nlohmann::json::object(); // Ollama's sampling options
    std::optional<util::KeepAlive> keep_alive;         // sent with the step's request
    int num_ctx = 0;                      // 0: the model's own setting; kNumCtxMax: "max"
    std::string task;                     // "": the chain's name
    std::optional<util::Seconds> timeout; // its answer's deadline; unset: --step-timeout
};

struct ChainSpec {
    std::string name;
    std::vector<ChainStepSpec> steps;
};

// "num_ctx": "max": the largest context that fits beside what the plan keeps
// loaded, up to the model's own context_length.
constexpr int kNumCtxMax = -1;

// Most steps a chain may have, and the largest chain file read.
constexpr size_t kMaxChainSteps = 1000;
constexpr size_t kMaxChainFileBytes = 1 << 20;

// A chain file: a JSON list of steps, or {"name": ..., "steps": [...]}. Each
// step {"model", "prompt", "options"?, "keep_alive"?, "num_ctx"?, "task"?,
// "timeout"?}.
// `default_name` names a chain the file does not. Throws Error{Usage} naming
// the step and what is wrong: an unknown field, a missing model or prompt, a
// {step.N} that is not an earlier step.
ChainSpec parse_chain(std::string_view text, const std::string& default_name);

// `prompt` with {input} replaced by `input` and {step.N} by answers[N-1];
// anything else between braces is left as written.
std::string render_prompt(const std::string& prompt, const std::string& input,
                          const std::vector<std::string>& answers);

struct ChainPlanning {
    // The chain's distinct (model, num_ctx) pairs, as the plan's models are
    // numbered; each with its settings and memory estimate.
    std::vector<Wanted> models;
    std::vector<int> num_ctx; // per entry of `models`: the step's own (max: chosen), or 0
    std::vector<std::string> num_ctx_why; // per entry: how "max" was chosen, else ""
    policy::ChainInput input;
    policy::ChainPlan plan;
    resources::BudgetReport budget;
    std::vector<std::string> pinned_outside; // loaded, pinned, not in the chain: they hold
    uint64_t pinned_bytes = 0;
};

// Reads the server and the store, then plans the chain. A model the server
// lacks throws its Error{NotFound} before anything changes. A "max" context
// is chosen after a first plan at the model's own setting: the largest that
// fits every step of it beside what that plan holds there; then the chain
// is planned again with it.
ChainPlanning plan_chain(provider::Provider& server, registry::Registry& reg,
                         const config::Config& cfg, const BudgetFn& budget, const ChainSpec& chain);

} // namespace core::operations
