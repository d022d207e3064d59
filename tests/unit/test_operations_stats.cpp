// stats' figures (operations/stats): all history from the summaries, a window
// from the log, the endpoint's own events only.
#include "operations/stats.hpp"
#include "scratch.hpp"

#include <doctest/doctest.h>

using namespace core;
using namespace core::operations;

namespace {

store::Event event(const std::string& type, const std::string& model, std::chrono::minutes ago) {
    store::Event e;
    e.type = type;
    e.model = model;
    e.at = util::now() - ago;
    e.seconds = 2;
    e.latency_ms = 100;
    return e;
}

} // namespace

TEST_CASE("usage stats: all history, or a window of the log, for one endpoint") {
    Scratch dir;
    store::Store ollama(dir.path);
    store::Store other(dir.path, std::chrono::seconds(10), store::Store::kDefaultMaxLogBytes,
                       "studio");
    ollama.update([](store::State&) {}, {event("load", "a:latest", std::chrono::minutes(300))});
    ollama.append({event("use", "a:latest", std::chrono::minutes(300)),
                   event("use", "a:latest", std::chrono::minutes(30)),
                   event("use", "b:latest", std::chrono::minutes(20))});
    other.append({event("use", "a:latest", std::chrono::minutes(10))});
    ollama.update([](store::State& st) { st.models["a:latest"].loads = 1; });

    auto now = util::now();
    auto state = ollama.read();
    auto all = usage_stats(state, now);
    REQUIRE(all.rows.count("a:latest"));
    CHECK(all.rows["a:latest"].usage.uses == 2);
    CHECK(all.rows["a:latest"].loads == 1);
    CHECK(all.rows["a:latest"].uses_per_hour > 0);
    CHECK(all.rows["b:latest"].usage.uses == 1);
    CHECK_FALSE(all.log_starts);

    auto hour = usage_stats(ollama, state, util::Seconds(3600), now);
    REQUIRE(hour.rows.count("a:latest"));
    CHECK(hour.rows["a:latest"].usage.uses == 1); // the use 5 h ago is outside
    CHECK(hour.rows["a:latest"].loads == 0);      // and so is the load
    CHECK(hour.rows["a:latest"].uses_per_hour == doctest::Approx(1));
    CHECK(hour.rows["b:latest"].usage.uses == 1);
    CHECK(hour.rows.size() == 2); // studio's use of its own a:latest is not ollama's

    auto day = usage_stats(ollama, state, util::Seconds(86400), now);
    CHECK(day.rows["a:latest"].usage.uses == 2);
    CHECK(day.rows["a:latest"].loads == 1);
    CHECK(day.rows["a:latest"].load_seconds == doctest::Approx(2));
}
