// recommend's candidates (operations/recommend): readiness as `load` would
// plan each model alone, version tags left out, no budget reported.
#include "fake_provider.hpp"
#include "operations/recommend.hpp"
#include "versions/versions.hpp"

#include <doctest/doctest.h>

using namespace core;
using namespace core::operations;

namespace {

BudgetFn fixed_budget(double gb) {
    return [=](const std::vector<provider::LoadedModel>&) {
        resources::BudgetReport r;
        r.budget = {static_cast<uint64_t>(gb * 1e9), 0};
        r.pool = "configured";
        r.explanation = "test";
        return r;
    };
}

const recommend::Candidate& find(const RecommendInput& in, const std::string& name) {
    for (const auto& c : in.candidates)
        if (c.name == name)
            return c;
    FAIL("no candidate " << name);
    throw std::logic_error("unreachable");
}

} // namespace

TEST_CASE("recommend candidates: loaded, fits, evicts (naming whom), blocked by a pin") {
    FakeSetup t;
    auto& [dir, server, store, reg, cfg] = t;
    cfg.models["pinned:latest"].pin = true;
    server.install("pinned:latest", 6);
    server.install("other:latest", 3);
    server.install("small:latest", 1);
    server.install("mid:latest", 2);
    server.install("large:latest", 5);
    server.install(versions::version_tag("mid:latest", "sha256:" + std::string(64, 'b')), 2);
    server.put_loaded("pinned:latest");
    server.put_loaded("other:latest");

    auto in = recommend_candidates(server, reg, cfg, fixed_budget(10));
    REQUIRE(in.budget);
    CHECK(in.candidates.size() == 5); // the version tag is no model of its own
    CHECK(find(in, "pinned:latest").readiness == recommend::Readiness::Loaded);
    CHECK(find(in, "small:latest").readiness == recommend::Readiness::Fits); // 6 + 3 + 1 = 10
    const auto& mid = find(in, "mid:latest");
    CHECK(mid.readiness == recommend::Readiness::Evicts);
    CHECK(mid.victims == std::vector<std::string>{"other:latest"});
    CHECK(find(in, "large:latest").readiness == recommend::Readiness::Blocked); // 6 + 5 > 10
    CHECK(server.loaded_names() == std::vector<std::string>{"other:latest", "pinned:latest"});
}

TEST_CASE("recommend candidates: no budget is reported, not fatal") {
    FakeSetup t;
    auto& [dir, server, store, reg, cfg] = t;
    server.install("a:latest", 1);
    BudgetFn none = [](const std::vector<provider::LoadedModel>&) -> resources::BudgetReport {
        throw Error(ErrorKind::Usage, "no memory found");
    };
    auto in = recommend_candidates(server, reg, cfg, none);
    CHECK_FALSE(in.budget);
    CHECK(in.no_budget == "no memory found");
    REQUIRE(in.candidates.size() == 1);
    CHECK(in.candidates[0].readiness == recommend::Readiness::Fits);
}
