#include "http/client.hpp"
#include "provider/ollama_api.hpp"
#include "scratch.hpp"

#include <doctest/doctest.h>

using namespace core;
using namespace core::provider;
using namespace core::provider::ollama;

TEST_CASE("/api/ps: the documented example and a tolerant second entry") {
    auto models = parse_ps(fixture("ollama-ps.json"));
    REQUIRE(models.size() == 2);
    CHECK(models[0].name == "mistral:latest");
    CHECK(models[0].size == 5137025024ULL);
    CHECK(models[0].size_vram == 5137025024ULL);
    CHECK(models[0].context_length == 0); // missing in the example: tolerated
    CHECK(models[0].details.quantization_level == "Q4_0");
    REQUIRE(models[0].expires_at);
    CHECK(util::format_rfc3339(*models[0].expires_at) == "2024-06-04T21:38:31.837530Z");
    CHECK(models[1].context_length == 8192);
    CHECK(models[1].details.family.empty()); // no details: tolerated
    CHECK(classify_expiry(models[1].expires_at, util::now()) == Expiry::Forever);
    CHECK(classify_expiry(models[0].expires_at, util::now()) == Expiry::Stopping);
}

TEST_CASE("/api/ps: empty and odd answers") {
    CHECK(parse_ps(R"({"models":[]})").empty());
    CHECK(parse_ps(R"({"models":null})").empty());
    CHECK(parse_ps(R"({})").empty());
    CHECK_THROWS_AS(parse_ps("not json"), Error);
    CHECK_THROWS_AS(parse_ps(R"({"models":3})"), Error);
    try {
        parse_ps("<html>");
    } catch (const Error& e) {
        CHECK(e.kind() == ErrorKind::Protocol);
    }
}

TEST_CASE("/api/tags: the documented example") {
    auto models = parse_tags(fixture("ollama-tags.json"));
    REQUIRE(models.size() == 2);
    CHECK(models[0].name == "deepseek-r1:latest");
    CHECK(models[0].size == 4683075271ULL);
    CHECK(models[0].details.parameter_size == "7.6B");
    CHECK(models[1].details.families == std::vector<std::string>{"llama"});
    REQUIRE(models[1].modified_at);
}

TEST_CASE("/api/show: details, capabilities and model_info") {
    auto info = parse_show("llava", fixture("ollama-show.json"));
    CHECK(info.capabilities == std::vector<std::string>{"completion", "vision"});
    CHECK(info.details.parameter_size == "8.0B");
    CHECK(info.model_info["llama.block_count"] == 32);
    CHECK(info.model_info["llama.attention.head_count_kv"] == 8);
    CHECK(parse_show("x", "{}").capabilities.empty());
}

TEST_CASE("generate: stream lines, final metrics, and missing metrics read 0") {
    core::http::LineSplitter lines;
    std::string text;
    GenerateMetrics m;
    auto stream = fixture("ollama-generate-stream.ndjson");
    // Feed in awkward pieces, as a network would.
    for (size_t i = 0; i < stream.size(); i += 7)
        lines.feed(std::string_view(stream).substr(i, 7), [&](std::string_view line) {
            auto c = parse_generate_line(line, "llama3.2");
            text += c.response;
            if (c.done)
                m = c.metrics;
        });
    CHECK(text == "The sky");
    CHECK(m.total_duration == 10706818083);
    CHECK(m.load_duration == 6338219291);
    CHECK(m.prompt_eval_count == 26);
    CHECK(m.eval_count == 259);
    CHECK(m.eval_duration == 4232710000);
    CHECK(m.done_reason.empty());

    auto load = parse_generate_line(
        R"({"model":"llama3.2","created_at":"2023-12-18T19:52:07.071755Z","response":"","done":true,"done_reason":"load"})",
        "llama3.2");
    CHECK(load.done);
    CHECK(load.metrics.done_reason == "load");
    CHECK(load.metrics.eval_count == 0);
}

TEST_CASE("generate: an error line mid-stream becomes a clear error") {
    core::http::LineSplitter lines;
    std::string text;
    auto stream = fixture("ollama-generate-stream-error.ndjson");
    try {
        lines.feed(stream, [&](std::string_view line) {
            text += parse_generate_line(line, "llama3.2").response;
        });
        FAIL("no error thrown");
    } catch (const Error& e) {
        CHECK(e.kind() == ErrorKind::Failed);
        CHECK(std::string(e.what()).find("unexpected EOF") != std::string::npos);
    }
    CHECK(text == "The");
    CHECK_THROWS_AS(parse_generate_line(R"({"error":"CUDA error: out of memory"})", "m"), Error);
    try {
        parse_generate_line(R"({"error":"CUDA error: out of memory"})", "m");
    } catch (const Error& e) {
        CHECK(e.kind() == ErrorKind::OutOfMemory);
    }
    CHECK_THROWS_AS(parse_generate_line(R"({"response":"tru)", "m"), Error);
}

TEST_CASE("keep_alive goes out as a number, never a unitless string") {
    GenerateRequest r{"llama3.2", "", util::KeepAlive{false, util::Seconds(600)}, false};
    auto j = nlohmann::json::parse(generate_body(r));
    CHECK(j["keep_alive"].is_number_integer());
    CHECK(j["keep_alive"] == 600);
    CHECK(j["stream"] == false);
    r.keep_alive = util::KeepAlive{true, util::Seconds(0)};
    CHECK(nlohmann::json::parse(generate_body(r))["keep_alive"] == -1);
    r.keep_alive = util::KeepAlive{false, util::Seconds(0)};
    CHECK(nlohmann::json::parse(generate_body(r))["keep_alive"] == 0);
    r.keep_alive = util::KeepAlive{false, util::Seconds(1.5)};
    CHECK(nlohmann::json::parse(generate_body(r))["keep_alive"] == 1.5);
    r.keep_alive.reset();
    CHECK_FALSE(nlohmann::json::parse(generate_body(r)).contains("keep_alive"));
}

TEST_CASE("error statuses map to kinds, messages and hints") {
    auto nf = map_error(404, R"({"error":"model 'nope' not found"})", "nope", "http://h:1");
    CHECK(nf.kind() == ErrorKind::NotFound);
    CHECK(std::string(nf.what()).find("'nope' is not installed") != std::string::npos);
    CHECK(nf.hint() == "pull it first: modelctl pull nope");
    CHECK(map_error(404, "404 page not found", "", "x").kind() == ErrorKind::Protocol);
    CHECK(map_error(
              503,
              R"({"error":"server busy, please try again.  maximum pending requests exceeded"})",
              "m", "")
              .kind() == ErrorKind::Busy);
    auto oom = map_error(
        500,
        R"J({"error":"model requires more system memory (47.1 GiB) than is available (30.2 GiB)"})J",
        "llama3.3:70b", "");
    CHECK(oom.kind() == ErrorKind::OutOfMemory);
    CHECK(std::string(oom.what()).find("47.1 GiB") != std::string::npos);
    CHECK(
        map_error(500, R"({"error":"llama runner process has terminated: exit status 2"})", "m", "")
            .kind() == ErrorKind::Failed);
    auto bad = map_error(400, R"({"error":"time: missing unit in duration \"300\""})", "m", "");
    CHECK(bad.kind() == ErrorKind::Failed);
    CHECK(std::string(bad.what()).find("missing unit") != std::string::npos);
    CHECK(error_message(502, "") == "HTTP 502");
    CHECK(error_message(502, "<html>\nBad gateway\n</html>") == "<html> Bad gateway </html>");
}

TEST_CASE("model names normalize to a tag") {
    CHECK(normalize_name("llama3.2") == "llama3.2:latest");
    CHECK(normalize_name("llama3.2:3b") == "llama3.2:3b");
    CHECK(normalize_name("registry:5000/ns/model") == "registry:5000/ns/model:latest");
    CHECK(same_model("mistral", "mistral:latest"));
    CHECK_FALSE(same_model("mistral:7b", "mistral:latest"));
}

TEST_CASE("processor split as ollama ps prints it") {
    CHECK(processor_label(100, 100) == "100% GPU");
    CHECK(processor_label(100, 0) == "100% CPU");
    CHECK(processor_label(48'000'000'000ULL, 12'000'000'000ULL) == "75%/25% CPU/GPU");
    CHECK(processor_label(3, 1) == "67%/33% CPU/GPU");
    CHECK(processor_label(100, 200) == "Unknown");
    CHECK(processor_label(0, 0) == "100% CPU"); // size_vram == 0 is tested first
}

TEST_CASE("expiry classes") {
    using namespace std::chrono;
    auto now = util::now();
    CHECK(classify_expiry(std::nullopt, now) == Expiry::Never);
    CHECK(classify_expiry(util::parse_rfc3339("0001-01-01T00:00:00Z"), now) == Expiry::Never);
    CHECK(classify_expiry(now + minutes(4), now) == Expiry::At);
    CHECK(classify_expiry(now - seconds(1), now) == Expiry::Stopping);
    CHECK(classify_expiry(now + duration_cast<microseconds>(years(21)), now) == Expiry::Forever);
}

TEST_CASE("/api/pull lines: docs/api.md's examples, and errors mid-stream") {
    auto manifest = parse_pull_line(R"({"status": "pulling manifest"})", "llama3.2");
    CHECK(manifest.status == "pulling manifest");
    CHECK(manifest.total == 0);
    // "Until any of the download is completed, the completed key may not be included."
    auto first = parse_pull_line(
        R"({"status": "downloading digestname", "digest": "digestname", "total": 2142590208})",
        "llama3.2");
    CHECK(first.digest == "digestname");
    CHECK(first.total == 2142590208ULL);
    CHECK(first.completed == 0);
    auto later = parse_pull_line(R"({"status": "downloading digestname", "digest": "digestname",
                                     "total": 2142590208, "completed": 241970})",
                                 "llama3.2");
    CHECK(later.completed == 241970);
    CHECK(parse_pull_line(R"({"status": "success"})", "llama3.2").status == "success");
    CHECK_THROWS_AS(parse_pull_line("{\"status\": \"pull", "llama3.2"), Error);

    auto kind_of = [](const char* line) {
        try {
            parse_pull_line(line, "nosuch:1b", "http://127.0.0.1:11434");
        } catch (const Error& e) {
            return e.kind();
        }
        return ErrorKind::Protocol;
    };
    // server/images.go PullModel: the registry's 404 for the manifest.
    CHECK(kind_of(R"({"error":"pull model manifest: file does not exist"})") ==
          ErrorKind::NotFound);
    CHECK(kind_of(R"({"error":"max retries exceeded: unexpected EOF"})") == ErrorKind::Failed);
    Error disk = pull_error("write /x/blobs/sha256-1-partial: no space left on device", "m:1b",
                            "http://h:1");
    CHECK(disk.kind() == ErrorKind::Failed);
    CHECK(std::string(disk.what()).find("ran out of disk space") != std::string::npos);
    CHECK(disk.hint().find("gc --versions") != std::string::npos);
}

TEST_CASE("line splitter: the last line needs no newline; a line past the cap is an error") {
    core::http::LineSplitter lines("test", 16);
    std::vector<std::string> got;
    auto take = [&](std::string_view l) { got.emplace_back(l); };
    lines.feed("a\r\n\nbb", take);
    lines.feed("b\nccc", take);
    CHECK(got == std::vector<std::string>{"a", "bbb"});
    lines.finish(take);
    CHECK(got.back() == "ccc");
    CHECK_THROWS_AS(lines.feed(std::string(17, 'x'), take), Error);
    core::http::LineSplitter more("test", 16);
    CHECK_THROWS_AS(more.feed(std::string(20, 'x') + "\n", take), Error);
    // Many small pieces of one long line cost linear time: only new bytes
    // are scanned (a quadratic rescan made 1 MB of one-byte chunks take minutes).
    core::http::LineSplitter big("test");
    std::string piece(1, 'y');
    for (int i = 0; i < 1000000; ++i)
        big.feed(piece, take);
    big.feed("\n", take);
    CHECK(got.back().size() == 1000000);
}
