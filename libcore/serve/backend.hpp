#pragma once
// Admission's Backend over a real server: plans exactly as `modelctl load`
// plans (operations::plan_loads: budget, estimates, pins, priorities,
// budget.max_loaded), and loads and unloads through the registry, so each is
// timed and recorded in the store as the commands record theirs. A load
// carries serve's keep_alive (serve_keep_alive).

#include "config/config.hpp"
#include "operations/endpoints.hpp"
#include "operations/planning.hpp"
#include "provider/provider.hpp"
#include "registry/registry.hpp"
#include "resources/resources.hpp"
#include "serve/admission.hpp"
#include "store/store.hpp"

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace core::serve {

// The keep_alive serve gives a model's requests and loads: the config's
// (the model's own, else the global `keep_alive`) when it sets one, and then
// the server's timer unloads it; else forever, and serve unloads the model
// itself once idle longer than its idle_timeout (Admission::expire).
util::KeepAlive serve_keep_alive(const operations::Effective& e);

// How serve loads a planned model: as `modelctl load` would, with
// serve_keep_alive.
provider::LoadSettings serve_load_settings(const config::Config& cfg,
                                           const operations::Wanted& wanted);

// The configuration as it is now: serve reads it again on SIGHUP, and each
// plan takes the one current when it starts.
using ConfigFn = std::function<const config::Config&()>;
// Memory pressure on the server's machine now (nullopt: it cannot be known
// here, a server on another machine).
using PressureFn = std::function<std::optional<resources::Pressure>()>;

class ServerBackend final : public Backend {
public:
    ServerBackend(provider::Provider& server, store::Store& store, ConfigFn config,
                  operations::BudgetFn budget, PressureFn pressure = {})
        : server_(server), store_(store), reg_(server, store), config_(std::move(config)),
          budget_(std::move(budget)), pressure_(std::move(pressure)) {}

    std::vector<std::string> loaded() override;
    Plan plan(const std::string& model, const std::set<std::string>& keep) override;
    void unload(const std::string& model, const std::string& reason) override;
    void load(const std::string& model) override;
    // Under pressure: operations::plan_relief's victims for the bytes needed.
    Relief relieve(const std::set<std::string>& keep) override;
    // operations::plan_preload's "load" steps, with serve's keep_alive (a
    // "refresh" has nothing to do: serve holds residency already).
    std::vector<Preloaded> preload(double at) override;

    // The model's settings as the config and the store say now.
    operations::Effective settings(const std::string& model);

private:
    provider::Provider& server_;
    store::Store& store_;
    registry::Registry reg_;
    ConfigFn config_;
    operations::BudgetFn budget_;
    PressureFn pressure_;
    std::optional<operations::Wanted> planned_; // the last plan's model, for load()
};

} // namespace core::serve
