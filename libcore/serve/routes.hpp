#pragma once
// What a request through `modelctl serve` is: which API it speaks, whether it
// makes the server load a model (Ollama's server/routes.go: generate, chat,
// embed, embeddings and the OpenAI-compatible routes do; show, pull, tags do
// not), and what its body asks for. Pure functions of the request.

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace core::serve {

enum class Api {
    Ollama, // /api/*: errors as {"error": "..."}, streams NDJSON
    OpenAI, // /v1/* and LM Studio's /api/v0|v1/*: errors as {"error": {"message", "type", ...}},
            // streams SSE
};

enum class Kind {
    Generate,
    Chat,
    Embed,
    Embeddings,
    Completions,
    ChatCompletions,
    Responses,
    OpenAIEmbeddings,
    LmsChat, // LM Studio's POST /api/v1/chat
};

struct Route {
    Api api = Api::Ollama;
    std::optional<Kind> kind; // set for the routes that load a model
    bool model_route() const { return kind.has_value(); }
};

// The route of `method` and `path` (the target without its query).
Route classify(std::string_view method, std::string_view path);

// The target's path: up to '?' or '#'.
std::string_view path_of(std::string_view target);

// What a model route's body asks for, read from the client's JSON.
struct Ask {
    std::string model;
    bool stream = false;
    // Ollama: an empty prompt (or no messages) with keep_alive 0 unloads
    // the model (docs/api.md); nothing is generated.
    bool unload = false;
    bool has_num_ctx = false;
    std::string task; // what the body shows: "embedding", "tools", "vision", "chat", or ""
};

// nullopt when the body is not a JSON object naming a model (the server then
// answers the client's mistake itself).
std::optional<Ask> read_ask(const Route& route, const nlohmann::json& body);

// The error answer a client of `api` expects: Ollama {"error": message};
// OpenAI's envelope {"error": {"message", "type", "param", "code"}}.
std::string error_body(Api api, int status, std::string_view message);

} // namespace core::serve
