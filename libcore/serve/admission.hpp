#pragma once
// Admission: which requests through `modelctl serve` may reach the server
// now, and what must be unloaded first. The rules (issue 17, and what
// llama-swap's users learned, shared/notes/proxy-facts.md):
// - a request for a model in memory goes at once, never held behind a swap
//   of other models (the fast path takes no server call);
// - any other request waits its turn in one FIFO queue (bounded: QueueFull
//   beyond `queue_max`), and the request at its head decides alone: it plans
//   the load as `modelctl load` does (Backend::plan) with the models that
//   have requests in flight kept as pins; only when no such plan fits does
//   it wait for a busy victim to go idle (a busy model is never evicted);
//   then it unloads the victims, loads the model, and only then lets the next
//   one decide; so two
//   requests never evict each other's model or overshoot the budget;
// - a request whose client left is dropped from the queue, and does not
//   start a load;
// - the whole wait is bounded by `wait_timeout` (TimedOut);
// - a model whose load failed (a runner crash, out of memory) is not tried
//   again before its backoff has passed: 1 s after the first failure, then
//   2, 4, 8 ... capped at 5 min (Backoff, at once, without a server call),
//   so a client retrying in a loop does not hammer the server; a load that
//   succeeds clears it.
// A model's requests in flight are counted from admit() to release().
//
// The server is only ever called by one thread at a time (the Backend need
// not be thread-safe): the deciding request, expire() and run_exclusive().

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace core::serve {

// What admission needs of the model server and the policy.
class Backend {
public:
    virtual ~Backend() = default;
    // The models in memory now, by canonical name.
    virtual std::vector<std::string> loaded() = 0;
    struct Plan {
        std::string model;                  // canonical
        std::optional<std::string> refusal; // the plan cannot fit: why, in words
        std::vector<std::string> victims;   // to unload first
        std::vector<std::string> reasons;   // the policy's reason for each victim
    };
    // Plans loading `model` beside what is in memory, never evicting a model
    // in `keep` (throws core::Error, e.g. NotFound, for a model the server lacks).
    virtual Plan plan(const std::string& model, const std::set<std::string>& keep) = 0;
    virtual void unload(const std::string& model, const std::string& reason) = 0;
    virtual void load(const std::string& model) = 0;
    // Memory pressure from other programs now, and what the policy would
    // unload to relieve it, never a model in `keep`. The default: a backend
    // that cannot tell (level "").
    struct Relief {
        std::string level;                // "ok", "high", "critical"; "" unknown
        std::string reason;               // the devices under their min_free
        std::vector<std::string> victims; // to unload
        std::vector<std::string> reasons; // the policy's reason for each
    };
    virtual Relief relieve(const std::set<std::string>& keep) {
        (void)keep;
        return {};
    }
    // Loads the models history says are likely in the hour that starts at
    // `at` (epoch seconds) that fit beside what is loaded, never evicting;
    // the models loaded, each with why. The default: nothing.
    struct Preloaded {
        std::string model;
        std::string reason; // why it was loaded, or why its load failed
        bool ok = true;
    };
    virtual std::vector<Preloaded> preload(double at) {
        (void)at;
        return {};
    }
};

struct AdmissionLimits {
    size_t queue_max = 64;
    std::chrono::milliseconds wait_timeout{120000};
};

enum class Verdict {
    Admitted,   // go ahead; call release() when the answer is done
    Refused,    // the plan cannot fit (message says why)
    QueueFull,  // too many waiting already
    TimedOut,   // a victim stayed busy past wait_timeout
    ClientGone, // the client left while it waited
    Failed,     // the server failed a call (message, and the error's kind in `error_kind`)
    Backoff,    // the model failed to load lately: not tried before `retry_after` seconds
};

// The wait before trying a model again after `failures` failed loads in a row.
std::chrono::milliseconds load_backoff(int failures);

struct Admit {
    Verdict verdict = Verdict::Admitted;
    std::string model; // canonical
    std::string message;
    int error_kind = -1; // core::ErrorKind of a Failed call, as an int
    bool loaded = false; // this request loaded the model
    double waited_seconds = 0;
    double retry_after = 0; // Backoff: seconds until the next try
    std::vector<std::string> evicted;
};

// Something that happened, for the event stream and the log.
struct Happening {
    std::string
        type; // "load", "unload", "evict", "refuse", "expire", "fail", "missing", "pressure"
    std::string model;
    std::string reason;
    std::string endpoint; // the server's endpoint name and address (Service sets them)
    std::string server;
};

class Admission {
public:
    using Clock = std::chrono::steady_clock;
    using Notify = std::function<void(const Happening&)>;

    Admission(Backend& backend, AdmissionLimits limits, Notify notify = {});

    // Reads what is in memory (at start, and each expire()).
    void refresh();
    // Blocks until `model` (canonical) may be used; see the rules above.
    // `client_gone` is asked while waiting.
    Admit admit(const std::string& model, const std::function<bool()>& client_gone);
    // The request admitted for `model` is done.
    void release(const std::string& model);
    // Unloads `model` for a client's unload request, once no other request
    // uses it (waiting as an eviction does). Returns Admitted when done.
    Admit unload(const std::string& model, const std::function<bool()>& client_gone);
    // Unloads every model in memory, without requests in flight, idle for
    // longer than idle_timeout(model) says (nullopt: the server's timer
    // decides, not serve's); then refresh(). `now`: the time idleness is
    // measured to (tests pass a later one rather than wait).
    void expire(
        const std::function<std::optional<std::chrono::seconds>(const std::string&)>& idle_timeout,
        Clock::time_point now = Clock::now());
    // The watcher's look at memory pressure (Backend::relieve), as one
    // decision: unloads what the policy picks to bring free memory back to
    // min_free, never a model with requests in flight; a change of level is
    // a "pressure" happening, each unload an "evict". Returns how many
    // models it unloaded.
    size_t relieve();
    // The watcher's preload for the hour starting at `at` (Backend::preload),
    // as one decision: a "load" happening for each model loaded.
    void preload(double at);
    // Runs `f` with the server to itself, as a decision (the management API).
    void run_exclusive(const std::function<void()>& f);

    struct Failing {
        int failures = 0;    // failed loads in a row
        double retry_in = 0; // seconds until the next try (0: may be tried now)
        std::string error;   // the last failure
    };
    struct Snapshot {
        std::map<std::string, int> in_flight; // models with requests, by count
        std::set<std::string> resident;
        size_t queued = 0;
        std::map<std::string, Failing> failing; // models whose last load failed
        std::string pressure;                   // the last relieve()'s level ("": none yet)
        std::string pressure_reason;
    };
    Snapshot snapshot() const;

private:
    enum class Turn { Mine, Gone, Late };
    Turn wait_turn(std::unique_lock<std::mutex>& lock, uint64_t ticket,
                   const std::function<bool()>& client_gone, Clock::time_point deadline);
    void leave(uint64_t ticket);
    // Waits (lock held) until no model in `models` has requests in flight.
    bool wait_idle(std::unique_lock<std::mutex>& lock, const std::vector<std::string>& models,
                   const std::function<bool()>& client_gone, Clock::time_point deadline);
    Admit decide(std::unique_lock<std::mutex>& lock, const std::string& model,
                 const std::function<bool()>& client_gone, Clock::time_point deadline);
    // Backoff for `model` when it failed lately and its wait has not passed (lock held).
    std::optional<Admit> backing_off(const std::string& model) const;
    void note(std::string type, std::string model, std::string reason) {
        if (notify_)
            notify_({std::move(type), std::move(model), std::move(reason), "", ""});
    }

    Backend& backend_;
    AdmissionLimits limits_;
    Notify notify_;
    std::mutex decide_; // held by whoever calls the backend
    mutable std::mutex mutex_;
    std::condition_variable changed_;
    std::deque<uint64_t> queue_;
    uint64_t next_ticket_ = 0;
    std::map<std::string, int> in_flight_;
    std::map<std::string, Clock::time_point> last_used_;
    std::set<std::string> resident_;
    std::set<std::string> evicting_;
    struct FailedLoads {
        int failures = 0;
        Clock::time_point retry_at;
        std::string error;
    };
    std::map<std::string, FailedLoads> failed_;
    std::string pressure_, pressure_reason_;
};

} // namespace core::serve
