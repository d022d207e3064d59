// The status view (operations/status): one decision per loaded and installed
// model, shared by the table, --json, Prometheus and serve.
#include "fake_provider.hpp"
#include "operations/status.hpp"

#include <doctest/doctest.h>

using namespace core;
using namespace core::operations;

TEST_CASE("status view: settings resolve by the endpoint's naming rule; idle; installed loaded") {
    FakeSetup t;
    auto& [dir, server, store, reg, cfg] = t;
    cfg.models["a"].pin = true; // as written in the config: Ollama reads it as a:latest
    cfg.models["b:latest"].priority = 8;
    server.install("a:latest", 4);
    server.install("b:latest", 4);
    server.install("c:latest", 4);
    server.put_loaded("a:latest");
    server.put_loaded("b:latest");
    store::Event use;
    use.type = "use";
    use.model = "b:latest";
    use.at = util::now() - std::chrono::minutes(10);
    use.latency_ms = 100;
    registry::record_uses(store, {use});

    auto status = reg.status(true);
    auto view = status_view(status, server, cfg);
    REQUIRE(view.loaded.size() == 2);
    const auto& a = view.loaded[0];
    const auto& b = view.loaded[1];
    CHECK(a.model.name == "a:latest");
    CHECK(a.settings.pinned);
    CHECK(a.settings.priority == policy::kDefaultPriority);
    CHECK(b.settings.priority == 8);
    CHECK_FALSE(b.settings.pinned);
    REQUIRE(b.record);
    REQUIRE(b.idle_seconds);
    CHECK(*b.idle_seconds == doctest::Approx(600).epsilon(0.02));
    CHECK_FALSE(view.sizes_unreported);
    CHECK_FALSE(view.expiry_unreported);
    REQUIRE(view.installed.size() == 3);
    CHECK(view.installed[0].loaded);
    CHECK(view.installed[1].loaded);
    CHECK_FALSE(view.installed[2].loaded);
}

TEST_CASE("status view: a server that does not report sizes or expiry says so") {
    Scratch dir;
    FakeProvider server;
    server.kind_ = "lmstudio";
    server.sizes_reported = false;
    store::Store store(dir.path, std::chrono::seconds(10), store::Store::kDefaultMaxLogBytes,
                       "lmstudio");
    registry::Registry reg(server, store);
    config::Config cfg;
    cfg.models["qwen/qwen3-4b"].pin = true; // LM Studio names it as is: no ":latest"
    server.install("qwen/qwen3-4b", 2.5);
    server.put_loaded("qwen/qwen3-4b");
    auto status = reg.status(false);
    auto view = status_view(status, server, cfg);
    REQUIRE(view.loaded.size() == 1);
    CHECK(view.loaded[0].settings.pinned);
    CHECK_FALSE(view.loaded[0].idle_seconds);
    CHECK(view.sizes_unreported);
    CHECK(view.expiry_unreported);
    CHECK(view.installed.empty());
}
