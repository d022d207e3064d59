#include "serve/routes.hpp"
#include "serve/usage.hpp"

#include <doctest/doctest.h>

using namespace core::serve;
using nlohmann::json;

namespace {

Usage tap(std::string_view content_type, std::string_view bytes, size_t split = 7) {
    UsageTap t(UsageTap::Clock::now());
    t.head(content_type);
    for (size_t i = 0; i < bytes.size(); i += split)
        t.feed(bytes.substr(i, split));
    return t.finish();
}

} // namespace

TEST_CASE("Ollama's stream: counts from the done line, ttft from the first text") {
    std::string s =
        R"({"model":"m","response":"","done":false})"
        "\n"
        R"({"model":"m","response":"Hi","done":false})"
        "\n"
        R"({"model":"m","response":"","done":true,"prompt_eval_count":12,"eval_count":34,"eval_duration":2000000000})";
    Usage u = tap("application/x-ndjson", s); // the last line has no newline
    CHECK(u.ttft_ms.has_value());
    CHECK(u.tokens_in == 12u);
    CHECK(u.tokens_out == 34u);
    CHECK(u.eval_seconds == doctest::Approx(2.0));
    CHECK(u.error.empty());
}

TEST_CASE("a chat stream's message content counts, and an error line marks the use") {
    std::string s = R"({"message":{"role":"assistant","content":"x"},"done":false})"
                    "\n"
                    R"({"error":"an error was encountered while running the model"})"
                    "\n";
    Usage u = tap("application/x-ndjson", s, 3);
    CHECK(u.ttft_ms.has_value());
    CHECK(u.error == "an error was encountered while running the model");
    CHECK_FALSE(u.tokens_out);
}

TEST_CASE("OpenAI SSE: usage from the include_usage chunk; [DONE] is not JSON") {
    std::string s =
        "data: {\"choices\":[{\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}]}\n\n"
        "data: {\"choices\":[{\"delta\":{\"content\":\"Hello\"}}]}\n\n"
        "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":"
        "7,\"total_tokens\":12}}\n\n"
        "data: [DONE]\n\n";
    Usage u = tap("text/event-stream; charset=utf-8", s, 5);
    CHECK(u.ttft_ms.has_value());
    CHECK(u.tokens_in == 5u);
    CHECK(u.tokens_out == 7u);
}

TEST_CASE("/v1/responses stream: usage inside response.completed") {
    std::string s = "event: response.output_text.delta\n"
                    "data: {\"type\":\"response.output_text.delta\",\"delta\":\"Hi\"}\n\n"
                    "event: response.completed\n"
                    "data: {\"type\":\"response.completed\",\"response\":{\"usage\":{\"input_"
                    "tokens\":3,\"output_tokens\":4}}}\n\n";
    Usage u = tap("text/event-stream", s);
    CHECK(u.ttft_ms.has_value());
    CHECK(u.tokens_in == 3u);
    CHECK(u.tokens_out == 4u);
}

TEST_CASE("a whole JSON answer: no ttft, counts from either API") {
    Usage o = tap("application/json; charset=utf-8",
                  R"({"response":"x","done":true,"prompt_eval_count":1,"eval_count":2})");
    CHECK_FALSE(o.ttft_ms);
    CHECK(o.tokens_in == 1u);
    CHECK(o.tokens_out == 2u);
    Usage e = tap("application/json", R"({"embeddings":[[0.1]],"prompt_eval_count":9})");
    CHECK(e.tokens_in == 9u);
    Usage v = tap("application/json",
                  R"({"choices":[],"usage":{"prompt_tokens":4,"completion_tokens":6}})");
    CHECK(v.tokens_in == 4u);
    CHECK(v.tokens_out == 6u);
    Usage err = tap("application/json", R"({"error":{"message":"model not found","type":"x"}})");
    CHECK(err.error == "model not found");
}

TEST_CASE("LM Studio's stats: tokens, generation time and the server's time to first token") {
    // /api/v1/chat (LM Studio 0.4's REST API)
    Usage v1 = tap(
        "application/json",
        R"({"output":[{"type":"message","content":"hi"}],"stats":{"input_tokens":12,)"
        R"("total_output_tokens":40,"tokens_per_second":80,"time_to_first_token_seconds":0.25}})");
    CHECK(v1.tokens_in == 12u);
    CHECK(v1.tokens_out == 40u);
    REQUIRE(v1.eval_seconds);
    CHECK(*v1.eval_seconds == doctest::Approx(0.5));
    REQUIRE(v1.ttft_ms);
    CHECK(*v1.ttft_ms == doctest::Approx(250));
    // /api/v0/chat/completions: tokens in usage, times in stats
    Usage v0 = tap(
        "application/json",
        R"({"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":9},)"
        R"("stats":{"tokens_per_second":51.4,"time_to_first_token":0.111,"generation_time":0.954}})");
    CHECK(v0.tokens_out == 9u);
    REQUIRE(v0.eval_seconds);
    CHECK(*v0.eval_seconds == doctest::Approx(0.954));
    REQUIRE(v0.ttft_ms);
    CHECK(*v0.ttft_ms == doctest::Approx(111));
    // hostile times are left out
    Usage h =
        tap("application/json",
            R"({"stats":{"total_output_tokens":5,"tokens_per_second":-3,"generation_time":1e300,)"
            R"("time_to_first_token_seconds":"x"}})");
    CHECK(h.tokens_out == 5u);
    CHECK_FALSE(h.eval_seconds);
    CHECK_FALSE(h.ttft_ms);
}

TEST_CASE("LM Studio's /api/v1/chat stream: ttft from the first delta, counts from chat.end") {
    std::string s =
        "event: chat.start\ndata: {\"type\":\"chat.start\",\"model_instance_id\":\"m\"}\n\n"
        "event: message.start\ndata: {\"type\":\"message.start\"}\n\n";
    std::string deltas =
        "event: message.delta\ndata: {\"type\":\"message.delta\",\"content\":\"Hi\"}\n\n";
    std::string end =
        "event: chat.end\ndata: {\"type\":\"chat.end\",\"result\":{\"output\":[],"
        "\"stats\":{\"input_tokens\":7,\"total_output_tokens\":20,\"tokens_per_second\":40,"
        "\"time_to_first_token_seconds\":0.3}}}\n\n";
    UsageTap t(UsageTap::Clock::now() - std::chrono::seconds(1));
    t.head("text/event-stream");
    t.feed(s);
    t.feed(deltas);
    t.feed(end);
    Usage u = t.finish();
    CHECK(u.tokens_in == 7u);
    CHECK(u.tokens_out == 20u);
    REQUIRE(u.eval_seconds);
    CHECK(*u.eval_seconds == doctest::Approx(0.5));
    // Measured at the first message.delta (a second after sending), not
    // taken from the server's figure as for a whole answer.
    REQUIRE(u.ttft_ms);
    CHECK(*u.ttft_ms >= 1000);
    Usage e = tap("text/event-stream",
                  "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"unknown\","
                  "\"message\":\"boom\"}}\n\n");
    CHECK(e.error == "boom");
}

TEST_CASE("hostile counters are left out, not recorded") {
    Usage u = tap("application/x-ndjson",
                  R"({"done":true,"prompt_eval_count":-1,"eval_count":1e300,"eval_duration":"x"})"
                  "\n"
                  R"({"done":true,"prompt_eval_count":2.5})"
                  "\n");
    CHECK_FALSE(u.tokens_in);
    CHECK_FALSE(u.tokens_out);
    CHECK_FALSE(u.eval_seconds);
    // "done" of the wrong type (found by fuzz_wire: json::value threw)
    Usage d = tap("application/x-ndjson", R"({"done":1,"eval_count":2})"
                                          "\n");
    CHECK_FALSE(d.tokens_out);
    // a line past the cap is skipped whole, the next one still read
    std::string big = "{\"response\":\"" + std::string(UsageTap::kMaxLine, 'a') + "\"}\n";
    Usage b = tap("application/x-ndjson",
                  big + R"({"done":true,"eval_count":3})"
                        "\n",
                  4096);
    CHECK(b.tokens_out == 3u);
    CHECK_FALSE(b.ttft_ms);
}

TEST_CASE("routes that load a model, and what their body asks") {
    CHECK(classify("POST", "/api/chat").model_route());
    CHECK(classify("POST", "/v1/chat/completions").api == Api::OpenAI);
    CHECK_FALSE(classify("GET", "/api/chat").model_route());
    CHECK_FALSE(classify("POST", "/api/show").model_route());
    CHECK_FALSE(classify("POST", "/api/pull").model_route());
    CHECK(path_of("/api/tags?x=1#y") == "/api/tags");
    // LM Studio's own routes: model routes, errors in the OpenAI shape
    Route lms = classify("POST", "/api/v1/chat");
    CHECK(lms.model_route());
    CHECK(lms.api == Api::OpenAI);
    auto l = read_ask(lms, json::parse(R"({"model":"qwen3-8b","input":"hi"})"));
    REQUIRE(l);
    CHECK_FALSE(l->stream); // LM Studio's chat answers whole unless asked to stream
    CHECK(l->task == "chat");
    CHECK(classify("POST", "/api/v0/chat/completions").model_route());
    CHECK(classify("POST", "/api/v0/embeddings").model_route());
    CHECK_FALSE(classify("GET", "/api/v1/models").model_route());
    CHECK_FALSE(classify("POST", "/api/v1/models/load").model_route());

    Route chat = classify("POST", "/api/chat");
    auto a = read_ask(chat, json::parse(R"({"model":"m","messages":[],"keep_alive":0})"));
    REQUIRE(a);
    CHECK(a->unload);
    CHECK(a->stream);
    auto b = read_ask(
        chat,
        json::parse(R"({"model":"m","messages":[{"role":"user","content":"x"}],"keep_alive":0})"));
    CHECK_FALSE(b->unload);
    CHECK(b->task == "chat");
    auto tools = read_ask(chat, json::parse(R"({"model":"m","tools":[{"type":"function"}]})"));
    CHECK(tools->task == "tools");
    Route gen = classify("POST", "/api/generate");
    auto img = read_ask(
        gen,
        json::parse(R"({"model":"m","prompt":"x","images":["AAAA"],"options":{"num_ctx":8}})"));
    CHECK(img->task == "vision");
    CHECK(img->has_num_ctx);
    CHECK(read_ask(gen, json::parse(R"({"model":"m","keep_alive":"0s"})"))->unload);
    CHECK_FALSE(read_ask(gen, json::parse(R"({"prompt":"x"})")));
    CHECK_FALSE(read_ask(gen, json::parse(R"({"model":7})")));
    CHECK_FALSE(read_ask(gen, json::parse(R"([1])")));
    Route v1 = classify("POST", "/v1/chat/completions");
    auto o = read_ask(
        v1, json::parse(
                R"({"model":"m","messages":[{"role":"user","content":[{"type":"image_url"}]}]})"));
    CHECK_FALSE(o->stream);
    CHECK(o->task == "vision");
    CHECK(json::parse(error_body(Api::OpenAI, 404, "gone"))["error"]["type"] == "not_found_error");
    CHECK(json::parse(error_body(Api::Ollama, 500, "bad\xff"))["error"].is_string());
}
