// Usage summaries against hand-computed values.
#include "metrics/summary.hpp"
#include "policy/policy.hpp"

#include <doctest/doctest.h>

#include <cmath>

using namespace core::metrics;

TEST_CASE("histogram percentiles are within half a bucket of the true value") {
    Histogram h;
    for (int ms = 1; ms <= 100; ++ms)
        h.add(ms);
    CHECK(h.count() == 100);
    // True p50 = 50, p95 = 95; a bucket is 5% wide.
    CHECK(h.quantile(0.5) == doctest::Approx(50).epsilon(0.03));
    CHECK(h.quantile(0.95) == doctest::Approx(95).epsilon(0.03));
    CHECK(h.quantile(1.0) == doctest::Approx(100).epsilon(0.03));
    Histogram one;
    one.add(1200);
    CHECK(one.quantile(0.5) == doctest::Approx(1200).epsilon(0.03));
    CHECK(Histogram().quantile(0.5) == 0);
    Histogram small;
    small.add(0.2); // under 1 ms: the first bucket
    CHECK(small.quantile(0.5) == doctest::Approx(std::pow(Histogram::kBase, 0.5)));
}

TEST_CASE("histogram reads back from its buckets") {
    Histogram h, copy;
    for (double ms : {10.0, 20.0, 20.0, 400.0})
        h.add(ms);
    for (const auto& [i, n] : h.buckets())
        copy.set_bucket(i, n);
    CHECK(copy.count() == 4);
    CHECK(copy.quantile(0.5) == h.quantile(0.5));
}

TEST_CASE("summary: counts, success rate, tokens per second, hours of the week") {
    Summary s;
    CHECK(s.success_rate() == 1.0);
    s.add({1000, 1200, 300.0, 20, 100, 2.0, false, 10});
    s.add({2000, 800, std::nullopt, 10, 50, 0.0, false, 10});
    s.add({3000, 5000, std::nullopt, 10, 0, 0.0, true, 11});
    CHECK(s.uses == 3);
    CHECK(s.failures == 1);
    CHECK(s.success_rate() == doctest::Approx(2.0 / 3));
    CHECK(s.latency.count() == 2); // failures do not count in latency
    CHECK(s.ttft.count() == 1);
    CHECK(s.tokens_in == 40);
    CHECK(s.tokens_out == 150);
    CHECK(s.tokens_per_second() ==
          doctest::Approx(50)); // 100 tokens in 2 s; the untimed one is left out
    CHECK(s.hour_of_week[10] == 2);
    CHECK(s.hour_of_week[11] == 1);
    CHECK(*s.last_use == 3000);
}

TEST_CASE("hour of the week: Monday 00:00 is 0") {
    CHECK(hour_of_week(0, 0) == 72);              // Thursday 1970-01-01 00:00 UTC
    CHECK(hour_of_week(4 * 86400, 0) == 0);       // Monday 1970-01-05 00:00
    CHECK(hour_of_week(4 * 86400 - 1, 0) == 167); // Sunday 23:59:59
    CHECK(hour_of_week(4 * 86400, 3600) == 1);    // 01:00 at UTC+1
    CHECK(hour_of_week(4 * 86400, -3600) == 167); // still Sunday at UTC-1
    CHECK(hour_of_week(1795406400, 0) == 4);      // Monday 2026-11-23 04:00 UTC
}

TEST_CASE("a use older than the count adds what is left of it") {
    core::policy::Params p; // 3600 s
    core::policy::UseCount c{1, 7200};
    auto d = core::policy::add_use(c, 3600, p); // an hour older
    CHECK(d.count == doctest::Approx(1 + std::exp(-1.0)));
    CHECK(d.at == 7200);
}
