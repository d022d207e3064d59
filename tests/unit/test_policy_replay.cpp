// Trace replay on small traces checked by hand.
#include "error.hpp"
#include "policy/replay.hpp"

#include <doctest/doctest.h>

#include <sstream>

using namespace core::policy;

namespace {

constexpr uint64_t GB = 1000000000ULL;

Trace make(const std::string& catalog, const std::string& requests) {
    Trace t;
    std::istringstream c(catalog), r(requests);
    t.catalog = parse_catalog_csv(c, "catalog.csv");
    t.requests = parse_trace_csv(r, "trace.csv", t.catalog);
    return t;
}

const char* kThree = "model,size_bytes,load_s\na,10GB,5\nb,10GB,5\nc,10GB,5\n";
// a b a c b a, 20 GB: room for two.
const char* kSix = "time,model\n0,a\n1,b\n2,a\n3,c\n4,b\n5,a\n";

ReplayResult run(const Trace& t, Rule rule, uint64_t memory) {
    ReplayOptions o;
    o.memory = memory;
    return replay(t, rule, o);
}

} // namespace

TEST_CASE("lru: evicts the least recently used") {
    // c evicts b (used at 1), b evicts a (2), a evicts c (3): 5 cold loads.
    auto r = run(make(kThree, kSix), Rule::Lru, 20 * GB);
    CHECK(r.requests == 6);
    CHECK(r.cold_loads == 5);
    CHECK(r.load_seconds == doctest::Approx(25));
    CHECK(r.hit_rate() == doctest::Approx(1.0 / 6));
    CHECK(r.peak_bytes == 20 * GB);
}

TEST_CASE("belady: evicts the farthest next use") {
    // c evicts a (next at 5, b next at 4); a at 5 evicts b or c (neither used
    // again): 4 cold loads.
    auto r = run(make(kThree, kSix), Rule::Belady, 20 * GB);
    CHECK(r.cold_loads == 4);
    CHECK(r.load_seconds == doctest::Approx(20));
}

TEST_CASE("modelctl: keeps the model used twice") {
    // At c, a (two uses) costs more to lose than b (one): b goes; at b, c
    // (one use) goes rather than a; a at 5 is a hit. 4 cold loads.
    auto r = run(make(kThree, kSix), Rule::Modelctl, 20 * GB);
    CHECK(r.cold_loads == 4);
    CHECK(r.load_seconds == doctest::Approx(20));
}

TEST_CASE("ollama: evicts by name, expires after 5 minutes, at most 3 loaded") {
    // c evicts a (first by name); a at 5 evicts b: 4 cold loads.
    auto r = run(make(kThree, kSix), Rule::Ollama, 20 * GB);
    CHECK(r.cold_loads == 4);

    // keep_alive: used at 0 and 301 -> expired in between.
    auto t = make(kThree, "time,model\n0,a\n300,a\n601,a\n");
    CHECK(run(t, Rule::Ollama, 100 * GB).cold_loads == 2);
    CHECK(run(t, Rule::Lru, 100 * GB).cold_loads == 1);

    // Three loaded at most, whatever the memory.
    t = make("model,size_bytes\na,1GB\nb,1GB\nc,1GB\nd,1GB\n",
             "time,model\n0,a\n1,b\n2,c\n3,d\n4,a\n");
    CHECK(run(t, Rule::Ollama, 100 * GB).cold_loads == 5);
    CHECK(run(t, Rule::Lru, 100 * GB).cold_loads == 4);
}

TEST_CASE("pins stay through replay") {
    auto t = make(kThree, kSix);
    t.catalog[0].pinned = true; // a
    // a never leaves: c evicts b, b evicts c: 4 cold loads, a always hot.
    auto r = run(t, Rule::Modelctl, 20 * GB);
    CHECK(r.cold_loads == 4);
}

TEST_CASE("a model that cannot fit is refused, as live planning refuses it, under every rule") {
    auto t = make("model,size_bytes,load_s\nbig,43GB,22.5\nsmall,2GB,2\n",
                  "time,model\n0,small\n1,big\n2,small\n");
    for (Rule rule : {Rule::Modelctl, Rule::Lru, Rule::Ollama, Rule::Belady}) {
        CAPTURE(rule_name(rule));
        auto r = run(t, rule, 24 * GB);
        CHECK(r.oversize_requests == 1);
        CHECK(r.refused == 1);
        CHECK(r.cold_loads == 1); // small stayed loaded: the refusal evicted nothing
        CHECK(r.peak_bytes == 2 * GB);
        CHECK(r.hit_rate() == doctest::Approx(1.0 / 3));
    }

    // Pins leave no room: modelctl's rule refuses, as `modelctl load` does
    // (policy::plan_load), where it once evicted everything unpinned and
    // loaded the model beside the pins.
    t = make("model,size_bytes\npinned,20GB\nx,2GB\ny,8GB\n",
             "time,model\n0,pinned\n1,x\n2,y\n3,x\n");
    t.catalog[0].pinned = true;
    auto r = run(t, Rule::Modelctl, 24 * GB);
    CHECK(r.refused == 1);    // y: 20 + 8 > 24 with the pin
    CHECK(r.cold_loads == 2); // pinned, x
    CHECK(r.peak_bytes == 22 * GB);
    CHECK(r.hit_rate() == doctest::Approx(0.25)); // the second x
    std::vector<Resident> loaded = {{"pinned", 20 * GB, 1, true, 5, {}, 0},
                                    {"x", 2 * GB, 1, false, 5, {}, 1}};
    CHECK_FALSE(plan_load(loaded, {{"y", 8 * GB}}, Budget{24 * GB, 0}, 2, Params{}).feasible());
}

TEST_CASE("catalog and trace parsing") {
    std::istringstream c("model,size_bytes\nx,2000000000\n");
    auto cat = parse_catalog_csv(c, "c.csv");
    CHECK(cat[0].load_seconds == doctest::Approx(2)); // 1 s + 2 GB at 2 GB/s

    std::istringstream bad_size("model,size_bytes,load_s\nx,lots,1\n");
    CHECK_THROWS_WITH(parse_catalog_csv(bad_size, "c.csv"), "c.csv:2: bad size 'lots'");
    std::istringstream no_col("name,size\n");
    CHECK_THROWS_WITH_AS(parse_catalog_csv(no_col, "c.csv"),
                         "c.csv:1: header has no 'model' column (got: name,size)", core::Error);

    std::istringstream unknown("time,model\n0,x\n1.5,y\n");
    CHECK_THROWS_WITH(parse_trace_csv(unknown, "t.csv", cat),
                      "t.csv:3: model 'y' is not in the catalog");
    std::istringstream bad_time("time,model\nsoon,x\n");
    CHECK_THROWS_WITH(parse_trace_csv(bad_time, "t.csv", cat), "t.csv:2: bad time 'soon'");

    std::istringstream unsorted("time,model\r\n5,x\r\n1,x\r\n");
    auto reqs = parse_trace_csv(unsorted, "t.csv", cat);
    REQUIRE(reqs.size() == 2);
    CHECK(reqs[0].time == 1);

    auto slow = thin({{0, 0}, {1, 0}, {2, 0}, {3, 0}}, 2, 20);
    REQUIRE(slow.size() == 2);
    CHECK(slow[1].time == 40);
}
