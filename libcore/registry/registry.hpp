#pragma once
// Model operations that keep the store in step with the server: every load and
// unload is timed, what the server reports afterwards is observed, and both go
// into the store (an event in the log, a summary in the model's record).

#include "bench/bench.hpp"
#include "policy/policy.hpp"
#include "provider/provider.hpp"
#include "store/store.hpp"

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace core::registry {

struct LoadOutcome {
    std::string model;
    bool was_loaded = false; // already in memory: only its keep_alive was refreshed
    double seconds = 0;      // wall time of the load request
    std::optional<provider::LoadedModel> observed; // as /api/ps shows it afterwards
};

struct UnloadOutcome {
    std::string model;
    bool was_loaded = false; // false: nothing to unload
    double seconds = 0;      // until the server no longer listed it
    uint64_t freed = 0;      // bytes it held
    uint64_t freed_vram = 0;
};

// One generation as modelctl timed it.
struct UseOutcome {
    provider::GenerateMetrics metrics; // as the server reported them
    double latency_ms = 0;             // request sent -> final line
    std::optional<double> ttft_ms;     // request sent -> first piece of text
};

struct BenchRecord {
    std::optional<bench::Result> previous;
    std::vector<bench::Change> changes; // from previous to this result
    bool regressed = false;
};

struct Status {
    util::Timestamp now;
    std::vector<provider::LoadedModel> loaded;
    std::vector<provider::InstalledModel> installed; // only when asked for
    std::string version;                             // the server's, only when asked for
    store::State state;                              // what modelctl knows
};

// Compares the server's expires_at with the one seen last; when it moved
// forward, records a use at expires_at - keep_alive. Returns whether the
// record changed.
bool observe_expiry(store::ModelRecord& r, const provider::LoadedModel& m, util::Timestamp now);

// Records uses (events of type "use"): appended to the log in one write, and
// folded into each model's summary, decayed use count and last use (with
// the hour of the week in the machine's local time) as store.hpp says.
void record_uses(store::Store& store, const std::vector<store::Event>& uses);

class Registry {
public:
    Registry(provider::Provider& provider, store::Store& store)
        : provider_(provider), store_(store) {}

    // Loads and records the load. `as_use` false: the load is for a use
    // that will be recorded by itself (run), so it is not counted as one.
    LoadOutcome load(const std::string& model, const provider::LoadSettings& settings,
                     bool as_use = true);
    // Generates, timing the answer, and records it as a use tagged `task`
    // with the token counts and durations the server reported (and the
    // expiry it shows afterwards, so the use is not inferred twice). A failure
    // is recorded as a failed use and rethrown, unless the server could not be
    // reached (then no use happened).
    UseOutcome generate(const provider::GenerateRequest& request, const std::string& task,
                        const std::function<void(std::string_view)>& on_text);
    UnloadOutcome unload(const std::string& model);
    // Notes, for each loaded model, whether /api/ps shows its expiry moved
    // forward since the last look (someone used it without modelctl), and
    // records that use. Writes the store only when something changed.
    store::State observe(const std::vector<provider::LoadedModel>& loaded, util::Timestamp now);
    // Pins a model, or removes modelctl's pin (a pin in the config file stays).
    void set_pin(const std::string& model, bool pinned);
    void set_priority(const std::string& model, int priority);
    // Compares a bench result with the newest comparable one before it
    // (bench::previous) and keeps it in the model's history (the newest
    // store::kBenchKeep), marked regressed when a median got worse by more
    // than `threshold` (a fraction; 0: no gate). Read and written under one
    // lock.
    BenchRecord record_bench(const std::string& model, bench::Result result, double threshold);
    // Unloads everything the server lists, in the order it lists them.
    std::vector<UnloadOutcome> unload_all();
    // Reads the server and the store, and observes the loaded models as
    // observe() does. With installed=true it also lists installed models and
    // records them as seen (a store write); without, it writes only when an
    // observation is new.
    Status status(bool installed);
    // status(installed) without a store write: what the server says and the
    // store holds, observed nothing (for `list`, which completions call).
    Status peek(bool installed);

private:
    std::optional<provider::LoadedModel> find_loaded(const std::string& model);

    provider::Provider& provider_;
    store::Store& store_;
};

} // namespace core::registry
