// Memory estimates, effective settings and expiry observation.
#include "operations/planning.hpp"
#include "registry/registry.hpp"

#include <doctest/doctest.h>

using namespace core;
using namespace core::registry;
using namespace core::operations;
using json = nlohmann::json;

namespace {

json llama_info() {
    // llama3.1:8b as /api/show reports it.
    return {{"general.architecture", "llama"},
            {"llama.block_count", 32},
            {"llama.attention.head_count", 32},
            {"llama.attention.head_count_kv", 8},
            {"llama.embedding_length", 4096}};
}

util::Timestamp at(int seconds) {
    return util::Timestamp(std::chrono::seconds(1'800'000'000 + seconds));
}

} // namespace

TEST_CASE("KV cache as Ollama estimates it") {
    // 2 x 32 x 8 x (4096/32) x 4096 x 2 = 536870912 bytes (512 MiB).
    CHECK(kv_cache_bytes(llama_info(), 4096) == 536870912ULL);
    CHECK(kv_cache_bytes(llama_info(), 8192) == 2 * 536870912ULL);
    json per_layer = llama_info();
    per_layer["llama.attention.head_count_kv"] = {4, 8, 8};
    CHECK(kv_cache_bytes(per_layer, 4096) == 536870912ULL); // the largest counts
    json no_kv = llama_info();
    no_kv.erase("llama.attention.head_count_kv"); // missing: as many as heads
    CHECK(kv_cache_bytes(no_kv, 4096) == 4 * 536870912ULL);
    CHECK(kv_cache_bytes(json::object(), 4096) == 0);
}

TEST_CASE("estimate: observed at this context beats the formula") {
    auto e = estimate_memory(nullptr, 4920000000ULL, llama_info(), 4096);
    CHECK_FALSE(e.observed);
    CHECK(e.bytes == 4920000000ULL + 536870912ULL);
    CHECK(e.source == "estimated: file 4.9 GB + KV cache 536 MB at num_ctx 4096");

    store::ModelRecord r;
    r.observed[4096] = {5436870912ULL, 5436870912ULL, at(0)};
    e = estimate_memory(&r, 4920000000ULL, llama_info(), 4096);
    CHECK(e.observed);
    CHECK(e.bytes == 5436870912ULL);
    CHECK(e.source.rfind("observed after a load at num_ctx 4096 on ", 0) == 0);
    // Another context: back to the formula.
    CHECK_FALSE(estimate_memory(&r, 4920000000ULL, llama_info(), 8192).observed);
}

TEST_CASE("effective settings: store, then file, then global") {
    config::Config cfg;
    cfg.idle_timeout = util::Seconds(1800);
    cfg.models["a"].priority = 7; // as written in the file: Ollama reads it as a:latest
    cfg.models["a"].pin = true;
    cfg.models["a"].idle_timeout = util::Seconds(600);
    auto e = effective_settings("a:latest", "ollama", cfg, nullptr);
    CHECK(e.pinned);
    CHECK(e.pin_source == config::Source::File);
    CHECK(e.priority == 7);
    CHECK(e.idle_timeout.count() == 600);

    store::ModelRecord r;
    r.priority = 2;
    e = effective_settings("a:latest", "ollama", cfg, &r);
    CHECK(e.priority == 2);
    CHECK(e.priority_source == config::Source::Store);
    CHECK(e.pinned); // the file's pin holds whatever the store says

    e = effective_settings("b:latest", "ollama", cfg, &r);
    CHECK(e.idle_timeout.count() == 1800);
    CHECK_FALSE(e.pinned);
}

TEST_CASE("a per-model key is read by the endpoint's own naming rule") {
    config::Config cfg;
    cfg.models["llama3.1-8b"].num_ctx = 8192;
    cfg.models["llama3.1-8b"].pin = true;
    // LM Studio keys are names as they are: its model gets the setting.
    auto e = effective_settings("llama3.1-8b", "lmstudio", cfg, nullptr);
    CHECK(e.num_ctx == 8192);
    CHECK(e.num_ctx_own);
    CHECK(e.pinned);
    // On Ollama the same key names llama3.1-8b:latest.
    CHECK(effective_settings("llama3.1-8b:latest", "ollama", cfg, nullptr).num_ctx_own);
    CHECK_FALSE(effective_settings("llama3.1-8b:latest", "lmstudio", cfg, nullptr).num_ctx_own);
    store::State st;
    CHECK(pinned_names(st, cfg, "lmstudio") == std::set<std::string>{"llama3.1-8b"});
    CHECK(pinned_names(st, cfg, "ollama") == std::set<std::string>{"llama3.1-8b:latest"});
    // An exact key wins over one that reads the same.
    cfg.models["llama3.1-8b:latest"].num_ctx = 2048;
    CHECK(effective_settings("llama3.1-8b:latest", "ollama", cfg, nullptr).num_ctx == 2048);
}

TEST_CASE("expires_at moving forward is a use at expires_at - keep_alive") {
    store::ModelRecord r;
    provider::LoadedModel m;
    m.name = "a:latest";
    m.expires_at = at(600); // now is at(100)
    CHECK(observe_expiry(r, m, at(100)));
    CHECK_FALSE(r.last_used);                   // first sight: no use inferred
    CHECK_FALSE(observe_expiry(r, m, at(110))); // unchanged
    m.expires_at = at(900);
    CHECK(observe_expiry(r, m, at(700)));
    REQUIRE(r.last_used);
    CHECK(*r.last_used == at(600)); // 900 - Ollama's default 300 s
    CHECK(r.uses == doctest::Approx(1));

    r.keep_alive_seconds = 1800; // modelctl loaded it for 30m
    m.expires_at = at(3000);
    observe_expiry(r, m, at(1300));
    CHECK(*r.last_used == at(1200));
}

TEST_CASE("residents: last use never older than the server's expiry implies") {
    config::Config cfg;
    store::State st;
    provider::LoadedModel m;
    m.name = "x:latest";
    m.size = 1000;
    m.expires_at = at(1000); // default keep_alive: used at 700
    auto rs = residents({m}, st, cfg, "ollama", at(800));
    REQUIRE(rs.size() == 1);
    CHECK(rs[0].last_use == doctest::Approx(epoch_seconds(at(700))));
    CHECK(rs[0].reload_seconds == doctest::Approx(1.0)); // 1 s + 1000 B at 2 GB/s
    CHECK_FALSE(rs[0].pinned);
}

TEST_CASE("architecture_number: the model's own numbers from model_info, bounded") {
    using core::operations::architecture_number;
    auto info = nlohmann::json::parse(R"({"general.architecture": "llama",
        "llama.context_length": 131072, "llama.embedding_length": 3072,
        "llama.rope.dimension_count": -1, "qwen2.context_length": 32768,
        "llama.block_count": 99999999999})");
    CHECK(architecture_number(info, "context_length") == 131072u);
    CHECK(architecture_number(info, "embedding_length") == 3072u);
    CHECK_FALSE(architecture_number(info, "rope.dimension_count")); // negative
    CHECK_FALSE(architecture_number(info, "block_count"));          // past 10^7
    CHECK_FALSE(architecture_number(info, "vocab_size"));           // absent
    CHECK_FALSE(architecture_number(nlohmann::json::parse(R"({"llama.context_length": 8})"),
                                    "context_length")); // no architecture named
    CHECK_FALSE(architecture_number(nlohmann::json::array(), "context_length"));
}

TEST_CASE("largest_context: the longest multiple of 1024 that fits the room, up to the model's") {
    // llama3.1:8b: its 4.9 GB file and 128 KiB of KV cache a token.
    const uint64_t file = 4900000000ULL, per_token = 131072;
    std::string why;
    CHECK(largest_context(nullptr, file, llama_info(), 131072, file + per_token * 10000, "R",
                          why) == 9216);
    CHECK(why == "the longest that fits R (131072 would not)");
    CHECK(largest_context(nullptr, file, llama_info(), 8192, file + per_token * 10000, "R", why) ==
          8192);
    CHECK(why == "the model's longest, 8192");
    // Less room than 2048 tokens take: 2048, which the load plan then refuses.
    CHECK(largest_context(nullptr, file, llama_info(), 131072, file, "R", why) == 2048);
    // A model whose own is below 2048.
    CHECK(largest_context(nullptr, file, llama_info(), 1000, file, "R", why) == 1000);
}
