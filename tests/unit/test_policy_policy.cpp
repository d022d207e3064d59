// The policy's pure functions, on small cases checked by hand.
#include "policy/policy.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>

using namespace core::policy;

namespace {

constexpr uint64_t GB = 1000000000ULL;

// A model used once at time `used`, reloading in `reload` seconds.
Resident model(const std::string& name, uint64_t gb, double reload, double used = 0) {
    Resident r;
    r.name = name;
    r.bytes = gb * GB;
    r.reload_seconds = reload;
    r.uses = {1, used};
    r.last_use = used;
    return r;
}

std::vector<std::string> names(const std::vector<Victim>& vs) {
    std::vector<std::string> out;
    for (const auto& v : vs)
        out.push_back(v.name);
    std::sort(out.begin(), out.end());
    return out;
}

} // namespace

TEST_CASE("use counts decay by e^-1 per time constant") {
    Params p; // 3600 s
    UseCount c{2, 0};
    CHECK(decayed(c, 3600, p).count == doctest::Approx(2 / M_E));
    CHECK(decayed(c, 3600, p).at == 3600);
    UseCount d = add_use(c, 3600, p);
    CHECK(d.count == doctest::Approx(2 / M_E + 1));
    CHECK(use_rate(d, 3600, p) == doctest::Approx((2 / M_E + 1) / 3600));
    // A clock that went backwards never grows the count.
    CHECK(decayed(c, -5, p).count == doctest::Approx(2));
}

TEST_CASE("priority weights: each step is a factor of sqrt 2") {
    CHECK(priority_weight(5) == doctest::Approx(1));
    CHECK(priority_weight(9) == doctest::Approx(4));
    CHECK(priority_weight(1) == doctest::Approx(0.25));
    CHECK(priority_weight(7) == doctest::Approx(2));
    CHECK(priority_weight(42) == doctest::Approx(4)); // clamped
}

TEST_CASE("eviction cost is reload seconds over the expected wait for the next use") {
    Params p;
    Resident r = model("a", 10, 10, 0);
    // λ = e^(-100/3600) / 3600; wait = 1/λ + 100.
    double lambda = std::exp(-100.0 / 3600) / 3600;
    CHECK(eviction_cost(r, 100, p) == doctest::Approx(10 / (1 / lambda + 100)));
    r.priority = 9;
    CHECK(eviction_cost(r, 100, p) == doctest::Approx(40 / (1 / lambda + 100)));
    r.uses = {};
    CHECK(eviction_cost(r, 100, p) == 0); // never used: nothing at risk
}

TEST_CASE("victims: the cheapest set that frees enough, not the cheapest per byte") {
    Params p;
    // Same use history, so cost is proportional to reload seconds:
    // a 10 GB costs 10, b 6 GB costs 4, c 5 GB costs 4.
    std::vector<Resident> loaded{model("a", 10, 10), model("b", 6, 4), model("c", 5, 4)};
    // Need 11 GB: {a,b} = 14, {a,c} = 14, {b,c} = 8.
    Choice c = choose_victims(loaded, 11 * GB, 0, 60, p);
    REQUIRE(c.feasible);
    CHECK(names(c.victims) == std::vector<std::string>{"b", "c"});
    CHECK(c.freed == 11 * GB);
    // Need 5 GB: b or c alone, at equal cost; the one freeing more wins.
    c = choose_victims(loaded, 5 * GB, 0, 60, p);
    CHECK(names(c.victims) == std::vector<std::string>{"b"});
    // Need two slots and 1 byte: the two cheapest.
    c = choose_victims(loaded, 1, 2, 60, p);
    CHECK(names(c.victims) == std::vector<std::string>{"b", "c"});
    // Nothing needed: nothing evicted.
    c = choose_victims(loaded, 0, 0, 60, p);
    CHECK(c.feasible);
    CHECK(c.victims.empty());
}

TEST_CASE("victims: pins are never chosen") {
    Params p;
    std::vector<Resident> loaded{model("a", 10, 10), model("b", 6, 4), model("c", 5, 4)};
    loaded[1].pinned = true;
    Choice c = choose_victims(loaded, 11 * GB, 0, 60, p);
    REQUIRE(c.feasible);
    CHECK(names(c.victims) == std::vector<std::string>{"a", "c"});
    CHECK_FALSE(choose_victims(loaded, 16 * GB, 0, 60, p).feasible);
}

TEST_CASE("victims: recency and frequency count") {
    Params p;
    Resident busy = model("busy", 8, 5, 0);
    busy.uses = {10, 3500}; // ten recent uses
    busy.last_use = 3500;
    Resident stale = model("stale", 8, 5, 0); // one use an hour ago
    Choice c = choose_victims({busy, stale}, 1, 0, 3600, p);
    CHECK(names(c.victims) == std::vector<std::string>{"stale"});
    CHECK(c.victims[0].reason.find("idle 1h") != std::string::npos);
}

TEST_CASE("victims: the greedy pass beyond the exhaustive limit frees enough and trims") {
    Params p;
    p.exhaustive_limit = 2;
    std::vector<Resident> loaded{model("a", 10, 10), model("b", 6, 4), model("c", 5, 4)};
    // Per byte: b 0.67/GB, c 0.8/GB, a 1/GB: b, then c reach 11 GB.
    Choice c = choose_victims(loaded, 11 * GB, 0, 60, p);
    REQUIRE(c.feasible);
    CHECK(names(c.victims) == std::vector<std::string>{"b", "c"});
    // Need 3 GB: b alone is cheapest per byte and enough.
    c = choose_victims(loaded, 3 * GB, 0, 60, p);
    CHECK(names(c.victims) == std::vector<std::string>{"b"});
}

TEST_CASE("plan_load: fits, evicts, refuses") {
    Params p;
    std::vector<Resident> loaded{model("a", 10, 10), model("b", 6, 4)};
    Budget budget{20 * GB, 0};
    Plan plan = plan_load(loaded, {{"c", 3 * GB}}, budget, 60, p);
    CHECK(plan.feasible());
    CHECK(plan.evict.empty());
    CHECK(plan.load == std::vector<std::string>{"c"});
    CHECK(plan.used_after == 19 * GB);

    plan = plan_load(loaded, {{"c", 8 * GB}}, budget, 60, p);
    CHECK(plan.feasible());
    CHECK(names(plan.evict) == std::vector<std::string>{"b"});
    CHECK(plan.used_after == 18 * GB);

    // Loading a model already loaded changes nothing.
    plan = plan_load(loaded, {{"a", 10 * GB}}, budget, 60, p);
    CHECK(plan.load.empty());
    CHECK(plan.evict.empty());

    // Several at once: a stays because it is wanted, so b must go.
    plan = plan_load(loaded, {{"a", 10 * GB}, {"c", 8 * GB}}, budget, 60, p);
    CHECK(names(plan.evict) == std::vector<std::string>{"b"});

    plan = plan_load(loaded, {{"huge", 43 * GB}}, budget, 60, p);
    CHECK_FALSE(plan.feasible());
    CHECK(plan.refusal == "huge needs 43 GB, more than the whole budget of 20 GB");
    CHECK(plan.refused == Refusal::TooLarge);

    loaded[0].pinned = true;
    plan = plan_load(loaded, {{"c", 12 * GB}}, budget, 60, p);
    CHECK_FALSE(plan.feasible());
    CHECK(plan.refusal.find("pinned and requested models would hold 22 GB") == 0);
    CHECK(plan.refused == Refusal::Memory);

    // The count binds: the pinned a and c would be 2, more than max_loaded 1.
    plan = plan_load(loaded, {{"c", 1 * GB}}, Budget{100 * GB, 1}, 60, p);
    CHECK_FALSE(plan.feasible());
    CHECK(plan.refused == Refusal::Count);

    // max_loaded counts too.
    plan = plan_load(loaded, {{"c", 1 * GB}}, Budget{100 * GB, 2}, 60, p);
    CHECK(plan.feasible());
    CHECK(plan.refused == Refusal::None);
    CHECK(names(plan.evict) == std::vector<std::string>{"b"});
}

TEST_CASE("plan_gc: idle first, then over budget, pins kept") {
    Params p;
    std::vector<Resident> loaded{model("old", 10, 10, 0), model("pinned-old", 4, 3, 0),
                                 model("new", 6, 4, 3000), model("newer", 6, 4, 3500)};
    loaded[1].pinned = true;
    std::vector<double> timeouts{1800, 1800, 1800, 0};
    GcPlan plan = plan_gc(loaded, timeouts, Budget{100 * GB, 0}, 3600, p);
    CHECK(names(plan.idle) == std::vector<std::string>{"old"});
    CHECK(plan.idle[0].reason == "idle 1h, longer than its idle timeout of 30m");
    CHECK(plan.over_budget.empty());
    CHECK(plan.used_after == 16 * GB);

    // Budget 12 GB: after "old" goes, 16 GB remain; 4 GB more must go: one of
    // the two 6 GB models, the one with the lower cost (longer idle).
    plan = plan_gc(loaded, timeouts, Budget{12 * GB, 0}, 3600, p);
    CHECK(names(plan.over_budget) == std::vector<std::string>{"new"});
    CHECK(plan.over_budget[0].reason.rfind("over budget: ", 0) == 0);
    CHECK_FALSE(plan.still_over);

    // Pins alone over the budget: everything else goes, and it says so.
    plan = plan_gc(loaded, timeouts, Budget{3 * GB, 0}, 3600, p);
    CHECK(plan.still_over);
    CHECK(plan.used_after == 4 * GB);
}
