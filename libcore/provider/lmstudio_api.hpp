#pragma once
// LM Studio's native REST API as data: request bodies, tolerant response
// parsing and error mapping. Pure functions, tested on the examples of LM
// Studio's docs (lmstudio.ai/docs/developer/rest: list, load, unload, chat;
// the v0 "REST API (beta)" page for /api/v0/models).
//
// What LM Studio does not report, modelctl does not invent: a loaded
// instance's memory (only the model file's size_bytes is known, so the
// instance is marked size_reported = false and sized by its file) and its
// expiry (a model loaded by hand has none; a JIT-loaded one has an idle TTL
// the API does not show: expiry_reported = false).

#include "error.hpp"
#include "provider/provider.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace core::provider::lmstudio {

// One entry of GET /api/v1/models (or /api/v0/models), mapped onto the
// records Ollama's answers fill.
struct Model {
    InstalledModel installed;
    std::string type; // "llm", "vlm", "embedding"
    std::vector<std::string>
        capabilities; // Ollama's words: completion, vision, tools, thinking, embedding
    int max_context_length = 0;
    std::vector<LoadedModel> instances; // loaded instances (v0: one when state is "loaded")
};

// GET /api/v1/models: {"models": [{"key", "type", "size_bytes", "quantization":
// {"name"}, "params_string", "max_context_length", "capabilities": {"vision",
// "trained_for_tool_use", "reasoning"}, "loaded_instances": [{"id", "config":
// {"context_length"}}], ...}]}. Throws Error{Protocol} on another shape.
std::vector<Model> parse_models_v1(std::string_view body);

// GET /api/v0/models: {"data": [{"id", "type": "llm"|"vlm"|"embeddings",
// "arch", "quantization", "state": "loaded"|"not-loaded", "max_context_length",
// "loaded_context_length"?, "capabilities": ["tool_use"]?}]}. v0 gives no size.
std::vector<Model> parse_models_v0(std::string_view body);

// POST /api/v1/models/load: {"model": key, "context_length": n?}.
std::string load_body(const std::string& model, int context_length);
// The load answer's instance id ("instance_id"; older 0.4 betas said
// "model_instance_id") and load_time_seconds (0 when absent).
struct LoadAnswer {
    std::string instance_id;
    double load_time_seconds = 0;
};
LoadAnswer parse_load(std::string_view body);

// POST /api/v1/models/unload: {"instance_id": id}.
std::string unload_body(const std::string& instance_id);

// POST /api/v1/models/download: {"model": catalog identifier}.
std::string download_body(const std::string& model);
// A download job's status object, as POST /api/v1/models/download and GET
// /api/v1/models/download/status/:job_id answer it (lmstudio.ai/docs/
// developer/rest/download, download-status).
struct DownloadStatus {
    enum class State { Downloading, Paused, Completed, Failed, AlreadyDownloaded };
    State state = State::Downloading;
    std::string job_id;      // "" for AlreadyDownloaded
    uint64_t total = 0;      // total_size_bytes; 0 when not given
    uint64_t downloaded = 0; // downloaded_bytes, at most total when total is known
    double bytes_per_second = 0;
};
// Throws Error{Protocol} for another shape, an unknown status, or a job
// under way without a job_id (nothing to follow).
DownloadStatus parse_download(std::string_view body);

// POST /api/v1/chat, not streamed and not stored as a thread.
std::string chat_body(const GenerateRequest& request);
struct ChatAnswer {
    std::string text; // the "message" output items, joined
    GenerateMetrics metrics;
};
// stats: input_tokens, total_output_tokens, tokens_per_second and
// time_to_first_token_seconds become Ollama-style counts and nanosecond
// durations (eval_duration = output tokens / tokens_per_second;
// prompt_eval_duration = time to first token).
ChatAnswer parse_chat(std::string_view body);

// POST /v1/embeddings (OpenAI-compatible): {"data": [{"embedding": [...]}]}.
std::string embeddings_body(const std::string& model, const std::vector<std::string>& input);
EmbedResult parse_embeddings(std::string_view body);

// The message of an error answer: {"error": "..."} or {"error": {"message":
// "..."}} (the OpenAI-style shape), else the body, else "HTTP <status>".
std::string error_message(int status, std::string_view body);

// 401/403 -> Unauthorized naming the token's variable (never the token):
// with `token_sent`, that the token was refused, else to set it; 404 or a
// "not found" message about `model` -> NotFound, 503 -> Busy, out-of-memory
// text -> OutOfMemory, else Failed.
Error map_error(int status, std::string_view body, std::string_view model, std::string_view address,
                std::string_view token_env, bool token_sent = false);

} // namespace core::provider::lmstudio
