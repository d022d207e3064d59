#pragma once
// What `status` shows of one endpoint, decided once for every output form
// (table, --json, Prometheus) and for `serve`: each loaded model with what
// modelctl knows of it, its effective settings (operations/planning.hpp) and
// how long it has been idle; each installed model and whether it is loaded.
// Built from what the server and the store said (registry::Status); no I/O.

#include "operations/planning.hpp"
#include "provider/provider.hpp"
#include "registry/registry.hpp"

#include <optional>
#include <vector>

namespace core::operations {

struct LoadedView {
    provider::LoadedModel model;
    // What modelctl knows of it, or null. Points into the Status the view was
    // built from: valid while that lives.
    const store::ModelRecord* record = nullptr;
    Effective settings;
    std::optional<double> idle_seconds; // since its last use, when one is known
};

struct InstalledView {
    provider::InstalledModel model;
    const store::ModelRecord* record = nullptr; // as LoadedView::record
    bool loaded = false;                        // by the server's own naming rule
};

struct StatusView {
    std::vector<LoadedView> loaded;
    std::vector<InstalledView> installed; // when the status was asked with them
    // The server does not report, for some loaded model, the memory it holds
    // (its file's size stands in) or when it will unload it (LM Studio).
    bool sizes_unreported = false;
    bool expiry_unreported = false;
};

StatusView status_view(const registry::Status& status, const provider::Provider& provider,
                       const config::Config& cfg);

} // namespace core::operations
