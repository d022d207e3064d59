#pragma once
// Ollama's HTTP API as data: request bodies, tolerant response parsing and
// error mapping. Pure functions, tested on the examples of Ollama's docs/api.md.
//
// Tolerance, as the API docs require: every metric may be missing (= 0),
// context_length and done_reason may be missing, timestamps are RFC 3339 with
// up to nine fractional digits and an offset.

#include "error.hpp"
#include "provider/provider.hpp"
#include "util/duration.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace core::provider::ollama {

// How long Ollama keeps a model loaded after a request that gives no
// keep_alive: OLLAMA_KEEP_ALIVE's default, five minutes (docs/faq.md "How do
// I keep a model loaded in memory?"). It sets expires_at = the end of the
// request + keep_alive (server/sched.go).
inline constexpr util::Seconds kDefaultKeepAlive{300};

// "llama3.2" -> "llama3.2:latest"; names with a tag are kept.
std::string normalize_name(std::string_view name);
// True when two model names denote the same model after normalization.
bool same_model(std::string_view a, std::string_view b);

// Throws Error{Protocol} when the body is not the JSON shape expected.
std::string parse_version(std::string_view body);
std::vector<InstalledModel> parse_tags(std::string_view body);
std::vector<LoadedModel> parse_ps(std::string_view body);
ModelInfo parse_show(std::string_view name, std::string_view body);

// {"model": m, "prompt": p, "stream": s, "keep_alive": k}; keep_alive is a JSON
// number of seconds (negative: forever), never a unitless string, which Ollama
// rejects with "time: missing unit in duration".
std::string generate_body(const GenerateRequest& request);

// One line of a /api/generate answer (a whole non-streamed body, or one NDJSON
// line of a stream). An {"error": "..."} line throws Error.
struct GenerateChunk {
    std::string response;
    bool done = false;
    GenerateMetrics metrics; // filled on the final (done) chunk
};
GenerateChunk parse_generate_line(std::string_view line, std::string_view model);

// One line of a /api/pull stream. An {"error": "..."} line throws the
// mapped Error: pull_error().
PullProgress parse_pull_line(std::string_view line, std::string_view model,
                             std::string_view address = {});
// What a pull's error message means: "pull model manifest: file does not
// exist" -> NotFound (no such model in the registry), no space left ->
// Failed with a hint about the server's disk, else Failed.
Error pull_error(const std::string& message, std::string_view model, std::string_view address);

// The message in an {"error": "..."} body, else the body itself (trimmed and
// shortened), else "HTTP <status>".
std::string error_message(int status, std::string_view body);

// Maps an HTTP error status from Ollama to an Error: 404 -> NotFound (the model
// is not installed), 503 -> Busy, 500 with out-of-memory text -> OutOfMemory,
// anything else -> Failed. `model` may be empty for calls about no model.
Error map_error(int status, std::string_view body, std::string_view model,
                std::string_view address);

} // namespace core::provider::ollama
