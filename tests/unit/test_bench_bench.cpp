// Bench summaries, comparisons and the measuring loop against hand-computed values.
#include "bench/bench.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <thread>

using namespace core::bench;
namespace provider = core::provider;

TEST_CASE("spread gives min, median and max") {
    auto s = spread({5, 1, 3});
    CHECK(s.min == 1);
    CHECK(s.median == 3);
    CHECK(s.max == 5);
    s = spread({4, 1, 3, 2}); // even count: mean of the middle two
    CHECK(s.median == 2.5);
    s = spread({});
    CHECK(s.min == 0);
    CHECK(s.median == 0);
    CHECK(s.max == 0);
}

TEST_CASE("the prompt hash is FNV-1a 64 and run prompts differ from the start") {
    CHECK(hash_text("") == "cbf29ce484222325");
    CHECK(hash_text("a") == "af63dc4c8601ec8c");
    CHECK(run_prompt("Hi", 0) == "Warm-up. Hi");
    CHECK(run_prompt("Hi", 3) == "Run 3. Hi");
}

TEST_CASE("summarize takes each figure's spread") {
    std::vector<Sample> samples = {
        {100, 900, 10, 50, 400, 40}, {120, 1000, 10, 60, 500, 50}, {80, 1100, 10, 70, 300, 45}};
    Result r;
    summarize(samples, r);
    CHECK(r.ttft_ms.min == 80);
    CHECK(r.ttft_ms.median == 100);
    CHECK(r.ttft_ms.max == 120);
    CHECK(r.total_ms.median == 1000);
    CHECK(r.prompt_tokens_per_second.median == 400);
    CHECK(r.tokens_per_second.min == 40);
    CHECK(r.tokens_per_second.median == 45);
    CHECK(r.tokens_per_second.max == 50);
    CHECK(r.tokens == 60);
}

TEST_CASE("compare reports each median's change in its own direction") {
    Result before, after;
    before.tokens_per_second = {98, 100, 102};
    after.tokens_per_second = {84, 85, 86}; // 15% slower, every run
    before.ttft_ms = {190, 200, 210};
    after.ttft_ms = {205, 210, 215}; // 5% slower
    before.total_ms = {1000, 1000, 1000};
    after.total_ms = {800, 800, 800};            // 20% faster
    before.prompt_tokens_per_second = {0, 0, 0}; // not reported: left out
    after.prompt_tokens_per_second = {300, 300, 300};
    after.load_seconds = 2.0; // only one side measured a load: left out
    auto changes = compare(before, after, 0.10);
    REQUIRE(changes.size() == 3);
    CHECK(changes[0].figure == "tokens_per_second");
    CHECK(changes[0].worse == doctest::Approx(0.15));
    CHECK(changes[0].regressed);
    CHECK(
        changes[0].why ==
        "15.0% worse, past the limit of 10.0%; every run slower than the slowest before (86 < 98)");
    CHECK(changes[1].figure == "ttft_ms");
    CHECK(changes[1].worse == doctest::Approx(0.05));
    CHECK_FALSE(changes[1].regressed);
    CHECK(changes[2].figure == "total_ms");
    CHECK(changes[2].worse == doctest::Approx(-0.20));
    CHECK_FALSE(changes[2].gated); // grows with the answer's length
    CHECK_FALSE(changes[2].regressed);
    // Twice as long in total is no regression: total time is not gated.
    after.total_ms = {2000, 2000, 2000};
    CHECK_FALSE(compare(before, after, 0.10)[2].regressed);
    before.load_seconds = 1.0;
    changes = compare(before, after, 0.5);
    CHECK(changes.back().figure == "load_seconds");
    CHECK(changes.back().worse == doctest::Approx(1.0));
    CHECK(changes.back().regressed);
    // Exactly at the threshold is not a regression.
    after.tokens_per_second = {90, 90, 90};
    CHECK_FALSE(compare(before, after, 0.10)[0].regressed);
    // Worse in the median, but one new run as fast as an earlier one: the
    // runs overlap, and noise cannot be ruled out.
    after.tokens_per_second = {60, 70, 98};
    CHECK_FALSE(compare(before, after, 0.10)[0].regressed);
    after.tokens_per_second = {60, 70, 97.9};
    CHECK(compare(before, after, 0.10)[0].regressed);
    // Time per token, where both results measured it.
    before.ms_per_token = {10, 10, 10};
    after.ms_per_token = {13, 13, 13};
    auto c = compare(before, after, 0.10);
    auto it = std::find_if(c.begin(), c.end(),
                           [](const Change& x) { return x.figure == "ms_per_token"; });
    REQUIRE(it != c.end());
    CHECK(it->regressed);
}

TEST_CASE("previous finds the newest comparable result") {
    Settings s{"aaaa", 10, 128, 0, 5, false};
    std::vector<Result> history(4);
    history[0].settings = s;
    history[0].digest = "d1";
    history[1].settings = s;
    history[1].settings.runs = 3; // runs and cold do not matter
    history[1].settings.cold = true;
    history[1].digest = "d2";
    history[2].settings = s;
    history[2].settings.num_predict = 64; // a different limit does
    history[3].settings = s;
    history[3].settings.prompt_hash = "bbbb"; // and so does the prompt
    CHECK(previous(history, s) == &history[1]);
    CHECK(previous(history, s, "d1") == &history[0]);
    CHECK(previous(history, s, "d9") == nullptr);
    Settings ctx = s;
    ctx.num_ctx = 8192;
    CHECK(previous(history, ctx) == nullptr);
    history[1].regressed = true; // failed a gate: never the baseline
    CHECK(previous(history, s) == &history[0]);
}

namespace {

// Answers every generation with `tokens` pieces of text and fixed durations.
class FakeServer : public provider::Provider {
public:
    std::vector<provider::GenerateRequest> requests;
    std::string kind() const override { return "fake"; }
    std::string address() const override { return "fake"; }
    std::string version() override { return "0"; }
    std::vector<provider::InstalledModel> installed() override { return {}; }
    std::vector<provider::LoadedModel> loaded() override { return {}; }
    provider::ModelInfo show(const std::string&) override { return {}; }
    void load(const std::string&, const provider::LoadSettings&) override {}
    void unload(const std::string&) override {}
    provider::EmbedResult embed(const std::string&, const std::vector<std::string>&,
                                const provider::LoadSettings&) override {
        return {};
    }
    provider::GenerateMetrics
    generate(const provider::GenerateRequest& r,
             const std::function<void(std::string_view)>& on_text) override {
        requests.push_back(r);
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
        on_text("");      // an empty piece is not the first token
        on_text("Hello"); // this is
        provider::GenerateMetrics m;
        int n = static_cast<int>(requests.size());
        m.prompt_eval_count = 20;
        m.prompt_eval_duration = 100'000'000; // 0.1 s: 200 tok/s
        m.eval_count = 10 * n;
        m.eval_duration = 500'000'000; // 0.5 s
        return m;
    }
};

} // namespace

TEST_CASE("measure warms up once, then times each run with the server's durations") {
    FakeServer server;
    Settings s{hash_text("p"), 1, 32, 2048, 3, false};
    std::vector<Progress> progress;
    auto samples = measure(server, "m", "p", s, std::nullopt,
                           [&](const Progress& p) { progress.push_back(p); });
    REQUIRE(server.requests.size() == 4);
    CHECK(server.requests[0].prompt == "Warm-up. p");
    CHECK(server.requests[3].prompt == "Run 3. p");
    CHECK(server.requests[1].num_predict == 32);
    CHECK(server.requests[1].num_ctx == 2048);
    CHECK(server.requests[1].stream);
    REQUIRE(progress.size() == 4);
    CHECK(progress[0].run == 0);
    CHECK(progress[3].run == 3);
    CHECK(progress[3].runs == 3);
    REQUIRE(samples.size() == 3); // the warm-up is not a sample
    // Generation n of the fake (1-based, warm-up first) yields 10n tokens in 0.5 s.
    CHECK(samples[0].tokens == 20);
    CHECK(samples[0].tokens_per_second == doctest::Approx(40));
    CHECK(samples[2].tokens_per_second == doctest::Approx(80));
    CHECK(samples[0].prompt_tokens_per_second == doctest::Approx(200));
    for (const auto& x : samples) {
        CHECK(x.ttft_ms >= 5);
        CHECK(x.total_ms >= x.ttft_ms);
    }
}
