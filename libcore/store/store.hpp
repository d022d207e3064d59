#pragma once
// modelctl's local state: what it knows about models, kept between runs.
//
// Layout of the store directory (0700):
//   state.json    the registry, {"schema_version": 1, "models": {...}} (0600)
//   events.jsonl  append-only usage log, one JSON object a line (0600)
//   events.1.jsonl the log before the last rotation (0600)
//   lock          flock'ed by every writer
//
// Every change is lock -> read -> mutate -> write temp -> fsync -> rename ->
// fsync dir, so readers (who take no lock) always see a whole file, and
// concurrent writers (cron, a shell, CI) never lose each other's changes.
// Appending an event costs the same however long the log is, and the log is
// bounded: past `max_log_bytes` it is renamed to events.1.jsonl (replacing
// the one before) and a new one begins. The per-model summaries in state.json
// are what survive; the raw log keeps only the recent past. A state file
// that is corrupt or from a newer modelctl is refused, never overwritten;
// repair() moves it aside and starts afresh.

#include "environment.hpp"
#include "metrics/summary.hpp"
#include "provider/provider.hpp"
#include "util/timestamp.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace core::store {

// 2 added pins, priorities, decayed use counts, expiry observations and the
// memory observed per context length; a version 1 file reads with those empty.
// 3 writes histograms as dense arrays and leaves out empty usage summaries
// (the file is read by every command: its size is start-up time); version 2
// histograms still read.
inline constexpr int kSchemaVersion = 3;

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
    provider::ModelDetails details;
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
    // Decayed use count (see policy::UseCount), valid at `uses_at`.
    double uses = 0;
    std::optional<util::Timestamp> uses_at;
    // /api/ps expires_at at the last observation, and the keep-alive modelctl
    // last loaded it with (seconds, negative: forever): a later expires_at
    // means someone used the model since (registry.hpp).
    std::optional<util::Timestamp> seen_expires_at;
    std::optional<double> keep_alive_seconds;
    std::map<int, Observed> observed; // by context length
    metrics::Summary usage;           // recorded uses (record, run)
};

struct State {
    int schema_version = kSchemaVersion;
    std::map<std::string, ModelRecord> models; // keyed by normalized name
};

// A usage event as stored in events.jsonl.
struct Event {
    std::string type; // "load", "unload", "use"
    std::string model;
    std::string server; // address of the server ("" for a use recorded by a script)
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
    std::string task;
};

struct EventLog {
    std::vector<Event> events; // oldest first
    int skipped = 0;           // unreadable lines (a torn last line after a crash)
    bool rotated = false;      // older events were rotated away (events.1.jsonl exists)
};

// The store directory: $MODELCTL_HOME, else $XDG_STATE_HOME/modelctl, else
// $HOME/.local/state/modelctl. Throws Error{Store} when none can be found.
std::filesystem::path default_dir(const Environment& env);

class Store {
public:
    static constexpr uint64_t kDefaultMaxLogBytes = 16000000;

    explicit Store(std::filesystem::path dir,
                   std::chrono::milliseconds lock_timeout = std::chrono::seconds(10),
                   uint64_t max_log_bytes = kDefaultMaxLogBytes);

    const std::filesystem::path& dir() const { return dir_; }
    std::filesystem::path state_path() const { return dir_ / "state.json"; }
    std::filesystem::path events_path() const { return dir_ / "events.jsonl"; }
    std::filesystem::path rotated_events_path() const { return dir_ / "events.1.jsonl"; }

    // The current state without locking; an absent file reads as empty.
    // Throws Error{Store} on a corrupt or newer file.
    State read() const;

    // Locks, reads, applies `mutate`, and writes back if the state changed.
    // Events are appended (in order, before the state is written) under the
    // same lock. Returns the state as written.
    State update(const std::function<void(State&)>& mutate, const std::vector<Event>& events = {});

    // Reads the event log (the rotated part first); lines that do not parse
    // are skipped and counted. Takes no lock: a rotation meanwhile yields
    // the newer part only, never an event twice.
    EventLog read_events() const;

    // Moves an unreadable state.json aside (to state.json.corrupt-<time>) so
    // that the next change starts afresh; returns the new path, or nullopt when
    // the state was readable and nothing was moved.
    std::optional<std::filesystem::path> repair();

private:
    void ensure_dir() const;
    // Also hands back the parsed file in `document` when asked.
    State read_unlocked(nlohmann::json* document = nullptr) const;

    std::filesystem::path dir_;
    std::chrono::milliseconds lock_timeout_;
    uint64_t max_log_bytes_;
};

// JSON forms (schema documented in docs/STORE.md).
nlohmann::json to_json(const State& state);
State state_from_json(const nlohmann::json& j); // throws Error{Store}
nlohmann::json to_json(const Event& event);
std::optional<Event> event_from_json(const nlohmann::json& j);

} // namespace core::store
