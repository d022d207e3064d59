#pragma once
// What every subcommand gets: the captured environment, the global options,
// the terminal facts, and factories for the server and the store.

#include "config/config.hpp"
#include "environment.hpp"
#include "http/endpoint.hpp"
#include "provider/provider.hpp"
#include "resources/resources.hpp"
#include "store/store.hpp"

#include <map>
#include <memory>
#include <optional>
#include <string>

namespace modelctl {

struct GlobalOptions {
    std::string host;    // --host; empty: OLLAMA_HOST, else the config, else the default
    std::string timeout; // --timeout; empty: MODELCTL_TIMEOUT, else the config, else 5m
    std::string config;  // --config FILE; empty: $XDG_CONFIG_HOME/modelctl/config.json
    bool json = false;   // --json
    bool quiet = false;  // -q
    int verbose = 0;     // -v (repeatable)
};

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
    const core::config::Config&
    config(const std::map<std::string, core::config::Flag>& flags = {}) const;

    // Colour on stdout: a terminal, NO_COLOR unset or empty, TERM not "dumb".
    bool color() const;
    // The server address from --host, else OLLAMA_HOST, as Ollama reads it.
    core::http::Endpoint endpoint() const;
    // The server, waiting at most `read_timeout` for an answer (default: the
    // configured timeout).
    std::unique_ptr<core::provider::Provider>
    provider(std::optional<core::util::Seconds> read_timeout = std::nullopt) const;
    core::store::Store store() const;
    // Whether the server runs on this machine (a loopback address), so that
    // the local memory probes speak for it.
    bool server_is_local() const;
    // Probes this machine's memory (under $MODELCTL_SYSROOT, for tests).
    core::resources::Snapshot probe() const;
    // The memory budget for the server's loaded models (see resources.hpp).
    core::resources::BudgetReport
    budget(const std::vector<core::provider::LoadedModel>& loaded) const;
    // Progress and chatter go to stderr, only on a terminal and without -q.
    bool show_progress() const { return stderr_tty && !global.quiet && !global.json; }
    // Verbose notes to stderr with -v.
    void note(const std::string& text) const;

private:
    mutable std::optional<core::config::Config> config_;
};

} // namespace modelctl
