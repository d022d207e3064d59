#include "error.hpp"
#include "store/schema.hpp"

#include <doctest/doctest.h>

#include <set>

using namespace core;
using namespace core::store;
using nlohmann::json;

TEST_CASE("fields a newer modelctl wrote are kept on write, at every level") {
    json newer = json::parse(R"({
      "schema_version": 7,
      "future_top": {"a": 1},
      "endpoints": {"ollama": {"url": "http://127.0.0.1:11434", "future_section": [1, 2],
        "models": {"m:latest": {"loads": 3, "future_field": "kept", "pinned": true}}}}})");
    State s = state_from_json(newer);
    REQUIRE(s.models.count("m:latest"));
    CHECK(s.models["m:latest"].loads == 3);
    s.models["m:latest"].loads = 4; // a change made by this modelctl
    json out = to_json(s);
    CHECK(out["future_top"] == json{{"a", 1}});
    CHECK(out["endpoints"]["ollama"]["future_section"] == json::array({1, 2}));
    const auto& m = out["endpoints"]["ollama"]["models"]["m:latest"];
    CHECK(m["future_field"] == "kept");
    CHECK(m["loads"] == 4);
    CHECK(m["pinned"] == true);
    // A known field is never shadowed by a kept one.
    State again = state_from_json(out);
    CHECK(again.models["m:latest"].unknown == json{{"future_field", "kept"}});
    CHECK(to_json(again) == out);
}

TEST_CASE("the migrations are one step per schema, and every field has one") {
    const auto& steps = migrations();
    REQUIRE(steps.size() == size_t(kSchemaVersion - 1));
    for (size_t i = 0; i < steps.size(); ++i) {
        CHECK(steps[i].from == int(i) + 1);
        CHECK(std::string(steps[i].what).size() > 10);
    }
    std::set<std::string> keys;
    for (const auto& f : model_fields()) {
        CHECK(keys.insert(f.key).second); // each key once
        CHECK(f.since >= 1);
        CHECK(f.since <= kSchemaVersion);
    }
    // What to_json writes of a full record is exactly the table's keys.
    ModelRecord r;
    r.usage.uses = 1;
    r.bench.emplace_back();
    r.versions.push_back({"sha256:1", 1, {}, ""});
    State s;
    s.models["m"] = r;
    std::set<std::string> written;
    json doc = to_json(s);
    for (const auto& [k, v] : doc["endpoints"]["ollama"]["models"]["m"].items())
        written.insert(k);
    std::string missing, extra;
    for (const auto& k : keys)
        if (!written.count(k))
            missing += k + " ";
    for (const auto& k : written)
        if (!keys.count(k))
            extra += k + " ";
    CHECK(missing == "");
    CHECK(extra == "");
}

TEST_CASE("a schema 5 file migrates step by step: sparse histograms, models by endpoint") {
    json old = json::parse(R"({"schema_version": 2, "models": {"m:latest": {"loads": 1,
      "usage": {"uses": 3, "latency_ms_buckets": {"94": 2, "96": 1}}}}})");
    State s = state_from_json(old);
    REQUIRE(s.models.count("m:latest"));
    const auto& h = s.models["m:latest"].usage.latency;
    CHECK(h.count() == 3);
    CHECK(h.buckets() == std::map<int, uint64_t>{{94, 2}, {96, 1}});
    json out = to_json(s);
    CHECK(out["schema_version"] == kSchemaVersion);
    CHECK_FALSE(out.contains("models"));
    const auto& usage = out["endpoints"]["ollama"]["models"]["m:latest"]["usage"];
    CHECK(usage["latency_ms"] == json{{"from", 94}, {"counts", "2,0,1"}});
    CHECK_FALSE(usage.contains("latency_ms_buckets"));
    // A step that fails names the schema it read.
    try {
        state_from_json(json::parse(R"({"schema_version": 5, "models": []})"));
        FAIL("accepted");
    } catch (const Error& e) {
        CHECK(std::string(e.what()).find("schema 5") != std::string::npos);
    }
}
