#include "error.hpp"
#include "serve/router.hpp"

#include <doctest/doctest.h>

#include <thread>

using namespace core::serve;
using namespace std::chrono_literals;

namespace {

Candidate server(std::string name, std::string kind, std::optional<std::set<std::string>> models,
                 bool optional = false) {
    return {std::move(name), std::move(kind), optional, std::move(models)};
}

} // namespace

TEST_CASE("router: a path's API") {
    CHECK(dialect_of("/api/generate") == Dialect::Ollama);
    CHECK(dialect_of("/api/tags") == Dialect::Ollama);
    CHECK(dialect_of("/") == Dialect::Ollama);
    CHECK(dialect_of("/v1/chat/completions") == Dialect::OpenAI);
    CHECK(dialect_of("/api/v1/chat") == Dialect::LmStudio);
    CHECK(dialect_of("/api/v0/models") == Dialect::LmStudio);
    CHECK(speaks("ollama", Dialect::OpenAI));
    CHECK(speaks("lmstudio", Dialect::OpenAI));
    CHECK_FALSE(speaks("lmstudio", Dialect::Ollama));
    CHECK_FALSE(speaks("ollama", Dialect::LmStudio));
}

TEST_CASE("router: a model goes where it is installed, in the configured order") {
    std::vector<Candidate> s = {
        server("home", "ollama", std::set<std::string>{"llama3.2:latest", "gemma3:4b"}),
        server("lms", "lmstudio", std::set<std::string>{"qwen2.5-7b", "gemma3:4b"})};
    auto c = choose(s, Dialect::OpenAI, "qwen2.5-7b", std::nullopt);
    CHECK(c.index == 1u);
    CHECK(c.found);
    // Ollama's naming rule: "llama3.2" is "llama3.2:latest".
    CHECK(choose(s, Dialect::OpenAI, "llama3.2", std::nullopt).index == 0u);
    // On both: the first wins; the config's endpoint overrides.
    CHECK(choose(s, Dialect::OpenAI, "gemma3:4b", std::nullopt).index == 0u);
    CHECK(choose(s, Dialect::OpenAI, "gemma3:4b", std::string("lms")).index == 1u);
    // Ollama's API reaches only Ollama: an LM Studio model there goes to the
    // first Ollama server, which answers that it lacks it.
    c = choose(s, Dialect::Ollama, "qwen2.5-7b", std::nullopt);
    CHECK(c.index == 0u);
    CHECK_FALSE(c.found);
    // ... and a name the config gives a server that does not speak the API is not taken.
    CHECK(choose(s, Dialect::Ollama, "gemma3:4b", std::string("lms")).index == 0u);
    CHECK(choose(s, Dialect::LmStudio, "gemma3:4b", std::nullopt).index == 1u);
    // Nobody has it: the first server that speaks the API answers.
    c = choose(s, Dialect::OpenAI, "nosuch", std::nullopt);
    CHECK(c.index == 0u);
    CHECK_FALSE(c.found);
    // A request naming no model.
    CHECK(choose(s, Dialect::LmStudio, "", std::nullopt).index == 1u);
    CHECK(choose(s, Dialect::Ollama, "", std::nullopt).index == 0u);
    // No server speaks it.
    std::vector<Candidate> only_ollama = {s[0]};
    CHECK_FALSE(choose(only_ollama, Dialect::LmStudio, "x", std::nullopt).index.has_value());
}

TEST_CASE("router: a model no answering server has goes to a server that is down") {
    std::vector<Candidate> s = {server("home", "ollama", std::set<std::string>{"a:latest"}),
                                server("gpu", "ollama", std::nullopt),
                                server("lms", "lmstudio", std::nullopt, /*optional=*/true)};
    auto c = choose(s, Dialect::Ollama, "b", std::nullopt);
    CHECK(c.index == 1u); // it may have it: its client hears that it is down
    CHECK_FALSE(c.found);
    CHECK(choose(s, Dialect::Ollama, "a", std::nullopt).index == 0u);
    // An optional default endpoint that is down is taken as having nothing.
    c = choose(s, Dialect::LmStudio, "b", std::nullopt);
    CHECK(c.index == 2u);
    std::vector<Candidate> opt = {s[0], s[2]};
    CHECK(choose(opt, Dialect::OpenAI, "b", std::nullopt).index == 0u);
}

TEST_CASE("router: a miss looks again, at most once per interval; a server that fails is unknown") {
    int looks = 0;
    bool gpu_up = false;
    std::vector<Router::Server> servers = {
        {"home", "ollama", false,
         [&] {
             ++looks;
             return std::vector<core::provider::InstalledModel>{{"a:latest", "", 1, {}, {}}};
         }},
        {"gpu", "ollama", false, [&] {
             if (!gpu_up)
                 throw core::Error(core::ErrorKind::Unreachable, "cannot reach gpu");
             return std::vector<core::provider::InstalledModel>{{"b:latest", "", 1, {}, {}}};
         }}};
    Router r(
        servers,
        [](const std::string&, const std::string& model) {
            return model == "pinned-to-gpu" ? std::optional<std::string>("gpu") : std::nullopt;
        },
        60s);
    CHECK(r.route(Dialect::Ollama, "a") == 0u); // the first route looks
    CHECK(looks == 1);
    auto seen = r.seen();
    REQUIRE(seen.size() == 2);
    CHECK(seen[0].answered);
    CHECK_FALSE(seen[1].answered);
    CHECK(seen[1].error == "cannot reach gpu");
    CHECK(r.route(Dialect::Ollama, "a") == 0u); // found: no look
    CHECK(looks == 1);
    CHECK(r.route(Dialect::Ollama, "b") == 1u); // gpu is down: it may have b
    CHECK(looks == 1);                          // within the interval: no look
    gpu_up = true;
    CHECK(r.route(Dialect::Ollama, "pinned-to-gpu") == 1u);
    r.look();
    CHECK(looks == 2);
    CHECK(r.route(Dialect::Ollama, "b") == 1u);
    CHECK(r.route(Dialect::Ollama, "c") == 0u); // nobody has it now: the first
    CHECK(looks == 2);

    Router quick(servers, {}, 0ms);
    quick.route(Dialect::Ollama, "c");
    quick.route(Dialect::Ollama, "c");
    CHECK(looks == 4); // each miss looks when the interval is 0
}
