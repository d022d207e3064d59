#pragma once
// The model servers modelctl manages, and the memory budget of each.

#include "config/config.hpp"
#include "http/endpoint.hpp"
#include "provider/provider.hpp"
#include "resources/resources.hpp"

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace core::operations {

// A model server: one from the config file's `endpoints`, or, with none
// configured, Ollama at OLLAMA_HOST ("ollama") and LM Studio at its default
// port ("lmstudio", optional: left out of status and gc when it does not
// answer).
struct Endpoint {
    std::string name;
    std::string provider; // "ollama" or "lmstudio"
    http::Endpoint address;
    std::string token_env; // the variable holding its bearer token; "" none
    std::optional<uint64_t> vram, ram;
    bool optional = false;
};

// Every endpoint, in the config file's order, else the two defaults. Throws
// Error{Usage} for --host with endpoints configured (it would be ignored);
// OLLAMA_HOST is then ignored, as the config file's `host` is.
std::vector<Endpoint> resolve_endpoints(const config::Config& cfg);

// The url of each default endpoint ("ollama", "lmstudio") as it would be with
// no endpoints configured: where the store's records from before urls were
// kept came from (Store::identify).
std::map<std::string, std::string> default_urls(const config::Config& cfg);

// The endpoint named `name` (optional = false: asked for by name, it must
// answer), or the first when `name` is empty. Throws Error{Usage} naming the
// endpoints there are for an unknown name.
Endpoint select_endpoint(const std::vector<Endpoint>& all, const std::string& name);

// Whether the server runs on this machine (its memory is the probe's).
bool is_local(const Endpoint& e);

// What the models of the other servers on this machine hold (they share its
// memory), and which servers those are, for budget().
struct Neighbours {
    uint64_t bytes = 0;
    std::vector<std::string> names;
};

// The memory budget for an endpoint's loaded models (resources.hpp): the
// endpoint's configured memory, else the config's, else (a server on this
// machine) what `probe` finds. `probe` is called only when needed.
// `neighbours`: for a server on this machine under the config's
// budget.memory, which is the machine's, what the other local servers'
// models hold comes off it, so that the sum is planned against. (A probed
// budget counts them already: they are other programs' memory to it.)
resources::BudgetReport budget(const Endpoint& e, const config::Config& cfg,
                               const std::function<resources::Snapshot()>& probe,
                               const std::vector<provider::LoadedModel>& loaded,
                               const Neighbours& neighbours = {});

// The budget of one endpoint as a function of what is loaded there.
using BudgetFn = std::function<resources::BudgetReport(const std::vector<provider::LoadedModel>&)>;

} // namespace core::operations
