#pragma once
// What every subcommand gets: the captured environment, the global options,
// the terminal facts, and factories for the server and the store.

#include "config/config.hpp"
#include "environment.hpp"
#include "error.hpp"
#include "operations/endpoints.hpp"
#include "provider/provider.hpp"
#include "resources/resources.hpp"
#include "store/store.hpp"

#include <atomic>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace modelctl {

struct GlobalOptions {
    std::string host;     // --host; empty: OLLAMA_HOST, else the config, else the default
    std::string endpoint; // --endpoint; empty: MODELCTL_ENDPOINT, else the config, else the first
    std::string timeout;  // --timeout; empty: MODELCTL_TIMEOUT, else the config, else 5m
    std::string config;   // --config FILE; empty: $XDG_CONFIG_HOME/modelctl/config.json
    bool json = false;    // --json
    bool quiet = false;   // -q
    int verbose = 0;      // -v (repeatable)
};

using Endpoint = core::operations::Endpoint;

struct Context {
    core::Environment env;
    GlobalOptions global;
    bool stdin_tty = false;
    bool stdout_tty = false;
    bool stderr_tty = false;
    int exit_code = 0;

    explicit Context(core::Environment e);

    // The configuration, read once: the file, MODELCTL_* variables, the global
    // flags, and the command's own flags (key -> flag) given on first use.
    // Safe from any thread.
    const core::config::Config&
    config(const std::map<std::string, core::config::Flag>& flags = {}) const;
    // Reads the configuration again, as config() first did (serve's SIGHUP).
    // Later config() calls get the new one; references to the old stay valid
    // (every configuration read is kept until exit: reloads are rare). Throws
    // Error{Usage} and keeps the current one when the new one is bad.
    const core::config::Config& reload_config() const;

    // Colour on stdout: a terminal, NO_COLOR unset or empty, TERM not "dumb".
    bool color() const;

    // Every endpoint, in the config file's order (else the defaults).
    std::vector<Endpoint> endpoints() const;
    // The endpoint commands use: --endpoint, else MODELCTL_ENDPOINT, else the
    // config's "endpoint", else the first. Throws Error{Usage} for an unknown name.
    const Endpoint& endpoint() const;
    // What status and gc go through: the endpoint named by --endpoint (or its
    // variable or key), else every one.
    // Whether `error` only means that an optional endpoint (the default LM
    // Studio) is not there, to be left out (noted with -v) rather than reported.
    bool absent(const Endpoint& e, const core::Error& error) const {
        if (!e.optional || error.kind() != core::ErrorKind::Unreachable)
            return false;
        note("endpoint " + e.name + " left out: " + error.what());
        return true;
    }
    std::vector<Endpoint> endpoints_to_visit() const {
        return config().endpoint.empty() ? endpoints() : std::vector<Endpoint>{endpoint()};
    }
    // The endpoint's server, each request bounded by `read_timeout` (default: the
    // configured timeout); one given here bounds a whole streamed answer too.
    std::unique_ptr<core::provider::Provider>
    provider(std::optional<core::util::Seconds> read_timeout = std::nullopt) const;
    std::unique_ptr<core::provider::Provider>
    provider(const Endpoint& e,
             std::optional<core::util::Seconds> read_timeout = std::nullopt) const;
    // The store as the endpoint sees it.
    core::store::Store store() const { return store(endpoint()); }
    core::store::Store store(const Endpoint& e) const;
    // A model's name as the endpoint's server knows it ("llama3.2" ->
    // "llama3.2:latest" on Ollama).
    std::string canonical(const std::string& model) const;
    bool same_model(const std::string& a, const std::string& b) const {
        return canonical(a) == canonical(b);
    }
    // Probes this machine's memory (under $MODELCTL_SYSROOT, for tests).
    core::resources::Snapshot probe() const;
    // The memory budget for the endpoint's loaded models (see resources.hpp):
    // the endpoint's configured memory, else the config's, else (a server on
    // this machine) the probe's.
    core::resources::BudgetReport
    budget(const std::vector<core::provider::LoadedModel>& loaded) const {
        return budget(endpoint(), loaded);
    }
    core::resources::BudgetReport
    budget(const Endpoint& e, const std::vector<core::provider::LoadedModel>& loaded) const;
    // budget() of an endpoint (default: the context's) as the operations take it.
    core::operations::BudgetFn budget_fn() const { return budget_fn(endpoint()); }
    core::operations::BudgetFn budget_fn(const Endpoint& e) const {
        return [this, e](const auto& loaded) { return budget(e, loaded); };
    }
    // Progress and chatter go to stderr, only on a terminal and without -q.
    bool show_progress() const { return stderr_tty && !global.quiet && !global.json; }
    // Verbose notes to stderr with -v.
    void note(const std::string& text) const;

private:
    core::config::Config read_config() const;

    mutable std::mutex config_mutex_;                  // reading a configuration
    mutable std::deque<core::config::Config> configs_; // every one read; the last is current
    mutable std::atomic<const core::config::Config*> config_{nullptr};
    mutable std::map<std::string, core::config::Flag> flags_; // the first call's
    mutable std::optional<std::vector<Endpoint>> endpoints_;
    mutable std::optional<Endpoint> endpoint_;
};

} // namespace modelctl
