#include "recommend/preload.hpp"

#include <doctest/doctest.h>

#include <cmath>

using namespace core::recommend;
using core::metrics::Summary;

namespace {

// Monday 2026-11-23 09:00 UTC.
constexpr double kMonday9 = 1795424400;
constexpr double kHour = 3600;

} // namespace

TEST_CASE("the reference time is a Monday 09:00") {
    CHECK(core::metrics::hour_of_week(kMonday9, 0) == 9);
}

TEST_CASE("forecast: uses in this hour slot over the weeks of history") {
    Summary s;
    s.hour_of_week[9] = 8; // 8 uses on Mondays 09:00-09:59
    // History began 4 weeks ago: 2 uses expected in the hour.
    auto f = forecast("m", s, kMonday9 - 4 * kWeekSeconds, kMonday9, 0, kMonday9 - 600);
    CHECK(f.weeks == doctest::Approx(4 - 600 / kWeekSeconds));
    CHECK(f.expected_uses == doctest::Approx(8 / f.weeks));
    CHECK(f.probability == doctest::Approx(1 - std::exp(-f.expected_uses)));
    CHECK(f.slot_uses == 8);
}

TEST_CASE("forecast: an hour starting mid-slot draws on both slots") {
    Summary s;
    s.hour_of_week[9] = 4;
    s.hour_of_week[10] = 8;
    // 09:15: three quarters of slot 9, one quarter of slot 10, over 2 weeks.
    double at = kMonday9 + 15 * 60;
    auto f = forecast("m", s, at - 2 * kWeekSeconds, at, 0, at);
    CHECK(f.weeks == doctest::Approx(2));
    CHECK(f.expected_uses == doctest::Approx((0.75 * 4 + 0.25 * 8) / 2));
    CHECK(f.slot_uses == 12);
}

TEST_CASE("forecast: less than a week of history forecasts nothing") {
    Summary s;
    s.hour_of_week[9] = 5; // used five times in the last hour
    auto f = forecast("m", s, kMonday9 - 3600, kMonday9, 0, kMonday9);
    CHECK(f.weeks == doctest::Approx(1.0 / 168));
    CHECK(f.expected_uses == 0);
    CHECK(f.probability == 0);
    // One week exactly is enough.
    auto g = forecast("m", s, kMonday9 - kWeekSeconds, kMonday9, 0, kMonday9);
    CHECK(g.expected_uses == doctest::Approx(5));
}

TEST_CASE("forecast: the time zone moves the slot") {
    Summary s;
    s.hour_of_week[10] = 3; // Mondays 10:00 local
    // 09:00 UTC is 10:00 at UTC+1.
    auto f = forecast("m", s, kMonday9 - kWeekSeconds, kMonday9, 3600, kMonday9);
    CHECK(f.slot_uses == 3);
    CHECK(f.expected_uses == doctest::Approx(3));
    // Sunday 23:00 wraps to Monday 00:00 for the second slot.
    Summary w;
    w.hour_of_week[0] = 2;
    double sunday2330 = kMonday9 - 9 * kHour - 30 * 60;
    auto g = forecast("m", w, sunday2330 - kWeekSeconds, sunday2330, 0, sunday2330);
    CHECK(g.expected_uses == doctest::Approx(0.5 * 2));
}

TEST_CASE("forecasts sort most likely first") {
    std::vector<Forecast> fs = {{"b", 1, 0.63, 1, 0}, {"a", 2, 0.86, 1, 0}, {"c", 1, 0.63, 1, 0}};
    sort_forecasts(fs);
    CHECK(fs[0].model == "a");
    CHECK(fs[1].model == "b");
    CHECK(fs[2].model == "c");
}
