#pragma once
// The Ollama server behind the Provider interface.
//
// Endpoints used: GET /api/version, /api/tags, /api/ps; POST /api/show,
// /api/pull, /api/copy, DELETE /api/delete,
// /api/generate (an empty prompt loads a model; keep_alive 0 unloads it) and
// /api/embed (an empty input loads an embedding model, which /api/generate
// refuses).
// A 503 (the server's request queue is full) is retried with bounded
// exponential backoff and jitter; every other error is mapped once.

#include "http/client.hpp"
#include "provider/provider.hpp"

#include <chrono>
#include <random>

namespace core::provider {

struct OllamaOptions {
    http::Timeouts timeouts;
    std::string token; // sent as a bearer token when not empty (a server behind a proxy)
    std::string unreachable_hint =
        "is the server running? Set the address with --host or OLLAMA_HOST";
    int busy_retries = 4;                         // extra attempts after a 503
    std::chrono::milliseconds backoff_base{250};  // first wait, doubled each time
    std::chrono::milliseconds backoff_cap{4000};  // longest single wait
    std::chrono::milliseconds unload_wait{60000}; // how long unload() waits
    unsigned seed = std::random_device{}();       // jitter
};

class Ollama : public Provider {
public:
    Ollama(http::Endpoint endpoint, OllamaOptions options);

    std::string kind() const override { return "ollama"; }
    std::string address() const override { return client_.endpoint().url(); }
    std::string canonical(std::string_view name) const override;
    std::string version() override;
    std::vector<InstalledModel> installed() override;
    std::vector<LoadedModel> loaded() override;
    ModelInfo show(const std::string& model) override;
    void load(const std::string& model, const LoadSettings& settings) override;
    EmbedResult embed(const std::string& model, const std::vector<std::string>& input,
                      const LoadSettings& settings) override;
    void unload(const std::string& model) override;
    GenerateMetrics generate(const GenerateRequest& request,
                             const std::function<void(std::string_view)>& on_text) override;
    void pull(const std::string& model,
              const std::function<bool(const PullProgress&)>& on_progress) override;
    void copy(const std::string& source, const std::string& destination) override;
    void remove(const std::string& model) override;

private:
    // Sends with the 503 retry policy; throws the mapped error on any other
    // non-2xx status. `model` names the model for error messages.
    http::Response call(const char* method, const std::string& path, const std::string& body,
                        const std::string& model);
    void backoff(int attempt);

    http::Client client_;
    OllamaOptions options_;
    std::mt19937 rng_;
};

} // namespace core::provider
