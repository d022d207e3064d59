#pragma once
// serve's hooks: the config's commands run on its events (load, unload,
// evict, pressure, refuse, failure), each without a shell unless the user
// writes one (["sh", "-c", "..."]), with the event as one JSON line on stdin
// and MODELCTL_EVENT, MODELCTL_MODEL, MODELCTL_REASON, MODELCTL_EVENT_ID and
// MODELCTL_SERVER and MODELCTL_ENDPOINT (the server it happened on) set
// beside serve's own environment. Each run is bounded by
// the hooks' timeout; a failure is reported to `log`, never fatal. At most
// max_running run at once; up to kMaxWaiting more wait their turn, in order,
// and beyond that a hook is dropped (and said so). fire() never waits.

#include "config/config.hpp"
#include "serve/admission.hpp"

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace core::serve {

// The hook a happening's type runs: load -> on_load; unload, expire ->
// on_unload; evict -> on_evict; pressure -> on_pressure; refuse -> on_refuse;
// fail, missing -> on_failure; "" for none.
std::string hook_for(const std::string& type);

class Hooks {
public:
    static constexpr size_t kMaxWaiting = 64;

    // `env`: serve's environment ("NAME=value"); `path_env`: where programs
    // are looked up.
    Hooks(std::vector<std::string> env, std::string path_env,
          std::function<void(const std::string&)> log);
    // Lets the running hooks finish (each within its timeout); the waiting
    // ones are dropped, and said so.
    ~Hooks();
    Hooks(const Hooks&) = delete;
    Hooks& operator=(const Hooks&) = delete;

    // Runs the hook `hooks` (the config now) has for `h`, if any, with
    // `line` (the event as JSON, without its newline) on stdin.
    void fire(const config::HooksConfig& hooks, const Happening& h, uint64_t id,
              const std::string& line);

private:
    struct Job {
        std::string name; // "on_load"
        std::vector<std::string> argv;
        std::vector<std::string> env;
        std::string input;
        std::chrono::milliseconds timeout;
    };
    void work();

    std::vector<std::string> env_;
    std::string path_env_;
    std::function<void(const std::string&)> log_;
    std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<Job> waiting_;
    std::vector<std::thread> workers_; // started as needed, up to max_running
    size_t idle_ = 0;
    bool stopping_ = false;
};

} // namespace core::serve
