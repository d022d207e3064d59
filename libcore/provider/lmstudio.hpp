#pragma once
// The LM Studio server behind the Provider interface, through its native REST
// API (lmstudio.ai/docs/developer/rest).
//
// Endpoints used: GET /api/v1/models (installed models with their loaded
// instances), POST /api/v1/models/load and /api/v1/models/unload (by
// instance id: unloading a model unloads every instance of it), POST
// /api/v1/chat (one answer, not kept as a thread), POST
// /api/v1/models/download with GET /api/v1/models/download/status/:job_id,
// and the OpenAI-compatible POST /v1/embeddings. A server older than 0.4
// answers 404 to /api/v1/models; it is then listed through GET
// /api/v0/models, and loads, unloads and downloads are refused with a clear
// error (the v0 API has no way to do them).
//
// LM Studio applies its idle TTL only to models loaded on demand (JIT); a
// model loaded through the API stays until someone unloads it, so a
// keep-alive cannot be given here and is ignored. Its API reports neither the
// memory a loaded instance holds nor when it would expire: see lmstudio_api.hpp.

#include "http/client.hpp"
#include "provider/lmstudio_api.hpp"
#include "provider/provider.hpp"

#include <chrono>
#include <optional>

namespace core::provider {

struct LmStudioOptions {
    http::Timeouts timeouts;
    std::string token;                      // sent as a bearer token when not empty
    std::string token_env = "LM_API_TOKEN"; // named in hints, never its value
    // Before the first request (and so before the token goes anywhere),
    // check that the server answers LM Studio's greeting; one that does not
    // is Error{Unreachable}: for a guessed address (the default port).
    bool greet_first = false;
};

class LmStudio : public Provider {
public:
    LmStudio(http::Endpoint endpoint, LmStudioOptions options);

    // Whether the server at `endpoint` answers LM Studio's unauthenticated
    // greeting (GET /lmstudio-greeting: {"lmstudio": true}), as lms checks
    // before it talks to a server (lms src/createClient.ts). Sends no token:
    // a port that may hold anything learns no secret. Throws Error{Unreachable}
    // when nothing answers.
    static bool greets(const http::Endpoint& endpoint, const http::Timeouts& timeouts);

    std::string kind() const override { return "lmstudio"; }
    std::string address() const override { return client_.endpoint().url(); }
    // "REST API v1", or "REST API v0" for a server older than 0.4 (LM Studio
    // has no version endpoint).
    std::string version() override;
    std::vector<InstalledModel> installed() override;
    std::vector<LoadedModel> loaded() override;
    ModelInfo show(const std::string& model) override;
    // Loads one instance at settings.num_ctx; a model loaded already at that
    // context (or any, when num_ctx is 0) is left as it is, one loaded at
    // another context is unloaded first.
    void load(const std::string& model, const LoadSettings& settings) override;
    EmbedResult embed(const std::string& model, const std::vector<std::string>& input,
                      const LoadSettings& settings) override;
    void unload(const std::string& model) override;
    // One answer, handed to on_text whole (the v1 chat endpoint is not
    // streamed here): time to first token as a client sees it is the total.
    GenerateMetrics generate(const GenerateRequest& request,
                             const std::function<void(std::string_view)>& on_text) override;
    // Downloads `model` (a catalog identifier, as `lms get` takes it) through
    // POST /api/v1/models/download, following the job every 250 ms until it
    // completes. A paused or failed job throws Error{Failed}. on_progress
    // returning false stops following it (Error{Interrupted}); LM Studio
    // goes on downloading, as its API cannot cancel.
    void pull(const std::string& model,
              const std::function<bool(const PullProgress&)>& on_progress) override;

private:
    std::vector<lmstudio::Model> list();
    // Throws unless list() found the v1 API (loads, unloads and downloads
    // need it); `hint` says what to do instead.
    void require_v1(const std::string& what, const std::string& hint) const;
    void greet(); // LmStudioOptions::greet_first
    http::Response call(const char* method, const std::string& path, const std::string& body,
                        const std::string& model);

    http::Client client_;
    bool greeted_ = false;
    LmStudioOptions options_;
    std::optional<bool> v1_; // known after the first listing
};

} // namespace core::provider
