#pragma once
// modelctl's local state: what it knows about models, kept between runs.
//
// Layout of the store directory (0700):
//   state.json    the registry: each endpoint's model records (schema.hpp) (0600)
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

#include "environment.hpp"
#include "store/schema.hpp"
#include "store/state.hpp"

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace core::store {

// The first line of an events.jsonl whose uses may lie past the mark.
inline constexpr const char* kLogHeader = "{\"type\":\"log\",\"v\":1}\n";
// append() folds the log into the state each time it grows across a multiple
// of this: what read() may have to fold is at most about this much.
inline constexpr uint64_t kFoldBytes = 8192;

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
    // next write), and `notice` is told once with a line to show. A section
    // that recorded no url (written before urls were kept) is taken to have
    // described `assumed[its name]`: the default endpoints ("ollama",
    // "lmstudio") were where the config's defaults put them.
    void identify(std::string url, std::set<std::string> siblings,
                  std::function<void(const std::string&)> notice,
                  std::map<std::string, std::string> assumed = {});

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
    std::map<std::string, std::string> assumed_;
    std::set<std::string> siblings_;
    std::function<void(const std::string&)> notice_;
    mutable bool noticed_ = false;
};

} // namespace core::store
