#include "provider/lmstudio_api.hpp"
#include "scratch.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

using namespace core;
using namespace core::provider;
using namespace core::provider::lmstudio;
using nlohmann::json;

TEST_CASE("GET /api/v1/models: the documented example") {
    auto models = parse_models_v1(fixture("lmstudio-v1-models.json"));
    REQUIRE(models.size() == 2);
    const auto& g = models[0];
    CHECK(g.installed.name == "gemma-3-270m-it-qat");
    CHECK(g.installed.size == 241410208ULL);
    CHECK(g.installed.details.quantization_level == "Q4_0");
    CHECK(g.installed.details.parameter_size == "270M");
    CHECK(g.installed.details.family == "gemma3");
    CHECK(g.installed.details.format == "gguf");
    CHECK(g.max_context_length == 32768);
    CHECK(g.capabilities == std::vector<std::string>{"completion"}); // vision and tools false
    REQUIRE(g.instances.size() == 1);
    const auto& i = g.instances[0];
    CHECK(i.name == "gemma-3-270m-it-qat");
    CHECK(i.instance_id == "gemma-3-270m-it-qat");
    CHECK(i.context_length == 4096);
    // Not reported by LM Studio, so marked rather than invented.
    CHECK(i.size == 241410208ULL);
    CHECK_FALSE(i.size_reported);
    CHECK(i.size_vram == 0);
    CHECK_FALSE(i.expiry_reported);
    CHECK_FALSE(i.expires_at);

    const auto& e = models[1];
    CHECK(e.installed.name == "text-embedding-nomic-embed-text-v1.5-embedding");
    CHECK(e.capabilities == std::vector<std::string>{"embedding"});
    CHECK(e.installed.details.parameter_size.empty()); // params_string null
    CHECK(e.installed.details.family.empty());         // no architecture
    CHECK(e.instances.empty());
}

TEST_CASE("GET /api/v1/models: capabilities, several instances, odd answers") {
    auto models = parse_models_v1(R"({"models":[{"type":"llm","key":"qwen/qwen3-4b",
        "size_bytes":2500000000,"quantization":null,"params_string":"4B",
        "capabilities":{"vision":true,"trained_for_tool_use":true,
                        "reasoning":{"allowed_options":["off","on"],"default":"on"}},
        "loaded_instances":[{"id":"qwen/qwen3-4b","config":{"context_length":8192}},
                            {"id":"qwen/qwen3-4b:2","config":{"context_length":4096}}]}]})");
    REQUIRE(models.size() == 1);
    CHECK(models[0].capabilities ==
          std::vector<std::string>{"completion", "vision", "tools", "thinking"});
    CHECK(models[0].installed.details.quantization_level.empty());
    REQUIRE(models[0].instances.size() == 2);
    CHECK(models[0].instances[1].instance_id == "qwen/qwen3-4b:2");
    CHECK(models[0].instances[1].name == "qwen/qwen3-4b");
    CHECK(models[0].instances[1].context_length == 4096);

    CHECK(parse_models_v1(R"({"models":[]})").empty());
    for (const char* bad :
         {"not json", R"({})", R"({"models":3})", R"({"models":[{"type":"llm"}]})"})
        CHECK_THROWS_AS(parse_models_v1(bad), Error);
}

TEST_CASE("GET /api/v0/models: the documented example, and a loaded model") {
    auto models = parse_models_v0(fixture("lmstudio-v0-models.json"));
    REQUIRE(models.size() == 3);
    CHECK(models[0].installed.name == "qwen2-vl-7b-instruct");
    CHECK(models[0].capabilities == std::vector<std::string>{"completion", "vision"});
    CHECK(models[0].installed.details.format == "mlx");
    CHECK(models[0].installed.details.quantization_level == "4bit");
    CHECK(models[0].installed.size == 0); // v0 gives no size
    CHECK(models[1].max_context_length == 131072);
    CHECK(models[1].installed.details.family == "llama");
    CHECK(models[2].capabilities == std::vector<std::string>{"embedding"});
    for (const auto& m : models)
        CHECK(m.instances.empty());

    auto loaded = parse_models_v0(R"({"data":[{"id":"m","type":"llm","state":"loaded",
        "loaded_context_length":8192,"capabilities":["tool_use"]}]})");
    REQUIRE(loaded[0].instances.size() == 1);
    CHECK(loaded[0].instances[0].context_length == 8192);
    CHECK(loaded[0].capabilities == std::vector<std::string>{"completion", "tools"});
    CHECK_THROWS_AS(parse_models_v0(R"({"models":[]})"), Error);
}

TEST_CASE("POST /api/v1/models/load and unload: bodies and the documented answers") {
    CHECK(json::parse(load_body("openai/gpt-oss-20b", 16384)) ==
          json{{"model", "openai/gpt-oss-20b"}, {"context_length", 16384}});
    CHECK(json::parse(load_body("m", 0)) == json{{"model", "m"}});
    auto a = parse_load(R"({"type":"llm","instance_id":"openai/gpt-oss-20b",
        "load_time_seconds":9.099,"status":"loaded"})");
    CHECK(a.instance_id == "openai/gpt-oss-20b");
    CHECK(a.load_time_seconds == doctest::Approx(9.099));
    // The 0.4 beta's name for it.
    CHECK(parse_load(R"({"model_instance_id":"x","config":{"context_length":16384},
        "load_time_seconds":1})")
              .instance_id == "x");
    CHECK_THROWS_AS(parse_load(R"({"status":"loaded"})"), Error);
    CHECK(json::parse(unload_body("openai/gpt-oss-20b")) ==
          json{{"instance_id", "openai/gpt-oss-20b"}});
}

TEST_CASE("POST /api/v1/models/download: the documented answers, and odd ones") {
    using State = DownloadStatus::State;
    CHECK(json::parse(download_body("ibm/granite-4-micro")) ==
          json{{"model", "ibm/granite-4-micro"}});
    // lmstudio.ai/docs/developer/rest/download's example.
    auto d = parse_download(R"({"job_id": "job_493c7c9ded", "status": "downloading",
        "total_size_bytes": 2279145003, "downloaded_bytes": 948,
        "bytes_per_second": 7834.710743801653,
        "estimated_completion": "2025-10-07T00:21:47.030Z",
        "started_at": "2025-10-03T15:33:23.496Z"})");
    CHECK(d.state == State::Downloading);
    CHECK(d.job_id == "job_493c7c9ded");
    CHECK(d.total == 2279145003ULL);
    CHECK(d.downloaded == 948);
    CHECK(d.bytes_per_second == doctest::Approx(7834.71));
    // .../download-status's example.
    d = parse_download(R"({"job_id": "job_493c7c9ded", "status": "completed",
        "total_size_bytes": 2279145003, "downloaded_bytes": 2279145003,
        "started_at": "2025-10-03T15:33:23.496Z", "completed_at": "2025-10-03T15:43:12.102Z"})");
    CHECK(d.state == State::Completed);
    CHECK(d.downloaded == d.total);
    d = parse_download(R"({"status": "already_downloaded"})");
    CHECK(d.state == State::AlreadyDownloaded);
    CHECK(d.job_id.empty());
    CHECK(parse_download(R"({"job_id": "j1", "status": "paused"})").state == State::Paused);
    CHECK(parse_download(R"({"job_id": "j1", "status": "failed"})").state == State::Failed);
    // Hostile figures: clamped, never more downloaded than the total.
    d = parse_download(R"({"job_id": "j1", "status": "downloading", "total_size_bytes": 10,
        "downloaded_bytes": 1e300, "bytes_per_second": -5})");
    CHECK(d.downloaded == 10);
    CHECK(d.bytes_per_second == 0);
    // Not a status object, an unknown status, nothing to follow, an id that
    // does not belong in a URL path.
    for (std::string body :
         {"[]", "nonsense", R"({"status": "queued", "job_id": "j1"})",
          R"({"status": "downloading"})", R"({"status": "downloading", "job_id": "../../x"})",
          R"({"status": "downloading", "job_id": "a b"})"}) {
        CAPTURE(body);
        CHECK_THROWS_AS(parse_download(body), Error);
    }
}

TEST_CASE("POST /api/v1/chat: request and the documented answer's stats") {
    const GenerateRequest req{.model = "m",
                              .prompt = "hi",
                              .keep_alive = {},
                              .stream = false,
                              .num_ctx = 2048,
                              .num_predict = 1};
    auto body = json::parse(chat_body(req));
    CHECK(body["input"] == "hi");
    CHECK(body["stream"] == false);
    CHECK(body["store"] == false);
    CHECK(body["max_output_tokens"] == 1);
    CHECK(body["context_length"] == 2048);
    auto a = parse_chat(R"({"model_instance_id":"openai/gpt-oss-20b","output":[
        {"type":"reasoning","content":"Need to search."},
        {"type":"message","content":"Here is the page."}],
        "stats":{"input_tokens":359,"total_output_tokens":218,"reasoning_output_tokens":24,
                 "tokens_per_second":41.097718386623356,"time_to_first_token_seconds":1.367}})");
    CHECK(a.text == "Here is the page.");
    CHECK(a.metrics.prompt_eval_count == 359);
    CHECK(a.metrics.eval_count == 218);
    CHECK(a.metrics.tokens_per_second() == doctest::Approx(41.0977).epsilon(1e-4));
    CHECK(a.metrics.prompt_eval_duration == 1367000000);
}

TEST_CASE("LM Studio errors: both shapes, and the token never in a message") {
    CHECK(error_message(400, R"({"error":{"message":"Model not found","type":"x"}})") ==
          "Model not found");
    CHECK(error_message(400, R"({"error":"plain"})") == "plain");
    CHECK(error_message(502, "") == "HTTP 502");

    auto auth =
        map_error(401, R"({"error":"Invalid API token"})", "", "http://h:1234", "MY_TOKEN_VAR");
    CHECK(auth.kind() == ErrorKind::Unauthorized);
    CHECK(std::string(auth.what()).find("unauthorized (HTTP 401)") != std::string::npos);
    CHECK(auth.hint() ==
          "set MY_TOKEN_VAR to an API token from LM Studio's Developer > Server Settings");
    auto refused = map_error(401, R"({"error":"Invalid API token"})", "", "http://h:1234",
                             "MY_TOKEN_VAR", /*token_sent=*/true);
    CHECK(refused.hint() == "the token in $MY_TOKEN_VAR was sent and refused: check it against "
                            "LM Studio's Developer > Server Settings");
    CHECK(map_error(404, "", "m", "http://h:1234", "LM_API_TOKEN").kind() == ErrorKind::NotFound);
    CHECK(
        map_error(400, R"({"error":{"message":"Model \"m\" not found"}})", "m", "a", "T").kind() ==
        ErrorKind::NotFound);
    CHECK(map_error(404, "", "", "a", "T").kind() == ErrorKind::Protocol);
    CHECK(map_error(503, "", "", "a", "T").kind() == ErrorKind::Busy);
    CHECK(map_error(500, R"({"error":"failed to allocate buffer"})", "m", "a", "T").kind() ==
          ErrorKind::OutOfMemory);
}
