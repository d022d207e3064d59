#include "operations/status.hpp"

#include <algorithm>

namespace core::operations {

StatusView status_view(const registry::Status& status, const provider::Provider& provider,
                       const config::Config& cfg) {
    StatusView view;
    for (const auto& m : status.loaded) {
        LoadedView v{m, store::find_model(status.state, m.name), {}, std::nullopt};
        v.settings = effective_settings(m.name, provider.kind(), cfg, v.record);
        if (v.record && v.record->last_used)
            v.idle_seconds = std::max(
                0.0, std::chrono::duration<double>(status.now - *v.record->last_used).count());
        view.sizes_unreported = view.sizes_unreported || !m.size_reported;
        view.expiry_unreported = view.expiry_unreported || !m.expiry_reported;
        view.loaded.push_back(std::move(v));
    }
    for (const auto& m : status.installed) {
        bool loaded = std::any_of(status.loaded.begin(), status.loaded.end(), [&](const auto& l) {
            return provider.same_model(l.name, m.name);
        });
        view.installed.push_back({m, store::find_model(status.state, m.name), loaded});
    }
    return view;
}

} // namespace core::operations
