#include "operations/preload.hpp"

#include "error.hpp"
#include "operations/load.hpp"
#include "operations/planning.hpp"
#include "util/duration.hpp"
#include "util/size.hpp"

#include <algorithm>
#include <cmath>
#include <ctime>

namespace core::operations {

long utc_offset_at(double when) {
    std::time_t t = static_cast<std::time_t>(when);
    std::tm tm{};
    localtime_r(&t, &tm);
    return tm.tm_gmtoff;
}

PreloadPlan plan_preload(provider::Provider& server, registry::Registry& reg,
                         const config::Config& cfg, const BudgetFn& budget, double at) {
    auto now = util::now();
    double now_s = epoch_seconds(now);
    PreloadPlan out;
    out.at = at;
    out.until = at + 3600;
    auto loaded = server.loaded();
    auto state = reg.observe(loaded, now);
    out.budget = budget(loaded);
    auto loaded_now = residents(loaded, state, cfg, server.kind(), now);

    for (const auto& [name, r] : state.models) {
        if (r.usage.uses == 0)
            continue;
        double start = r.usage.first_use.value_or(epoch_seconds(r.first_seen));
        out.forecasts.push_back(
            recommend::forecast(name, r.usage, start, at, utc_offset_at(at), now_s));
    }
    recommend::sort_forecasts(out.forecasts);

    // The likely models described at once: one list of installed models.
    std::vector<std::string> likely;
    for (const auto& f : out.forecasts)
        if (f.probability >= kPreloadLikely)
            likely.push_back(f.model);
    std::vector<Missing> missing;
    auto described = describe_wanted(server, likely, loaded, state, cfg, now, &missing);

    std::vector<policy::Want> chosen;
    for (const auto& f : out.forecasts) {
        if (f.probability < kPreloadLikely)
            continue;
        PreloadStep s;
        s.forecast = f;
        auto found = std::find_if(described.begin(), described.end(), [&](const Wanted& w) {
            return server.same_model(w.model, f.model);
        });
        if (found == described.end()) {
            s.action = "skip";
            s.reason = "not installed on the server any more";
            out.steps.push_back(s);
            continue;
        }
        const auto& w = *found;
        s.bytes = w.estimate.bytes;
        // Keep it loaded to the end of the forecast hour at least.
        double cover = std::ceil(out.until - now_s);
        s.settings = load_settings(cfg, w, false);
        auto ka = s.settings.keep_alive;
        if (!ka || (!ka->forever && ka->value.count() < cover))
            s.settings.keep_alive = util::KeepAlive{false, util::Seconds(cover)};
        if (w.loaded) {
            provider::LoadedModel live;
            for (const auto& l : loaded)
                if (server.same_model(l.name, w.model))
                    live = l;
            auto expiry = provider::classify_expiry(live.expires_at, now);
            // Ten minutes short of the hour's end is close enough: a second
            // preload a moment later has nothing to add.
            if (expiry == provider::Expiry::Forever || expiry == provider::Expiry::Never ||
                epoch_seconds(*live.expires_at) >= out.until - 600) {
                s.action = "keep";
                s.reason = "loaded, and stays loaded through the hour";
            } else {
                s.action = "refresh";
                s.reason = "loaded, but would expire in " +
                           util::format_duration(util::Seconds(
                               std::max(0.0, epoch_seconds(*live.expires_at) - now_s))) +
                           "; keep-alive extended to the end of the hour";
            }
            out.steps.push_back(s);
            continue;
        }
        auto wants = chosen;
        wants.push_back({w.model, w.estimate.bytes});
        auto plan =
            policy::plan_load(loaded_now, wants, out.budget.budget, now_s, policy::Params{});
        if (plan.feasible() && plan.evict.empty()) {
            s.action = "load";
            s.reason = "fits beside what is loaded (" + util::format_size(w.estimate.bytes) + ", " +
                       w.estimate.source + ")";
            chosen.push_back({w.model, w.estimate.bytes});
        } else {
            s.action = "skip";
            s.reason = "needs " + util::format_size(w.estimate.bytes) + " and " +
                       (plan.feasible() ? plan.need + "; preload never evicts" : plan.refusal);
        }
        out.steps.push_back(s);
    }
    return out;
}

} // namespace core::operations
