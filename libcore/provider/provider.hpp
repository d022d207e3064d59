#pragma once
// What modelctl needs from a model server, whichever server it is.

#include "model/details.hpp"
#include "util/duration.hpp"
#include "util/timestamp.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace core::provider {

// As the server reports them (model/details.hpp).
using ModelDetails = model::Details;

struct InstalledModel {
    std::string name;
    std::string digest;
    uint64_t size = 0;
    std::optional<util::Timestamp> modified_at;
    ModelDetails details;
};

struct LoadedModel {
    std::string name;
    std::string digest;
    uint64_t size = 0;      // bytes in memory, GPU and CPU together
    uint64_t size_vram = 0; // bytes of that in GPU memory
    int context_length = 0; // 0 when the server did not say
    std::optional<util::Timestamp> expires_at;
    ModelDetails details;
    // The server's id of this loaded copy (LM Studio may load a model more
    // than once: "key", "key:2"); "" where the server has one copy per name.
    std::string instance_id;
    // false: the server does not say what the model holds in memory; `size`
    // is then its file's size, an estimate, and size_vram is 0.
    bool size_reported = true;
    // false: the server does not say when it will unload the model.
    bool expiry_reported = true;
};

struct ModelInfo {
    std::string name;
    ModelDetails details;
    std::vector<std::string> capabilities;
    nlohmann::json model_info = nlohmann::json::object(); // architecture keys, may be empty
    std::optional<util::Timestamp> modified_at;
};

// Timings and counts of one generation. Every field may be missing in a
// server's answer, and then reads 0. Durations are in nanoseconds.
struct GenerateMetrics {
    int64_t total_duration = 0;
    int64_t load_duration = 0;
    int64_t prompt_eval_count = 0;
    int64_t prompt_eval_duration = 0;
    int64_t eval_count = 0;
    int64_t eval_duration = 0;
    std::string done_reason;

    // count / duration, 0 when the server gave no duration.
    double tokens_per_second() const { return per_second(eval_count, eval_duration); }
    double prompt_tokens_per_second() const {
        return per_second(prompt_eval_count, prompt_eval_duration);
    }

private:
    static double per_second(int64_t count, int64_t ns) {
        return ns > 0 ? static_cast<double>(count) / (static_cast<double>(ns) / 1e9) : 0;
    }
};

struct GenerateRequest {
    std::string model;
    std::string prompt;
    std::optional<util::KeepAlive> keep_alive;
    bool stream = true;
    int num_ctx = 0;      // options.num_ctx; 0: the server's default
    int num_predict = -1; // options.num_predict, most tokens to generate; -1: no limit
    // Further sampling options as Ollama's "options" names them (temperature,
    // seed, top_p, ...); num_ctx and num_predict above win. LM Studio takes
    // temperature and top_p of them.
    nlohmann::json options = nlohmann::json::object();
};

// How to load: keep_alive unset is the server's default, num_ctx 0 too.
struct LoadSettings {
    std::optional<util::KeepAlive> keep_alive;
    int num_ctx = 0;
};

// What /api/embed answered. Durations in nanoseconds, 0 when not given.
struct EmbedResult {
    size_t vectors = 0;
    size_t dimensions = 0; // of the first vector
    int64_t total_duration = 0;
    int64_t load_duration = 0;
    int64_t prompt_eval_count = 0;
};

// One line of a pull's progress (docs/api.md "Pull a Model").
struct PullProgress {
    std::string status;     // "pulling manifest", "pulling 8eeb52dfb3bb", "writing manifest", ...
    std::string digest;     // the layer being downloaded; "" on other lines
    uint64_t total = 0;     // its size
    uint64_t completed = 0; // bytes of it on disk so far
};

class Provider {
public:
    virtual ~Provider() = default;

    virtual std::string kind() const = 0; // "ollama", "lmstudio"
    virtual std::string address() const = 0;
    // The name the server knows a model by, as the store and the policy key
    // it (Ollama: "llama3.2" -> "llama3.2:latest"; LM Studio: the key as is).
    virtual std::string canonical(std::string_view name) const { return std::string(name); }
    bool same_model(std::string_view a, std::string_view b) const {
        return canonical(a) == canonical(b);
    }
    virtual std::string version() = 0;
    virtual std::vector<InstalledModel> installed() = 0;
    virtual std::vector<LoadedModel> loaded() = 0;
    virtual ModelInfo show(const std::string& model) = 0;
    // Returns once the model is in memory.
    virtual void load(const std::string& model, const LoadSettings& settings) = 0;
    // Embeds each input (none: only loads the model).
    virtual EmbedResult embed(const std::string& model, const std::vector<std::string>& input,
                              const LoadSettings& settings) = 0;
    // Returns once the model is out of memory (the server unloads asynchronously).
    virtual void unload(const std::string& model) = 0;
    // Generates, handing each piece of text to on_text as it arrives.
    virtual GenerateMetrics generate(const GenerateRequest& request,
                                     const std::function<void(std::string_view)>& on_text) = 0;

    // Model files, where the server's API manages them: Ollama all three, LM
    // Studio pull only; the others throw Error{Usage}.
    // Downloads the model's newest version, handing each progress line to
    // on_progress; returns once the server has written it. on_progress
    // returning false stops the pull (Ollama cancels it with the request; LM
    // Studio cannot cancel and goes on alone), and pull throws
    // Error{Interrupted}. A server error, at the start or mid-stream, throws
    // its mapped Error.
    virtual void pull(const std::string& model,
                      const std::function<bool(const PullProgress&)>& on_progress);
    // Writes the source's manifest under `destination` (replacing what was there).
    virtual void copy(const std::string& source, const std::string& destination);
    // Removes the name; the server drops files no other name uses.
    virtual void remove(const std::string& model);
};

// A model's name as a server of `kind` ("ollama", "lmstudio") knows it, by
// that server's rule alone (Provider::canonical without a connection): the
// one identity of a model on an endpoint, used for the store, the config
// file's per-model keys and the policy.
std::string canonical_name(std::string_view kind, std::string_view name);

// Where a loaded model lives, as `ollama ps` prints it: "100% GPU", "100% CPU",
// "25%/75% CPU/GPU", or "Unknown" when the sizes make no sense.
std::string processor_label(uint64_t size, uint64_t size_vram);

// When a loaded model will be unloaded.
enum class Expiry {
    Never,    // no expiry given (Go's zero time)
    Forever,  // more than 20 years ahead: loaded with a negative keep_alive
    Stopping, // in the past: the server is unloading it
    At,       // a time in the future
};
Expiry classify_expiry(const std::optional<util::Timestamp>& expires_at, util::Timestamp now);

} // namespace core::provider
