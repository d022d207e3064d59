#include "recommend/preload.hpp"

#include <algorithm>
#include <cmath>

namespace core::recommend {

Forecast forecast(const std::string& model, const metrics::Summary& usage, double history_start,
                  double at, long utc_offset, double now) {
    Forecast f;
    f.model = model;
    f.weeks = std::max(0.0, (now - history_start) / kWeekSeconds);
    if (f.weeks < 1)
        return f;
    int slot = metrics::hour_of_week(at, utc_offset);
    double local = at + static_cast<double>(utc_offset);
    double into = (local - 3600 * std::floor(local / 3600)) / 3600; // fraction of the hour gone
    auto first = usage.hour_of_week[static_cast<size_t>(slot)];
    auto second = usage.hour_of_week[static_cast<size_t>((slot + 1) % 168)];
    f.slot_uses = first + (into > 0 ? second : 0);
    f.expected_uses = ((1 - into) * first + into * second) / f.weeks;
    f.probability = 1 - std::exp(-f.expected_uses);
    return f;
}

void sort_forecasts(std::vector<Forecast>& fs) {
    std::sort(fs.begin(), fs.end(), [](const Forecast& a, const Forecast& b) {
        if (a.probability != b.probability)
            return a.probability > b.probability;
        if (a.expected_uses != b.expected_uses)
            return a.expected_uses > b.expected_uses;
        return a.model < b.model;
    });
}

} // namespace core::recommend
