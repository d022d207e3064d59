#include "error.hpp"
#include "fake_provider.hpp"
#include "operations/chain.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace core;
using namespace core::operations;

TEST_CASE("chain files: a list of steps, or a named object") {
    auto c = parse_chain(R"([{"model": "a", "prompt": "x {input}"},
                             {"model": "b", "prompt": "y {step.1}", "num_ctx": 8192,
                              "keep_alive": "10m", "options": {"temperature": 0}, "task": "t",
                              "timeout": "90s"}])",
                         "file");
    CHECK(c.name == "file");
    REQUIRE(c.steps.size() == 2);
    CHECK(c.steps[1].num_ctx == 8192);
    CHECK(c.steps[1].keep_alive->value == std::chrono::minutes(10));
    CHECK(c.steps[1].options["temperature"] == 0);
    CHECK(c.steps[1].task == "t");
    CHECK(c.steps[1].timeout->count() == doctest::Approx(90));
    c = parse_chain(R"({"name": "triage", "steps": [{"model": "a", "prompt": "p"}]})", "file");
    CHECK(c.name == "triage");
    CHECK(
        parse_chain(R"([{"model": "a", "prompt": "p", "num_ctx": "max"}])", "f").steps[0].num_ctx ==
        kNumCtxMax);
    CHECK(parse_chain(R"([{"model": "a", "prompt": "p", "keep_alive": -1}])", "f")
              .steps[0]
              .keep_alive->forever);
}

TEST_CASE("chain files: what is refused, naming the step") {
    auto refused = [](const char* text, const std::string& says) {
        CAPTURE(text);
        try {
            parse_chain(text, "f");
            FAIL("accepted");
        } catch (const Error& e) {
            CHECK(e.kind() == ErrorKind::Usage);
            CHECK(std::string(e.what()).find(says) != std::string::npos);
        }
    };
    refused("[]", "no steps");
    refused("{}", "no \"steps\"");
    refused(R"({"steps": [], "extra": 1})", "unknown field \"extra\"");
    refused(R"([{"prompt": "p"}])", "chain step 1: no \"model\"");
    refused(R"([{"model": "a"}])", "no \"prompt\"");
    refused(R"([{"model": "a", "prompt": "p"}, {"model": "a", "prompt": "p", "x": 1}])",
            "chain step 2: unknown field \"x\"");
    refused(R"([{"model": "a", "prompt": "{step.1}"}])", "{step.1} is not an earlier step");
    refused(R"([{"model": "a", "prompt": "p"}, {"model": "a", "prompt": "{step.0}"}])",
            "{step.0} is not an earlier step");
    refused(R"([{"model": "a", "prompt": "p", "num_ctx": 0}])", "\"num_ctx\"");
    refused(R"([{"model": "a", "prompt": "p", "num_ctx": "most"}])", "\"num_ctx\"");
    refused(R"([{"model": "a", "prompt": "p", "keep_alive": "soon"}])", "\"keep_alive\"");
    refused(R"([{"model": "a", "prompt": "p", "options": 3}])", "\"options\"");
    refused(R"([{"model": "a", "prompt": "p", "timeout": "soon"}])", "\"timeout\"");
    refused(R"([{"model": "a", "prompt": "p", "timeout": 30}])", "\"timeout\"");
    refused("[{\"model\": \"a\", \"prompt\": \"p\"},\n]", "line 2, column 1");
    refused(std::string(kMaxChainFileBytes + 1, ' ').c_str(), "larger than 1 MiB");
}

TEST_CASE("chain prompts: {input} and {step.N} filled, other braces kept") {
    std::vector<std::string> answers = {"one", "two"};
    CHECK(render_prompt("a {input} b {step.1} c {step.2}", "in", answers) == "a in b one c two");
    CHECK(render_prompt("{json: 1} {step.9} {step.x} {input", "in", answers) ==
          "{json: 1} {step.9} {step.x} {input");
    CHECK(render_prompt("{input}{input}", "", answers).empty());
}

TEST_CASE("chain planning: num_ctx max fits beside the model the plan keeps through the step") {
    FakeSetup t;
    t.server.install("small:latest", 2);
    t.server.install("big:latest", 4);
    // big: llama3.1:8b's shape, 128 KiB of KV cache a token, 131072 at most.
    t.server.model_info["big:latest"] = {
        {"general.architecture", "llama"},  {"llama.block_count", 32},
        {"llama.attention.head_count", 32}, {"llama.attention.head_count_kv", 8},
        {"llama.embedding_length", 4096},   {"llama.context_length", 131072}};
    auto budget = [](const std::vector<provider::LoadedModel>&) {
        resources::BudgetReport r;
        r.budget = {16000000000ULL, 0};
        return r;
    };
    auto chain = parse_chain(R"([{"model": "small", "prompt": "a"},
                                 {"model": "big", "prompt": "b", "num_ctx": "max"},
                                 {"model": "small", "prompt": "c"}])",
                             "t");
    auto p = plan_chain(t.server, t.reg, config::Config{}, budget, chain);
    REQUIRE(p.plan.feasible);
    // small (2 GB) is kept through step 2, so big has 14 GB: its 4 GB file
    // and 75776 tokens of KV cache (76800 would take 14.07 GB).
    CHECK(p.plan.steps[1].resident == std::vector<size_t>{0});
    CHECK(p.num_ctx[1] == 75776);
    CHECK(p.num_ctx_why[1].find("beside what the chain keeps") != std::string::npos);
    CHECK(p.plan.steps[1].bytes <= p.input.capacity);
    CHECK(p.plan.plan.loads == 2);
    CHECK(t.server.calls.empty()); // planning loads nothing
}
