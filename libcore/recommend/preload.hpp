#pragma once
// Predictive preload: which models history says will be used in a coming
// hour, from the uses counted per hour of the week (metrics::Summary).

#include "metrics/summary.hpp"

#include <string>
#include <vector>

namespace core::recommend {

inline constexpr double kWeekSeconds = 7 * 24 * 3600.0;

struct Forecast {
    std::string model;
    double expected_uses = 0; // in the hour from `at`
    double probability = 0;   // of at least one use: 1 - e^-expected (uses as a Poisson process)
    double weeks = 0;         // of history the counts were gathered over
    uint32_t slot_uses = 0;   // recorded uses in the hour-of-week slots the hour overlaps
};

// The forecast for the hour [at, at + 1 h). `at` is seconds since the epoch
// and `utc_offset` the local time zone's offset then; `history_start` is the
// first recorded use (else when modelctl first saw the model), `now` the
// present. The hour overlaps two hour-of-week slots in proportion to its
// minutes; each slot's count is divided by the weeks of history. Less than a
// week of history says nothing about weekly habits (and would count the
// present hour's own uses as a habit): such a model is forecast no uses.
Forecast forecast(const std::string& model, const metrics::Summary& usage, double history_start,
                  double at, long utc_offset, double now);

// Forecasts ordered most likely first (ties: more expected uses, then name).
void sort_forecasts(std::vector<Forecast>& forecasts);

} // namespace core::recommend
