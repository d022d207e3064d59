#pragma once
// Configuration: every setting has a default, may be set in the config file,
// by a MODELCTL_* environment variable, or by a flag; the later wins:
// flags > environment > file > defaults. Per-model settings come from the
// file (and, for pin and priority, from `modelctl pin`/`priority`, which the
// store keeps). Every effective value remembers where it came from, for
// `modelctl config show`.
//
// The file is JSON, $XDG_CONFIG_HOME/modelctl/config.json (else
// ~/.config/modelctl/config.json) unless --config names another:
//
//   {
//     "timeout": "5m",
//     "idle_timeout": "30m",
//     "budget": {"max_loaded": 3, "memory": "20GB",
//                "gpu": {"max_memory_percent": 90, "min_free": "1GB"},
//                "ram": {"max_memory_percent": 75, "min_free": "4GB"}},
//     "memory": {"vram": "24GB", "ram": "64GB"},
//     "endpoint": "gpu-box",
//     "endpoints": [{"name": "gpu-box", "provider": "ollama", "url": "http://gpu-box:11434",
//                    "memory": {"vram": "48GB", "ram": "64GB"}},
//                   {"name": "studio", "provider": "lmstudio", "url": "http://127.0.0.1:1234",
//                    "token_env": "LM_API_TOKEN"}],
//     "models": {"llama3.1:8b": {"pin": true, "priority": 7, "keep_alive": "2h",
//                                "idle_timeout": "4h", "num_ctx": 8192, "keep_versions": 3}}
//   }
//
// Nested objects are the dotted keys of the table in config.cpp; the
// environment variable of key `budget.gpu.min_free` is
// MODELCTL_BUDGET_GPU_MIN_FREE (the host is OLLAMA_HOST, as Ollama's). Unknown
// keys and bad values are errors naming the file (or variable) and the key.

#include "environment.hpp"
#include "util/duration.hpp"

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace core::config {

enum class Source { Default, File, Environment, Flag, Store };
std::string source_name(Source s); // "default", "file", "env", "flag", "store"

// One effective value as `config show` prints it.
struct Setting {
    std::string key;
    std::string value; // as text; "" when unset (e.g. "the server's default")
    Source source = Source::Default;
    std::string origin; // the file path, variable name or flag
    std::string help;
};

struct ModelSettings {
    std::optional<bool> pin;
    std::optional<int> priority; // 0..9
    std::optional<util::KeepAlive> keep_alive;
    std::optional<util::Seconds> idle_timeout;
    std::optional<int> num_ctx;
    std::optional<int> keep_versions;
    // The endpoint serve sends this model's requests to when several have it
    // installed (by name; serve's front door, issue 18).
    std::optional<std::string> endpoint;
};

// A model server modelctl manages, as the config file names it.
struct EndpointConfig {
    std::string name;      // letters, digits, '-', '_', '.'
    std::string provider;  // "ollama" or "lmstudio"
    std::string url;       // as OLLAMA_HOST takes it; LM Studio's default port is 1234
    std::string token_env; // the variable holding a bearer token ("" none; LM Studio: LM_API_TOKEN)
    std::optional<uint64_t> vram; // the server's memory, when it is not this machine's
    std::optional<uint64_t> ram;
};

// Commands serve runs on its events (the config's "hooks"): each an argv,
// run without a shell, the event as one JSON line on stdin.
struct HooksConfig {
    // "on_load", "on_unload", "on_evict", "on_pressure", "on_refuse", "on_failure" -> argv
    std::map<std::string, std::vector<std::string>> commands;
    util::Seconds timeout{10}; // each run, then SIGKILL
    size_t max_running = 4;    // at once; more wait (at most 64), then are dropped
};
// The hook names "hooks" takes, in order.
const std::vector<std::string>& hook_names();

struct Config {
    std::string host;                      // empty: the default address
    std::string endpoint;                  // the endpoint to use by name; empty: the first
    std::vector<EndpointConfig> endpoints; // none: Ollama at `host`, and LM Studio when it answers
    util::Seconds timeout{300};
    util::Seconds lock_timeout{10};
    uint64_t max_log_bytes = 16000000;         // the event log rotates past this
    std::optional<util::KeepAlive> keep_alive; // unset: the server's default
    util::Seconds idle_timeout{1800};
    int num_ctx = 4096;
    int keep_versions = 2; // versions gc --versions keeps, the current one included

    size_t max_loaded = 3;          // 0: no limit on the count
    std::optional<uint64_t> memory; // the budget, given outright
    double gpu_max_percent = 90;
    uint64_t gpu_min_free = 1000000000; // per GPU
    double ram_max_percent = 75;
    uint64_t ram_min_free = 4000000000;
    std::optional<uint64_t> vram; // the server's memory, when it is not this machine's
    std::optional<uint64_t> ram;

    // modelctl serve
    std::string serve_listen = "127.0.0.1:11435";
    uint64_t serve_max_body = 64ULL << 20;
    size_t serve_max_queue = 64;
    util::Seconds serve_queue_timeout{120};
    util::Seconds serve_grace{30};
    util::Seconds serve_interval{30}; // the watcher's tick: idle unloads, memory pressure
    bool serve_preload = false;       // the watcher preloads each hour's likely models
    std::string serve_token_env = "MODELCTL_SERVE_TOKEN";
    std::string serve_admin_token_env;

    // Per-model settings, keyed as written in the file: each endpoint reads a
    // key by its own server's naming rule (operations::config_entry).
    std::map<std::string, ModelSettings> models;
    HooksConfig hooks;
    std::filesystem::path file; // the file read, or that would be
    bool file_exists = false;
    std::vector<Setting> settings; // every global key, in table order
    // What was set but is read by nothing: a MODELCTL_* variable modelctl
    // does not know ("MODELCTL_BUDGT_MEMORY is not ... (did you mean ...?)").
    std::vector<std::string> warnings;
};

// $XDG_CONFIG_HOME/modelctl/config.json, else $HOME/.config/modelctl/config.json.
std::filesystem::path default_path(const Environment& env);

// A setting given on the command line: the flag's spelling and its text.
struct Flag {
    std::string name; // "--timeout"
    std::string value;
};

// Reads the file (absent is fine unless named by `file`), the environment and
// the flags (by key, keys as in the table) and resolves every setting.
// Throws Error{Usage} naming the file, variable or flag and the key on bad input.
Config load(const Environment& env, const std::optional<std::filesystem::path>& file,
            const std::map<std::string, Flag>& flags = {});

// The keys the configuration knows, in order, with their help.
std::vector<std::pair<std::string, std::string>> keys();

} // namespace core::config
