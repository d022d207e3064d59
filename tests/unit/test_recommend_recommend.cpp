#include "recommend/recommend.hpp"

#include <doctest/doctest.h>

#include <cmath>

using namespace core::recommend;

namespace {

Candidate model(std::string name, std::string params, uint64_t gb,
                std::vector<std::string> caps = {"completion"}) {
    Candidate c;
    c.name = std::move(name);
    c.details.parameter_size = std::move(params);
    c.details.quantization_level = "Q4_K_M";
    c.bytes = gb * 1'000'000'000ULL;
    c.capabilities = std::move(caps);
    return c;
}

std::vector<std::string> names(const Result& r) {
    std::vector<std::string> out;
    for (const auto& x : r.ranked)
        out.push_back(x.name);
    return out;
}

bool mentions(const Ranked& r, const std::string& text) {
    for (const auto& why : r.reasons)
        if (why.find(text) != std::string::npos)
            return true;
    return false;
}

} // namespace

TEST_CASE("parameter counts and bits per weight parse as published") {
    CHECK(parameter_count("8.0B") == doctest::Approx(8e9));
    CHECK(parameter_count("137M") == doctest::Approx(1.37e8));
    CHECK(parameter_count("70.6B") == doctest::Approx(70.6e9));
    CHECK(parameter_count("") == 0);
    CHECK(parameter_count("B") == 0);
    CHECK(parameter_count("eight B") == 0);
    CHECK(bits_per_weight("Q4_K_M") == doctest::Approx(4.85));
    CHECK(bits_per_weight("f16") == 16);
    CHECK(bits_per_weight("Q9_X") == 0);
}

TEST_CASE("tasks and capabilities") {
    CHECK(parse_task("vision") == Task::Vision);
    CHECK_FALSE(parse_task("painting"));
    CHECK(task_name(Task::Coding) == "coding");
    CHECK(parse_prefer("speed") == Prefer::Speed);
    CHECK_FALSE(parse_prefer("fast"));
    CHECK(capable({"completion", "vision"}, Task::Vision));
    CHECK_FALSE(capable({"completion", "tools"}, Task::Vision));
    CHECK(capable({"embedding"}, Task::Embedding));
    CHECK_FALSE(capable({"embedding"}, Task::Chat));
    CHECK(capable({}, Task::Chat)); // an older server: assume it generates
    CHECK_FALSE(capable({}, Task::Vision));
}

TEST_CASE("a task that needs a capability ranks only the models that have it") {
    std::vector<Candidate> c = {model("big", "70B", 40),
                                model("eyes-small", "4B", 3, {"completion", "vision"}),
                                model("eyes", "12B", 8, {"completion", "vision"}),
                                model("embed", "137M", 1, {"embedding"})};
    Request req;
    req.task = Task::Vision;
    req.count = 5;
    auto r = rank(c, req);
    REQUIRE(r.ranked.size() == 2);
    CHECK(r.excluded.size() == 2);
    for (const auto& x : r.ranked)
        CHECK(mentions(x, "vision capable"));
    CHECK_FALSE(r.history);
}

TEST_CASE("--max-memory and the budget leave out what does not fit, saying why") {
    std::vector<Candidate> c = {model("a", "1B", 1), model("b", "8B", 5), model("c", "70B", 43)};
    Request req;
    req.max_memory = 4'000'000'000ULL;
    req.budget = 24'000'000'000ULL;
    auto r = rank(c, req);
    CHECK(names(r) == std::vector<std::string>{"a"});
    REQUIRE(r.excluded.size() == 2);
    CHECK(r.excluded[0].reason.find("--max-memory") != std::string::npos);
    req.max_memory = 0;
    r = rank(c, req);
    CHECK(names(r) == std::vector<std::string>{"b", "a"});
    CHECK(r.excluded[0].reason.find("budget") != std::string::npos);
}

TEST_CASE("with no history, quality follows parameters and speed follows size") {
    std::vector<Candidate> c = {model("small", "1B", 1), model("mid", "8B", 5),
                                model("large", "32B", 20)};
    Request req;
    req.prefer = Prefer::Quality;
    CHECK(names(rank(c, req)) == std::vector<std::string>{"large", "mid", "small"});
    req.prefer = Prefer::Speed;
    CHECK(names(rank(c, req)) == std::vector<std::string>{"small", "mid", "large"});
    auto r = rank(c, req);
    // Hand-computed: speed = bandwidth / bytes = 100e9 / 1e9 = 100 tok/s,
    // scored 100 / (100 + 30).
    CHECK(r.ranked[0].tokens_per_second == doctest::Approx(100));
    CHECK(r.ranked[0].speed == doctest::Approx(100.0 / 130));
    CHECK_FALSE(r.ranked[0].measured);
    CHECK(mentions(r.ranked[0], "estimated from its size (not measured yet)"));
    // Normalized quality: log2 params between the smallest (0) and largest (1).
    CHECK(r.ranked[0].quality == doctest::Approx(0));
    CHECK(r.ranked[2].quality == doctest::Approx(1));
    double mid = (std::log2(8e9) - std::log2(1e9)) / (std::log2(32e9) - std::log2(1e9));
    CHECK(r.ranked[1].quality == doctest::Approx(mid));
}

TEST_CASE("measured speed replaces the estimate and calibrates the others") {
    auto a = model("a", "8B", 5);
    a.uses = 10;
    a.tokens_per_second = 40; // 40 tok/s x 5 GB = 200 GB/s effective
    a.latency_p50_ms = 900;
    auto b = model("b", "8B", 10);
    Request req;
    auto r = rank({a, b}, req);
    CHECK(r.history);
    const Ranked* ra = r.ranked[0].name == "a" ? &r.ranked[0] : &r.ranked[1];
    const Ranked* rb = r.ranked[0].name == "b" ? &r.ranked[0] : &r.ranked[1];
    CHECK(ra->measured);
    CHECK(ra->tokens_per_second == doctest::Approx(40));
    CHECK(mentions(*ra, "40.0 tok/s measured over 10 uses, p50 latency 900 ms"));
    CHECK(rb->tokens_per_second == doctest::Approx(20)); // 200e9 / 10e9
    CHECK(mentions(*rb, "calibrated on 1 measured models"));
}

TEST_CASE("a bench result counts as measured and says so") {
    auto a = model("a", "8B", 5);
    a.tokens_per_second = 55;
    a.bench_runs = 5;
    auto r = rank({a}, Request{});
    CHECK(r.ranked[0].measured);
    CHECK(r.ranked[0].tokens_per_second == doctest::Approx(55));
    CHECK(mentions(r.ranked[0], "55.0 tok/s measured by bench (median of 5 runs)"));
}

TEST_CASE("failures lower the score by Laplace's rule") {
    auto good = model("good", "8B", 5);
    good.uses = 9;
    auto bad = model("bad", "8B", 5);
    bad.uses = 9;
    bad.failures = 3;
    auto r = rank({good, bad}, Request{});
    REQUIRE(r.ranked.size() == 2);
    CHECK(r.ranked[0].name == "good");
    // Same figures otherwise: the ratio is (9-3+1)/(9+1) = 0.7.
    CHECK(r.ranked[1].score / r.ranked[0].score == doctest::Approx(0.7));
    CHECK(mentions(r.ranked[1], "67% success (3 of 9 uses failed)"));
}

TEST_CASE("readiness: a loaded model needs no cold start") {
    auto a = model("a", "8B", 5);
    auto b = model("b", "8B", 5);
    b.readiness = Readiness::Loaded;
    auto c = model("c", "8B", 5);
    c.readiness = Readiness::Evicts;
    c.victims = {"x"};
    auto r = rank({a, b, c}, Request{});
    CHECK(names(r) == std::vector<std::string>{"b", "a", "c"});
    CHECK(mentions(r.ranked[0], "loaded now: no cold start"));
    CHECK(mentions(r.ranked[2], "loading would evict x"));
}

TEST_CASE("coding favours code models; reasoning favours thinking models") {
    std::vector<Candidate> c = {model("llama3.1:8b", "8.0B", 5),
                                model("qwen2.5-coder:7b", "7.6B", 5),
                                model("deepseek-r1:8b", "8.0B", 5, {"completion", "thinking"})};
    Request req;
    req.task = Task::Coding;
    auto r = rank(c, req);
    CHECK(r.ranked[0].name == "qwen2.5-coder:7b");
    CHECK(mentions(r.ranked[0], "trained for code"));
    req.task = Task::Reasoning;
    r = rank(c, req);
    CHECK(r.ranked[0].name == "deepseek-r1:8b");
}

TEST_CASE("-n caps the list; ties go to the first name") {
    std::vector<Candidate> c = {model("b", "8B", 5), model("a", "8B", 5), model("c", "8B", 5)};
    Request req;
    req.count = 2;
    CHECK(names(rank(c, req)) == std::vector<std::string>{"a", "b"});
}
