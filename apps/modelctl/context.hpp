#pragma once
// What every subcommand gets: the captured environment, the global options,
// the terminal facts, and factories for the server and the store.

#include "environment.hpp"
#include "http/endpoint.hpp"
#include "provider/provider.hpp"
#include "store/store.hpp"

#include <memory>
#include <string>

namespace modelctl {

struct GlobalOptions {
    std::string host;           // --host; empty: OLLAMA_HOST, else the default
    std::string timeout = "5m"; // --timeout: longest wait for one answer
    bool json = false;          // --json
    bool quiet = false;         // -q
    int verbose = 0;            // -v (repeatable)
};

struct Context {
    core::Environment env;
    GlobalOptions global;
    bool stdout_tty = false;
    bool stderr_tty = false;
    int exit_code = 0;

    explicit Context(core::Environment e);

    // Colour on stdout: a terminal, NO_COLOR unset or empty, TERM not "dumb".
    bool color() const;
    // The server address from --host, else OLLAMA_HOST, as Ollama reads it.
    core::http::Endpoint endpoint() const;
    std::unique_ptr<core::provider::Provider> provider() const;
    core::store::Store store() const;
    // Progress and chatter go to stderr, only on a terminal and without -q.
    bool show_progress() const { return stderr_tty && !global.quiet && !global.json; }
    // Verbose notes to stderr with -v.
    void note(const std::string& text) const;
};

} // namespace modelctl
