#pragma once
// What the store holds, as data: each endpoint's model records and the usage
// events, with the few rules that change them (a use folded into a record).
// No files here: schema.hpp turns these into JSON and back, store.hpp keeps
// them on disk.

#include "metrics/bench_result.hpp"
#include "metrics/summary.hpp"
#include "model/details.hpp"
#include "util/timestamp.hpp"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace core::store {

// The endpoint of the default Ollama server, and of everything a store from
// before endpoints (schema < 6) or an event without one knew.
inline constexpr const char* kDefaultEndpoint = "ollama";

// Bench results kept per model, newest last.
inline constexpr size_t kBenchKeep = 20;

// Versions kept per model name, oldest dropped first.
inline constexpr size_t kVersionsKeep = 50;

// Bounds on every number read from state.json and events.jsonl (and so on
// every use recorded): a value outside them makes the file malformed, or the
// event refused, instead of a NaN, a huge allocation or an undefined
// conversion later on.
inline constexpr uint64_t kMaxCount = 1'000'000'000'000'000'000ULL; // counts, tokens, bytes
inline constexpr double kMaxMilliseconds = 1e10;                    // latencies: 115 days
inline constexpr double kMaxSeconds = 1e7;                          // loads, evaluations: 115 days
inline constexpr int kMaxContext = 1 << 30;                         // context lengths
inline constexpr uint64_t kMaxTokens = 1'000'000'000'000ULL;        // tokens in one use

// A version of a model: a digest its name pointed to, as `modelctl pull`
// and observations of the server saw it.
struct VersionRecord {
    std::string digest;
    uint64_t size = 0;         // on disk
    util::Timestamp pulled_at; // when the name first pointed to it, as far as modelctl knows
    std::string tag;           // the name that keeps it installed (versions::version_tag); "" none
};

// One load as modelctl saw it: wall time and the memory observed afterwards.
struct LoadRecord {
    util::Timestamp at;
    double seconds = 0;
    uint64_t size = 0;
    uint64_t size_vram = 0;
    int context_length = 0;
};

// Memory a model was seen to take once loaded with a given context length.
struct Observed {
    uint64_t size = 0;
    uint64_t size_vram = 0;
    util::Timestamp at;
};

struct ModelRecord {
    std::string digest;
    uint64_t size = 0; // on disk
    model::Details details;
    std::vector<std::string> capabilities;
    util::Timestamp first_seen;
    util::Timestamp last_seen;
    std::optional<util::Timestamp> last_used;
    std::optional<util::Timestamp> last_unload;
    int loads = 0;
    int unloads = 0;
    double load_seconds_total = 0; // over `loads`, for the mean
    std::optional<LoadRecord> last_load;
    std::optional<bool> pinned;  // set by `modelctl pin`/`unpin`
    std::optional<int> priority; // set by `modelctl priority`
    // Decayed use count (metrics::UseCount), valid at `uses_at`.
    double uses = 0;
    std::optional<util::Timestamp> uses_at;
    // /api/ps expires_at at the last observation, and the keep-alive modelctl
    // last loaded it with (seconds, negative: forever): a later expires_at
    // means someone used the model since (registry.hpp).
    std::optional<util::Timestamp> seen_expires_at;
    std::optional<double> keep_alive_seconds;
    std::map<int, Observed> observed;        // by context length
    metrics::Summary usage;                  // recorded uses (record, run)
    std::vector<metrics::BenchResult> bench; // `modelctl bench` results, oldest first (kBenchKeep)
    std::vector<VersionRecord> versions;     // oldest first (kVersionsKeep)
    // Fields this modelctl does not know (a newer one wrote them), written
    // back as they were read (schema.hpp).
    nlohmann::json unknown = nlohmann::json::object();
};

// Which log file, and how far into it, the state's summaries go.
struct LogMark {
    uint64_t dev = 0;
    uint64_t ino = 0;
    uint64_t offset = 0;
    friend bool operator==(const LogMark&, const LogMark&) = default;
};

// The store as one endpoint sees it: that endpoint's models, and the other
// endpoints' carried along untouched, so that writing it back keeps them.
struct State {
    std::optional<LogMark> log; // absent: nothing in the log waits to be folded
    std::string endpoint = kDefaultEndpoint;
    std::map<std::string, ModelRecord> models; // the endpoint's, by the server's name (canonical)
    std::map<std::string, std::map<std::string, ModelRecord>> other_endpoints;
    // Each endpoint's server address, as last used, and the names its records
    // were kept under before (an endpoint renamed in the config file).
    std::map<std::string, std::string> urls;
    std::map<std::string, std::vector<std::string>> formerly;
    // Fields this modelctl does not know, at the top and in each endpoint's
    // section, written back as they were read.
    nlohmann::json unknown = nlohmann::json::object();
    std::map<std::string, nlohmann::json> unknown_in_endpoint;
    // Not stored: the endpoint whose records this one took over on reading
    // (Store::identify), "" when none.
    std::string adopted_from;
};

// A usage event as stored in events.jsonl.
struct Event {
    std::string type; // "load", "unload", "use"
    std::string model;
    std::string server;   // address of the server ("" for a use recorded by a script)
    std::string endpoint; // whose model; "" (events before endpoints): kDefaultEndpoint
    util::Timestamp at;
    double seconds = 0; // wall time of the operation
    uint64_t size = 0;
    uint64_t size_vram = 0;
    // "use" only:
    double latency_ms = 0;
    std::optional<double> ttft_ms;
    uint64_t tokens_in = 0;
    uint64_t tokens_out = 0;
    double eval_seconds = 0;
    bool failed = false;
    bool cancelled = false; // the client left before the answer ended (serve)
    std::string task;
};

// The endpoint's record of `name` (canonical, Provider::canonical), or null.
const ModelRecord* find_model(const State& state, const std::string& name);

// The model's record (name canonical, Provider::canonical), created first
// seen at `now` if new, and marked seen at `now`.
ModelRecord& touch(State& state, const std::string& name, util::Timestamp now);

// Adds a use at `at` to the record's decayed use count (metrics::UseCount)
// and last use.
void note_use(ModelRecord& r, util::Timestamp at);
// A use event as the usage summary takes it, with the hour of the week in
// the machine's local time.
metrics::Use as_use(const Event& use);

// Folds a use event into its model's record (created if new) under the
// event's endpoint: the usage summary, with the hour of the week in local
// time, and note_use(). The event names the model as its endpoint's server
// does (an event from before endpoints is read as the default endpoint's,
// its name made Ollama's: schema.hpp).
void fold_use(State& state, const Event& use);

// The endpoint an event's records belong to now: the one it names, or the
// endpoint that took over that one's records under a new name (identify()).
std::string owner(const State& state, const Event& e);

// Why a use cannot be recorded (a number not finite or out of bounds, no
// model), or "" when it can. record, run and the log reader all ask this.
std::string invalid_use(const Event& use);

} // namespace core::store
