#pragma once
// The bridge between what the server and the store say and the pure policy:
// memory estimates, each model's effective settings (config and store), and
// loaded models as the policy sees them.

#include "config/config.hpp"
#include "error.hpp"
#include "policy/policy.hpp"
#include "provider/provider.hpp"
#include "store/store.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <set>
#include <string>
#include <vector>

namespace core::operations {

// Ollama's KV cache at num_ctx, from /api/show model_info:
// 2 (K and V) x block_count x head_count_kv x (embedding_length / head_count)
// x num_ctx x 2 bytes (f16). head_count_kv may be a per-layer array: the
// largest counts. 0 when model_info lacks the keys.
uint64_t kv_cache_bytes(const nlohmann::json& model_info, int num_ctx);

// A whole number of the model's architecture in /api/show's model_info
// ("<general.architecture>.<key>", e.g. context_length), bounded as every
// number from a server is (at most 10^7); nullopt when absent or not one.
std::optional<uint64_t> architecture_number(const nlohmann::json& model_info,
                                            const std::string& key);

struct Estimate {
    uint64_t bytes = 0;
    bool observed = false;
    std::string source; // in words, with figures
};

// What `model` will take once loaded at num_ctx: the memory observed after
// a load at that context if the store has it, else file size + KV cache.
Estimate estimate_memory(const store::ModelRecord* record, uint64_t file_size,
                         const nlohmann::json& model_info, int num_ctx);

// The largest context length, a multiple of 1024 (at least 2048, or `own`
// when smaller), up to the model's own longest `own`, at which
// estimate_memory() fits `room`; `why` says which bound decided, with
// figures, naming the room as `room_name` ("the budget of 8 GB").
int largest_context(const store::ModelRecord* record, uint64_t file_size,
                    const nlohmann::json& model_info, int64_t own, uint64_t room,
                    const std::string& room_name, std::string& why);

// Gives `model` (canonical on a server of `kind`) the context `num_ctx` in
// `cfg`, over the file's and the global setting, keeping the rest of its
// settings: what load --ctx and a chain step's "num_ctx" do for one command.
void set_num_ctx(config::Config& cfg, const std::string& kind, const std::string& model,
                 int num_ctx);

struct Effective {
    bool pinned = false;
    int priority = policy::kDefaultPriority;
    std::optional<util::KeepAlive> keep_alive;
    util::Seconds idle_timeout{0};
    int num_ctx = 0;
    bool num_ctx_own = false; // set for this model in the config file (else the global default)
    int keep_versions = 2;
    std::optional<std::string> endpoint; // where serve sends its requests (config)
    config::Source pin_source = config::Source::Default;
    config::Source priority_source = config::Source::Default;
};

// The config file's settings for `model` (canonical on a server of `kind`):
// the entry whose key names it by that server's rule ("llama3.2" is
// "llama3.2:latest" on Ollama; LM Studio keys are taken as written), an exact
// key first. nullptr when the file has none.
const config::ModelSettings* config_entry(const config::Config& cfg, const std::string& kind,
                                          const std::string& model);

// The one place a model's settings are resolved. A model is pinned when the
// store (modelctl pin) or the config file pins it. The store's priority
// (modelctl priority) wins over the file's; the file's per-model values win
// over the global settings.
Effective effective_settings(const std::string& model, const std::string& kind,
                             const config::Config& cfg, const store::ModelRecord* record);

// The model's effective settings as the store holds its record.
Effective effective_settings(const std::string& model, const std::string& kind,
                             const config::Config& cfg, const store::State& state);

// Every model pinned on an endpoint of `kind`, by `modelctl pin` (the store)
// or the config file (its keys read by that server's rule).
std::set<std::string> pinned_names(const store::State& state, const config::Config& cfg,
                                   const std::string& kind);

double epoch_seconds(util::Timestamp t);

// A model someone asked to have in memory, and what it will take there.
struct Wanted {
    std::string model; // normalized name
    Effective settings;
    Estimate estimate;
    bool loaded = false; // in memory now (and not stopping)
};

// A model asked for that the server does not have.
struct Missing {
    std::string model; // as asked for
    Error error;       // NotFound, with a hint
};

// What each of `models` will take: its size if loaded now, else the memory
// observed after an earlier load at its num_ctx, else file size + KV cache
// from /api/show. A model the server lacks goes to `missing`, or, when that
// is null, throws its Error{NotFound}.
std::vector<Wanted> describe_wanted(provider::Provider& server,
                                    const std::vector<std::string>& models,
                                    const std::vector<provider::LoadedModel>& loaded,
                                    const store::State& state, const config::Config& cfg,
                                    util::Timestamp now, std::vector<Missing>* missing = nullptr);

// Loaded models as the policy sees them: bytes as the server reports, reload
// time as last observed (else 1 s + 2 GB/s), pins, priorities and uses. The
// last use is the latest of: recorded use, last load, first sight, and
// expires_at - keep_alive (a model used without modelctl is never taken for
// idle longer than the server's own expiry implies).
std::vector<policy::Resident> residents(const std::vector<provider::LoadedModel>& loaded,
                                        const store::State& state, const config::Config& cfg,
                                        const std::string& kind, util::Timestamp now);

} // namespace core::operations
