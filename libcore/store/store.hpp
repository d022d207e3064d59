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
//
// Uses are the exception, as they come often (`record`, `run`): append()
// writes them to the log alone, under the lock, and the state file marks how
// far into the log its summaries go (State::log). read() folds the uses past
// the mark into what it returns, and the next update() folds them for good;
// append() itself does so each time the log crosses a kFoldBytes boundary, so
// a reader never has more than that to fold.
// Appending an event costs the same however long the log is, and the log is
// bounded: past `max_log_bytes` it is renamed to events.1.jsonl (replacing
// the one before) and a new one begins. The per-model summaries in state.json
// are what survive; the raw log keeps only the recent past. A state file
// that is corrupt or from a newer modelctl is refused, never overwritten;
// repair() moves it aside and starts afresh.

#include "bench/bench.hpp"
#include "environment.hpp"
#include "metrics/summary.hpp"
#include "policy/policy.hpp"
#include "provider/provider.hpp"
#include "util/timestamp.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace core::store {

// 2 added pins, priorities, decayed use counts, expiry observations and the
// memory observed per context length; a version 1 file reads with those empty.
// 3 writes histograms as dense arrays and leaves out empty usage summaries
// (the file is read by every command: its size is start-up time); version 2
// histograms still read. 4 adds the log mark (uses past it are not folded
// yet); an older file has none, and its log was folded as it was written.
// 5 adds bench results (an older modelctl would drop them on its next write).
// 6 keys models by endpoint: {"endpoints": {name: {"models": {...}}}}; an
// older file's models are the default endpoint's.
// 7 adds each model's versions (an older modelctl would drop them).
inline constexpr int kSchemaVersion = 7;

// The endpoint of the default Ollama server, and of everything a store from
// before endpoints (schema < 6) or an event without one knew.
inline constexpr const char* kDefaultEndpoint = "ollama";

// Bench results kept per model, newest last.
inline constexpr size_t kBenchKeep = 20;

// The first line of an events.jsonl whose uses may lie past the mark.
inline constexpr const char* kLogHeader = "{\"type\":\"log\",\"v\":1}\n";
// append() folds the log into the state each time it grows across a multiple
// of this: what read() may have to fold is at most about this much.
inline constexpr uint64_t kFoldBytes = 8192;

// Bounds on every number read from state.json and events.jsonl (and so on
// every use recorded): a value outside them makes the file malformed, or the
// event refused, instead of a NaN, a huge allocation or an undefined
// conversion later on.
inline constexpr uint64_t kMaxCount = 1'000'000'000'000'000'000ULL; // counts, tokens, bytes
inline constexpr double kMaxMilliseconds = 1e10;                    // latencies: 115 days
inline constexpr double kMaxSeconds = 1e7;                          // loads, evaluations: 115 days
inline constexpr int kMaxContext = 1 << 30;                         // context lengths
inline constexpr uint64_t kMaxTokens = 1'000'000'000'000ULL;        // tokens in one use

// Versions kept per model name, oldest dropped first.
inline constexpr size_t kVersionsKeep = 50;

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
    std::map<int, Observed> observed;    // by context length
    metrics::Summary usage;              // recorded uses (record, run)
    std::vector<bench::Result> bench;    // `modelctl bench` results, oldest first (kBenchKeep)
    std::vector<VersionRecord> versions; // oldest first (kVersionsKeep)
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
    int schema_version = kSchemaVersion;
    std::optional<LogMark> log; // absent: nothing in the log waits to be folded
    std::string endpoint = kDefaultEndpoint;
    std::map<std::string, ModelRecord> models; // the endpoint's, by the server's name (canonical)
    std::map<std::string, std::map<std::string, ModelRecord>> other_endpoints;
    // Each endpoint's server address, as last used, and the names its records
    // were kept under before (an endpoint renamed in the config file).
    std::map<std::string, std::string> urls;
    std::map<std::string, std::vector<std::string>> formerly;
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
    std::string task;
};

// The model's record (name canonical, Provider::canonical), created first
// seen at `now` if new, and marked seen at `now`.
ModelRecord& touch(State& state, const std::string& name, util::Timestamp now);

// Adds a use at `at` to the record's decayed use count (policy::UseCount)
// and last use.
void note_use(ModelRecord& r, util::Timestamp at);
// Folds a use event into its model's record (created if new) under the
// event's endpoint: the usage summary, with the hour of the week in local
// time, and note_use(). The event names the model as the server does; one
// without an endpoint (from before endpoints) is Ollama's, and its name is
// normalized as Ollama's.
void fold_use(State& state, const Event& use);

// The endpoint an event's records belong to now: the one it names, or the
// endpoint that took over that one's records under a new name (identify()).
std::string owner(const State& state, const Event& e);

struct EventLog {
    std::vector<Event> events; // oldest first
    int skipped = 0;           // unreadable lines (a torn last line after a crash)
    bool rotated = false;      // older events were rotated away (events.1.jsonl exists)
};

// The store directory: $MODELCTL_HOME, else $XDG_STATE_HOME/modelctl, else
// $HOME/.local/state/modelctl. Throws Error{Store} when none can be found.
std::filesystem::path default_dir(const Environment& env);

// What Store::repair() did.
struct RepairReport {
    std::optional<std::filesystem::path> moved_to; // the unreadable state, set aside
    bool log_replaced = false;                     // the mark was past the log's end
    size_t uses_folded = 0;                        // uses rebuilt from the log

    bool changed() const { return moved_to || log_replaced; }
};

class Store {
public:
    static constexpr uint64_t kDefaultMaxLogBytes = 16000000;

    // A store seen from `endpoint`: read() and update() hand over its models,
    // and events written without an endpoint are stamped with it.
    explicit Store(std::filesystem::path dir,
                   std::chrono::milliseconds lock_timeout = std::chrono::seconds(10),
                   uint64_t max_log_bytes = kDefaultMaxLogBytes,
                   std::string endpoint = kDefaultEndpoint);

    const std::filesystem::path& dir() const { return dir_; }
    const std::string& endpoint() const { return endpoint_; }
    std::filesystem::path state_path() const { return dir_ / "state.json"; }
    std::filesystem::path events_path() const { return dir_ / "events.jsonl"; }
    std::filesystem::path rotated_events_path() const { return dir_ / "events.1.jsonl"; }

    // The current state with the uses past its log mark folded in.
    // Takes no lock. Throws Error{Store} on a corrupt or newer file.
    State read() const;

    // Locks, reads, folds the uses past the mark, applies `mutate`, and
    // writes back if the state changed. Events are appended (in order, before
    // the state is written) under the same lock, and uses among them folded.
    // Returns the state as written.
    State update(const std::function<void(State&)>& mutate, const std::vector<Event>& events = {});

    // Appends use events: under the lock, one append and fdatasync, without
    // rewriting the state unless the log crosses a kFoldBytes boundary (or
    // must rotate, or has no mark yet); then as update() does.
    void append(const std::vector<Event>& uses);

    // Reads the event log (the rotated part first); lines that do not parse
    // are skipped and counted. Takes no lock: a rotation meanwhile yields
    // the newer part only, never an event twice.
    EventLog read_events() const;

    // The state file as stored, without folding the uses past its mark.
    State read_as_stored() const { return read_unlocked(); }

    // Checks, before a command changes a server, that what it learns can be
    // recorded afterwards: the lock can be had within the lock timeout, the
    // state reads, and the directory and state file are writable. Throws
    // Error{Store} naming what is wrong. Returns the state as read().
    State check_writable() const;

    // Makes an unusable store usable again, keeping what can be kept, under
    // the lock:
    // - an unreadable state.json is moved aside (to state.json.corrupt-<time>)
    //   and a new one is built from every use in the log;
    // - a log shorter than the state's mark (replaced or truncated) has its
    //   uses newer than each model's summary folded in, and the mark reset.
    // A healthy store is left as it is; a state from a newer modelctl is
    // refused (Error{Store}), never moved.
    RepairReport repair();

    // The directory, created 0700 (parents too) when missing.
    void ensure_dir() const;

    // Names the server this endpoint describes, so that its records follow
    // the server, not the name: when the endpoint has no records and another
    // one, `siblings` aside (the endpoints configured now), last described the
    // same `url`, its records become this endpoint's (on reading; kept on the
    // next write), and `notice` is told once with a line to show.
    void identify(std::string url, std::set<std::string> siblings,
                  std::function<void(const std::string&)> notice);

private:
    // The largest log read() will read: history.max_log_size rotates far sooner.
    uint64_t max_log_read() const;

    // The state file as it is (no folding); also hands back the parsed file
    // in `document` when asked. An absent file reads as empty.
    State read_unlocked(nlohmann::json* document = nullptr) const;
    // Folds the uses past state.log into `state` and moves the mark to the
    // end of what it read (complete lines only).
    void fold_pending(State& state) const;
    State update_locked(const std::function<void(State&)>& mutate, std::string lines,
                        const std::vector<Event>& events);

    std::vector<Event> stamped(std::vector<Event> events) const;
    // Takes over the records of a renamed endpoint of the same server (identify).
    void adopt(State& state) const;

    std::filesystem::path dir_;
    std::chrono::milliseconds lock_timeout_;
    uint64_t max_log_bytes_;
    std::string endpoint_;
    std::string url_;
    std::set<std::string> siblings_;
    std::function<void(const std::string&)> notice_;
    mutable bool noticed_ = false;
};

// JSON forms (schema documented in docs/STORE.md).
nlohmann::json to_json(const State& state);
// The state as `endpoint` sees it. Throws Error{Store}.
State state_from_json(const nlohmann::json& j, const std::string& endpoint = kDefaultEndpoint);
nlohmann::json to_json(const Event& event);
// nullopt for anything but a well-formed event within the bounds above.
std::optional<Event> event_from_json(const nlohmann::json& j);
// Why a use cannot be recorded (a number not finite or out of bounds, no
// model), or "" when it can. record, run and the log reader all ask this.
std::string invalid_use(const Event& use);

} // namespace core::store
