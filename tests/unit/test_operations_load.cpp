// Load, gc and preload planning (operations/) against an in-memory server:
// evictions, refusals, pins, several models at once, missing models, the
// count cap, a server that does not report sizes.
#include "fake_provider.hpp"
#include "operations/gc.hpp"
#include "operations/load.hpp"
#include "operations/preload.hpp"
#include "scratch.hpp"
#include "versions/versions.hpp"

#include <doctest/doctest.h>

#include <cmath>

using namespace core;
using namespace core::operations;

namespace {

// A fixed budget, as budget.memory and budget.max_loaded would set it.
BudgetFn fixed_budget(double gb, size_t max_loaded = 0) {
    return [=](const std::vector<provider::LoadedModel>&) {
        resources::BudgetReport r;
        r.budget = {static_cast<uint64_t>(gb * 1e9), max_loaded};
        r.pool = "configured";
        r.explanation = "test";
        return r;
    };
}

struct Bench : FakeSetup {
    Bench() {
        server.install("a:latest", 4);
        server.install("b:latest", 4);
        server.install("c:latest", 4);
        server.install("huge:latest", 30);
    }
    // The store's last use of `model`, `ago` in the past.
    void used(const std::string& model, std::chrono::seconds ago) {
        store::Event e;
        e.type = "use";
        e.model = model;
        e.at = util::now() - ago;
        e.latency_ms = 100;
        registry::record_uses(store, {e});
    }
};

std::vector<std::string> victims(const policy::Plan& p) {
    std::vector<std::string> out;
    for (const auto& v : p.evict)
        out.push_back(v.name);
    return out;
}

} // namespace

TEST_CASE("a load that does not fit evicts the cheapest model, and says memory binds") {
    Bench t;
    t.server.put_loaded("a:latest");
    t.server.put_loaded("b:latest");
    t.used("a:latest", std::chrono::seconds(10)); // a used just now, b never
    auto lp = plan_loads(t.server, t.reg, t.cfg, fixed_budget(10), {"c"});
    REQUIRE(lp.plan.feasible());
    REQUIRE(lp.wanted.size() == 1);
    CHECK(lp.wanted[0].model == "c:latest"); // canonical, by the server's rule
    CHECK(victims(lp.plan) == std::vector<std::string>{"b:latest"});
    CHECK(lp.plan.need.find("more than the budget of 10 GB") != std::string::npos);
    CHECK(lp.plan.need.find("max_loaded") == std::string::npos);
    CHECK(t.server.calls.empty()); // planning changes nothing on the server
}

TEST_CASE("the count cap binds like memory, and the reasons name budget.max_loaded") {
    Bench t;
    t.server.put_loaded("a:latest");
    t.server.put_loaded("b:latest");
    auto lp = plan_loads(t.server, t.reg, t.cfg, fixed_budget(100, 2), {"c"});
    REQUIRE(lp.plan.feasible());
    REQUIRE(lp.plan.evict.size() == 1);
    CHECK(lp.plan.need == "3 models would be loaded, more than budget.max_loaded = 2");
    CHECK(lp.plan.evict[0].reason.find("slots of budget.max_loaded") != std::string::npos);
    CHECK_THROWS_WITH_AS(lp.refuse_evictions(true), doctest::Contains("budget.max_loaded = 2"),
                         Error);
}

TEST_CASE("refusals: a model larger than the budget, pins that leave no room") {
    Bench t;
    auto lp = plan_loads(t.server, t.reg, t.cfg, fixed_budget(10), {"huge"});
    CHECK_FALSE(lp.plan.feasible());
    CHECK(lp.refusal().kind() == ErrorKind::Refused);
    CHECK(std::string(lp.refusal().what()).find("more than the whole budget") != std::string::npos);
    CHECK_THROWS_AS(lp.require_feasible(), Error);

    t.server.put_loaded("a:latest");
    t.server.put_loaded("b:latest");
    t.cfg.models["a:latest"].pin = true;
    t.cfg.models["b:latest"].pin = true;
    lp = plan_loads(t.server, t.reg, t.cfg, fixed_budget(10), {"c"});
    CHECK_FALSE(lp.plan.feasible());
    CHECK(lp.plan.refusal.find("pinned") != std::string::npos);
    CHECK(std::string(lp.refusal().hint()).find("unpin") != std::string::npos);

    // Two pins, and room for only two models: the hint names max_loaded.
    lp = plan_loads(t.server, t.reg, t.cfg, fixed_budget(100, 2), {"c"});
    CHECK(lp.plan.refused == policy::Refusal::Count);
    CHECK(std::string(lp.refusal().hint()).find("budget.max_loaded") != std::string::npos);

    t.cfg.models["b:latest"].pin = false; // one pin: b may go
    lp = plan_loads(t.server, t.reg, t.cfg, fixed_budget(10), {"c"});
    REQUIRE(lp.plan.feasible());
    CHECK(victims(lp.plan) == std::vector<std::string>{"b:latest"});
}

TEST_CASE("several models are planned together; a wanted loaded model is never a victim") {
    Bench t;
    t.server.put_loaded("a:latest");
    t.server.put_loaded("b:latest");
    auto lp = plan_loads(t.server, t.reg, t.cfg, fixed_budget(10), {"a", "c"});
    REQUIRE(lp.plan.feasible());
    REQUIRE(lp.wanted.size() == 2);
    CHECK(lp.wanted[0].loaded);
    CHECK(lp.wanted[0].estimate.source == "loaded now");
    CHECK(victims(lp.plan) == std::vector<std::string>{"b:latest"});
    CHECK(lp.plan.load == std::vector<std::string>{"c:latest"});
}

TEST_CASE("a model the server lacks is set aside, the others still planned") {
    Bench t;
    auto lp = plan_loads(t.server, t.reg, t.cfg, fixed_budget(100), {"a", "nope", "c"});
    REQUIRE(lp.wanted.size() == 2);
    CHECK(lp.wanted[1].model == "c:latest");
    REQUIRE(lp.missing.size() == 1);
    CHECK(lp.missing[0].model == "nope");
    CHECK(lp.missing[0].error.kind() == ErrorKind::NotFound);
    CHECK(lp.missing[0].error.hint() == "pull it first: modelctl pull nope");
    // For a command about one model, the absence is the error.
    CHECK_THROWS_AS(plan_loads(t.server, t.reg, t.cfg, fixed_budget(100), {"nope"}, true), Error);
}

TEST_CASE("a server that does not report sizes (LM Studio): file sizes count, on the GPU") {
    Bench t;
    t.server.kind_ = "lmstudio";
    t.server.sizes_reported = false;
    t.server.put_loaded("a:latest");
    t.server.put_loaded("b:latest");
    Endpoint e;
    e.name = "lms";
    e.provider = "lmstudio";
    e.vram = uint64_t(10e9);
    e.address.host = "10.0.0.5"; // remote: its memory is the configured one
    auto budget_of = [&](const std::vector<provider::LoadedModel>& loaded) {
        return budget(
            e, t.cfg, [] { return resources::Snapshot{}; }, loaded);
    };
    auto report = budget_of(t.server.loaded());
    CHECK(report.pool == "gpu");
    auto lp = plan_loads(t.server, t.reg, t.cfg, budget_of, {"c:latest"});
    REQUIRE(lp.plan.feasible());
    CHECK(lp.plan.used_before == uint64_t(8e9));
    CHECK(lp.plan.evict.size() == 1);
}

TEST_CASE("gc: idle models first, then over the budget by the policy; pins stay") {
    Bench t;
    t.server.put_loaded("a:latest");
    t.server.put_loaded("b:latest");
    t.server.put_loaded("c:latest");
    // First seen and used long ago, as far as the store knows; the server's
    // expiry says nothing newer (no expiry given).
    for (auto& m : t.server.in_memory)
        m.expires_at.reset();
    t.store.update([&](store::State& s) {
        for (const char* n : {"a:latest", "b:latest", "c:latest"})
            s.models[n].first_seen = util::now() - std::chrono::hours(2);
    });
    t.used("c:latest", std::chrono::seconds(60));
    t.cfg.idle_timeout = util::Seconds(3600);
    t.cfg.models["a:latest"].pin = true;
    auto g = plan_gc(t.server, t.reg, t.cfg, fixed_budget(100), false);
    REQUIRE(g.plan.idle.size() == 1); // a is pinned, c was used a minute ago
    CHECK(g.plan.idle[0].name == "b:latest");
    CHECK(g.plan.idle[0].reason.find("longer than its idle timeout of 1h") != std::string::npos);
    CHECK(g.plan.over_budget.empty());

    g = plan_gc(t.server, t.reg, t.cfg, fixed_budget(100, 1), false);
    REQUIRE(g.plan.over_budget.size() == 1); // a pinned, b idle: c must go for the cap
    CHECK(g.plan.over_budget[0].name == "c:latest");
    CHECK(g.plan.over_budget[0].reason.find("budget.max_loaded") != std::string::npos);

    // Models kept (serve: answering requests) are never chosen, as pins are not.
    g = plan_gc(t.server, t.reg, t.cfg, fixed_budget(100, 1), false, {"b:latest", "c:latest"});
    CHECK(g.plan.idle.empty());
    CHECK(g.plan.over_budget.empty());
    CHECK(g.plan.still_over);

    // No budget can be set (a remote server without configured memory): idle only.
    auto no_budget = [](const std::vector<provider::LoadedModel>&) -> resources::BudgetReport {
        throw Error(ErrorKind::Usage, "no memory configured for a remote server");
    };
    g = plan_gc(t.server, t.reg, t.cfg, no_budget, false);
    CHECK_FALSE(g.budget);
    CHECK(g.no_budget == "no memory configured for a remote server");
    CHECK(g.plan.idle.size() == 1);
    CHECK(t.server.calls.empty());
}

TEST_CASE("preload: likely models load into free room only, and a skip names what binds") {
    Bench t;
    // Four weeks of three uses a week, in the coming hour of the week, for a and c.
    auto now = util::now();
    double now_s = epoch_seconds(now);
    double at = std::ceil(now_s / 3600) * 3600;
    at -= static_cast<double>(utc_offset_at(at) % 3600); // a local hour's start
    if (at < now_s)
        at += 3600;
    auto at_time = now + std::chrono::seconds(static_cast<long>(at - now_s));
    std::vector<store::Event> uses;
    for (int week = 1; week <= 4; ++week)
        for (const char* n : {"a:latest", "c:latest"})
            for (int i = 0; i < 3; ++i) {
                store::Event e;
                e.type = "use";
                e.model = n;
                e.latency_ms = 100;
                e.at = at_time + std::chrono::seconds(60 * i) - std::chrono::hours(24 * 7 * week);
                uses.push_back(e);
            }
    registry::record_uses(t.store, uses);
    t.server.put_loaded("b:latest");
    auto p = plan_preload(t.server, t.reg, t.cfg, fixed_budget(100, 2), at);
    REQUIRE(p.steps.size() == 2);
    int loads = 0, skips = 0;
    for (const auto& s : p.steps) {
        CHECK(s.forecast.probability >= kPreloadLikely);
        if (s.action == "load") {
            ++loads;
            REQUIRE(s.settings.keep_alive);
            CHECK(s.settings.keep_alive->value.count() >= at + 3600 - now_s - 5); // the hour's end
        } else {
            ++skips;
            CHECK(s.action == "skip");
            CHECK(s.reason.find("budget.max_loaded = 2") != std::string::npos);
            CHECK(s.reason.find("never evicts") != std::string::npos);
        }
    }
    CHECK(loads == 1);
    CHECK(skips == 1);
    CHECK(t.server.calls.empty());
}

TEST_CASE("gc --versions plan: tags beyond each model's keep_versions, pins kept") {
    Bench t;
    auto digest = [](char c) { return "sha256:" + std::string(64, c); };
    auto tag = [&](char c) {
        provider::InstalledModel m;
        m.name = versions::version_tag("a:latest", digest(c));
        m.digest = digest(c);
        m.size = 4'000'000'000ULL;
        return m;
    };
    // a:latest now points at 'a…' (install()); three older versions kept by tags.
    t.server.models.push_back(tag('b'));
    t.server.models.push_back(tag('c'));
    t.server.models.push_back(tag('d'));
    t.store.update([&](store::State& st) {
        auto& r = st.models["a:latest"];
        auto at = util::now() - std::chrono::hours(100);
        for (char c : {'b', 'c', 'd'}) {
            r.versions.push_back(
                {digest(c), 4'000'000'000ULL, at, versions::version_tag("a:latest", digest(c))});
            at += std::chrono::hours(10);
        }
        r.versions.push_back({digest('a'), 4'000'000'000ULL, at, ""});
    });
    t.cfg.keep_versions = 2;
    auto drops = plan_version_gc(t.server.models, t.store.read(), t.cfg, "ollama");
    std::vector<std::string> tags;
    for (const auto& d : drops) {
        CHECK(d.model == "a:latest");
        CHECK(d.keep == 2);
        tags.push_back(d.version.kept_by);
    }
    // Kept: the current one and the newest other ('d'); 'b' and 'c' go.
    CHECK(tags == std::vector<std::string>{versions::version_tag("a:latest", digest('c')),
                                           versions::version_tag("a:latest", digest('b'))});

    // A per-model keep_versions of 1, and 'c' pinned: 'c' stays, 'b' and 'd' go.
    t.cfg.models["a:latest"].keep_versions = 1;
    t.cfg.models[versions::version_tag("a:latest", digest('c'))].pin = true;
    drops = plan_version_gc(t.server.models, t.store.read(), t.cfg, "ollama");
    tags.clear();
    for (const auto& d : drops)
        tags.push_back(d.version.kept_by);
    std::sort(tags.begin(), tags.end());
    CHECK(tags == std::vector<std::string>{versions::version_tag("a:latest", digest('b')),
                                           versions::version_tag("a:latest", digest('d'))});
}
