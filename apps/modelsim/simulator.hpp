#pragma once
// A simulated Ollama scheduler: which models are in memory, where, and until
// when. Faithful to the documented behaviour of Ollama's server/sched.go:
//  - a request for a model not in memory loads it; the load takes a start-up
//    time plus size / load bandwidth;
//  - a loaded model stays for its keep_alive after its last request (default
//    5m; negative = forever; 0 = unload now), then is unloaded;
//  - unloading is asynchronous: the model is listed as stopping (expires_at in
//    the past) until its runner has exited;
//  - at most max_loaded models (3 by default); when a model does not fit, idle
//    runners are evicted in ByDurationAndName order: shortest keep_alive
//    first, then by model file path;
//  - a model too big for the GPU alone is split between GPU and CPU; one too
//    big for both fails with Ollama's "model requires more system memory" error.
// Simulated durations are divided by `speed`; keep_alive runs in real time.
//
// With `lmstudio` set it is LM Studio's model manager instead
// (lmstudio.ai/docs/developer/core/ttl-and-auto-evict): names are model keys,
// taken as they are; a model loaded by request (load) stays until unloaded and
// is never evicted; a model loaded on demand by a chat or embedding request
// (JIT) gets an idle TTL (default 60m) and, with auto-evict, replaces the
// other JIT-loaded models; a model that does not fit beside the others is
// split GPU/CPU if it can be, else refused; there is no count limit. One
// simplification: LM Studio would load a second instance ("key:2") of a model
// loaded again with another context length; modelsim replaces the first.

#include "library.hpp"
#include "provider/ollama_api.hpp"
#include "util/timestamp.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace modelsim {

using Ns = std::chrono::nanoseconds;
namespace util = core::util;

struct SimConfig {
    uint64_t vram = 24'000'000'000ULL; // GPU memory; 0 = no GPU
    uint64_t ram = 64'000'000'000ULL;  // system memory models may use
    int max_loaded = 3;                // OLLAMA_MAX_LOADED_MODELS
    double startup_seconds = 1.0;      // runner start-up (as shared/traces/catalog.csv)
    double load_bandwidth = 2e9;       // bytes/s read from disk into memory
    double unload_seconds = 0.5;       // runner shutdown after an unload
    double gpu_bandwidth = 400e9;      // bytes/s: decode speed is memory-bound
    double cpu_bandwidth = 50e9;
    double pull_bandwidth = 1e9; // bytes/s a pull downloads
    double speed = 1.0;          // divides every simulated duration
    Ns default_keep_alive = std::chrono::duration_cast<Ns>(
        core::provider::ollama::kDefaultKeepAlive); // OLLAMA_KEEP_ALIVE
    int default_num_ctx = 4096;
    unsigned seed = 1;
    int min_tokens = 24;        // the shortest answer a model gives on its own (num_predict aside)
    int utc_offset_minutes = 0; // timestamps are written with this offset, as Go writes local time
    bool lmstudio = false;      // LM Studio's rules instead of Ollama's (see above)
};

struct GenerateParams {
    std::string model;
    std::string prompt;
    std::optional<Ns> keep_alive; // unset: the server default; negative: forever
    int num_ctx = 0;              // 0: the server default
    int num_predict = -1;         // -1: until the simulated answer ends
};

// One generation in flight: the model is loaded and referenced until finish().
struct Session {
    std::string model;
    Ns load_duration{0};
    int prompt_tokens = 0;
    Ns prompt_eval_duration{0};
    std::vector<std::string> tokens;
    Ns per_token{0};
    bool truncated_by_limit = false;
    std::chrono::steady_clock::time_point started;
    std::optional<Ns> keep_alive;
};

class Simulator {
public:
    // The models on disk are `library`'s, which must outlive the simulator.
    Simulator(Library& library, SimConfig config);

    nlohmann::json version() const;
    nlohmann::json tags() const;
    nlohmann::json ps();
    nlohmann::json show(const std::string& model) const; // throws ApiError

    // An empty prompt with keep_alive 0: unload. Returns done_reason "unload".
    // An empty prompt otherwise: load and return done_reason "load".
    nlohmann::json load_or_unload(const GenerateParams& p);

    // Whether the model can generate text (an embedding model cannot).
    bool can_generate(const std::string& model) const;
    // Loads the model if needed and embeds each input (none: only loads);
    // /api/embed's answer.
    nlohmann::json embed(const GenerateParams& p, const std::vector<std::string>& input);

    // Loads the model if needed (blocking for the load) and plans the answer.
    Session begin(const GenerateParams& p);
    // Releases the model and starts its keep_alive clock; returns the final
    // line's fields (metrics in nanoseconds).
    nlohmann::json finish(const Session& s, const std::string& done_reason);

    // LM Studio: GET /api/v1/models ({"models": [...]}) or, with v1 false,
    // GET /api/v0/models ({"object": "list", "data": [...]}).
    nlohmann::json lms_models(bool v1);
    // LM Studio: POST /api/v1/models/load's answer, once the model is loaded.
    nlohmann::json lms_load(const std::string& model, int context_length);
    // LM Studio: POST /api/v1/models/unload's answer, once the instance is gone.
    nlohmann::json lms_unload(const std::string& instance_id);

    // GET /modelsim/stats: cumulative since start; load_seconds in simulated
    // seconds (before --speed).
    struct Stats {
        uint64_t requests = 0;
        uint64_t loads = 0;
        double load_seconds = 0;
        uint64_t evictions = 0;
        uint64_t downloads = 0; // LM Studio download jobs started
    };
    Stats stats();
    void count_request();
    void count_download();

    std::string timestamp(util::Timestamp t) const;
    const SimConfig& config() const { return config_; }
    Library& library() { return library_; }
    Ns scaled(double seconds) const;

private:
    struct Runner {
        ModelPtr model; // as it was loaded: a pull or delete meanwhile leaves it be
        uint64_t size = 0;
        uint64_t size_vram = 0;
        int num_ctx = 0;
        Ns session{0}; // keep_alive; Ns::max() for forever
        util::Timestamp expires_at{};
        util::Timestamp ready_at{};
        std::optional<util::Timestamp> gone_at; // set once stopping
        int refs = 0;
        bool jit = false; // LM Studio: loaded on demand by a request
        std::string path() const { return "/models/blobs/sha256-" + model->digest; }
    };

    void reap(util::Timestamp now); // expiry and finished unloads
    // Loads `m` if needed; `jit`: on behalf of a request (LM Studio's JIT
    // loading) rather than an explicit load.
    Runner& acquire(const ModelPtr& model, int num_ctx, std::unique_lock<std::mutex>& lock,
                    Ns& load_duration, bool jit = true);
    void stop(Runner& r, util::Timestamp now);
    void set_expiry(Runner& r, std::optional<Ns> keep_alive, util::Timestamp now);

    // A runner's key: the model's name as the server lists it.
    std::string key(const std::string& name) const {
        return config_.lmstudio ? name : normalize(name);
    }

    Library& library_;
    SimConfig config_;
    std::mutex mu_;
    std::condition_variable changed_;
    std::map<std::string, Runner> runners_; // by model name
    Stats stats_;
    std::mt19937 rng_;
};

} // namespace modelsim
