#include "policy/chain.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace core::policy;

namespace {

constexpr uint64_t GB = 1000000000ULL;

// Steps as a string of model letters: "ABA"; models A, B, C... with the sizes
// and load seconds given.
ChainInput chain(const std::string& steps, std::vector<ChainModel> models, uint64_t capacity) {
    ChainInput in;
    in.models = std::move(models);
    in.capacity = capacity;
    for (char c : steps)
        in.steps.push_back(static_cast<size_t>(c - 'A'));
    return in;
}

std::string loads(const ChainPlan& p) {
    std::string out;
    for (const auto& s : p.steps)
        out += s.load ? "L" : "-";
    return out;
}

} // namespace

TEST_CASE("chain: A B A with room for both keeps A through B") {
    auto p = plan_chain(chain("ABA", {{"A", 10 * GB, 20}, {"B", 5 * GB, 4}}, 16 * GB));
    REQUIRE(p.feasible);
    CHECK(loads(p) == "LL-");
    CHECK(p.steps[1].resident == std::vector<size_t>{0});
    CHECK(p.steps[1].bytes == 15 * GB);
    CHECK(p.steps[0].unload_after.empty());
    CHECK(p.steps[1].unload_after == std::vector<size_t>{1}); // B: its last use
    CHECK(p.steps[2].unload_after == std::vector<size_t>{0});
    CHECK(p.steps[2].reason.find("kept loaded since step 1") != std::string::npos);
    CHECK(p.plan.seconds == doctest::Approx(24));
    CHECK(p.plan.loads == 2);
    CHECK(p.unload_every_step.seconds == doctest::Approx(44));
    CHECK(p.keep_if_next_same.seconds == doctest::Approx(44));
}

TEST_CASE("chain: A B A without room reloads A, saying why") {
    auto p = plan_chain(chain("ABA", {{"A", 10 * GB, 20}, {"B", 8 * GB, 4}}, 16 * GB));
    REQUIRE(p.feasible);
    CHECK(loads(p) == "LLL");
    CHECK(p.steps[1].resident.empty());
    CHECK(p.steps[0].unload_after == std::vector<size_t>{0});
    CHECK(p.steps[0].reason.find("does not fit") != std::string::npos);
    CHECK(p.steps[2].reason.find("loads A again") != std::string::npos);
    CHECK(p.plan.seconds == doctest::Approx(44));
}

TEST_CASE("chain: models that all fit are each loaded once") {
    auto p = plan_chain(
        chain("ABCABCAB", {{"A", 4 * GB, 5}, {"B", 4 * GB, 6}, {"C", 4 * GB, 7}}, 16 * GB));
    CHECK(loads(p) == "LLL-----");
    CHECK(p.plan.seconds == doctest::Approx(18));
    CHECK(p.keep_if_next_same.seconds == doctest::Approx(5 * 3 + 6 * 3 + 7 * 2));
}

TEST_CASE("chain: room for one of two keeps the one whose reload costs more") {
    // A B C A B C with room for the step's model and one kept beside it.
    auto p = plan_chain(
        chain("ABCAB", {{"A", 6 * GB, 30}, {"B", 6 * GB, 5}, {"C", 6 * GB, 5}}, 12 * GB));
    CHECK(loads(p) == "LLL-L");
    CHECK(p.steps[1].resident == std::vector<size_t>{0});
    CHECK(p.steps[2].resident == std::vector<size_t>{0});
}

TEST_CASE("chain: the exact choice beats keeping the largest saving first") {
    // Keeping A (10 s) through steps 2-3 blocks both B (6 s) and C (6 s).
    auto p = plan_chain(
        chain("ABCBCA", {{"A", 8 * GB, 10}, {"B", 4 * GB, 6}, {"C", 4 * GB, 6}}, 12 * GB));
    CHECK(p.plan.seconds == doctest::Approx(10 + 6 + 6 + 10));
    CHECK(loads(p) == "LLL--L");
}

TEST_CASE("chain: the same model at the next step is always kept, never worse than naive") {
    auto p = plan_chain(chain("AAB", {{"A", 10 * GB, 20}, {"B", 10 * GB, 4}}, 10 * GB));
    CHECK(loads(p) == "L-L");
    CHECK(p.plan.seconds == doctest::Approx(24));
    CHECK(p.keep_if_next_same.seconds == doctest::Approx(24));
    CHECK(p.unload_every_step.seconds == doctest::Approx(44));
}

TEST_CASE("chain: a model loaded before the chain") {
    SUBCASE("used first: not loaded again") {
        auto p = plan_chain(chain("AB", {{"A", 4 * GB, 9, true}, {"B", 4 * GB, 3}}, 16 * GB));
        CHECK(loads(p) == "-L");
        CHECK(p.steps[0].reason.find("is loaded already") != std::string::npos);
        CHECK(p.unload_every_step.seconds == doctest::Approx(3));
    }
    SUBCASE("used later, with room: kept for its first use") {
        auto p = plan_chain(chain("BA", {{"A", 4 * GB, 9, true}, {"B", 4 * GB, 3}}, 16 * GB));
        CHECK(loads(p) == "L-");
        CHECK(p.unload_first.empty());
    }
    SUBCASE("used later, without room: it makes room first") {
        auto p = plan_chain(chain("BA", {{"A", 8 * GB, 9, true}, {"B", 8 * GB, 3}}, 12 * GB));
        CHECK(loads(p) == "LL");
        CHECK(p.unload_first == std::vector<size_t>{0});
    }
}

TEST_CASE("chain: a pinned model outside the chain shrinks the capacity") {
    // 24 GB budget, a pinned 8 GB model: the chain has 16 GB.
    auto roomy = plan_chain(chain("ABA", {{"A", 10 * GB, 20}, {"B", 5 * GB, 4}}, 24 * GB));
    auto pinned =
        plan_chain(chain("ABA", {{"A", 10 * GB, 20}, {"B", 7 * GB, 4}}, 24 * GB - 8 * GB));
    CHECK(loads(roomy) == "LL-");
    CHECK(loads(pinned) == "LLL");
}

TEST_CASE("chain: a step whose model alone exceeds the capacity is refused") {
    auto p =
        plan_chain(chain("ABC", {{"A", 4 * GB, 1}, {"B", 20 * GB, 1}, {"C", 1 * GB, 1}}, 16 * GB));
    CHECK_FALSE(p.feasible);
    CHECK(p.too_large == 1);
}

TEST_CASE("chain: long chains fall back to the greedy choice and stay within capacity") {
    std::string steps;
    for (int i = 0; i < 30; ++i)
        steps += "ABCD"[i % 4];
    auto p = plan_chain(chain(
        steps, {{"A", 6 * GB, 20}, {"B", 6 * GB, 5}, {"C", 6 * GB, 5}, {"D", 6 * GB, 5}}, 12 * GB));
    REQUIRE(p.feasible);
    for (const auto& s : p.steps)
        CHECK(s.bytes <= 12 * GB);
    CHECK(p.plan.seconds <= p.keep_if_next_same.seconds);
    CHECK(p.plan.seconds < p.unload_every_step.seconds);
    // A, the costly one, is kept throughout: loaded once.
    size_t a_loads = 0;
    for (const auto& s : p.steps)
        a_loads += s.load && s.model == 0;
    CHECK(a_loads == 1);
}
