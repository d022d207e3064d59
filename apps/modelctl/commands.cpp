#include "commands.hpp"

#include "cmd_bench.hpp"
#include "cmd_config.hpp"
#include "cmd_endpoints.hpp"
#include "cmd_gc.hpp"
#include "cmd_health.hpp"
#include "cmd_load.hpp"
#include "cmd_pin.hpp"
#include "cmd_preload.hpp"
#include "cmd_priority.hpp"
#include "cmd_pull.hpp"
#include "cmd_recommend.hpp"
#include "cmd_record.hpp"
#include "cmd_rollback.hpp"
#include "cmd_run.hpp"
#include "cmd_serve.hpp"
#include "cmd_simulate.hpp"
#include "cmd_spec.hpp"
#include "cmd_stats.hpp"
#include "cmd_status.hpp"
#include "cmd_store.hpp"
#include "cmd_unload.hpp"
#include "cmd_versions.hpp"
#include "errors.hpp"

#include <iostream>

#ifndef MODELCTL_VERSION
#define MODELCTL_VERSION "0.0.0"
#endif

namespace modelctl {

namespace {

constexpr Command kCommands[] = {
    {"status", setup_status},
    {"load", setup_load},
    {"unload", setup_unload},
    {"gc", setup_gc},
    {"pin", setup_pin},
    {"unpin", setup_unpin},
    {"priority", setup_priority},
    {"pull", setup_pull},
    {"versions", setup_versions},
    {"rollback", setup_rollback},
    {"record", setup_record},
    {"run", setup_run},
    {"recommend", setup_recommend},
    {"preload", setup_preload},
    {"stats", setup_stats},
    {"bench", setup_bench},
    {"health", setup_health},
    {"serve", setup_serve},
    {"endpoints", setup_endpoints},
    {"config", setup_config},
    {"simulate", setup_simulate},
    {"store", setup_store},
    {"__spec", setup_spec},
};

} // namespace

void setup_app(CLI::App& app, Context& ctx) {
    app.description("modelctl: decide which local LLM models sit in memory");
    app.set_version_flag("--version", "modelctl " MODELCTL_VERSION);
    app.require_subcommand(1);
    app.fallthrough(); // global options may follow the subcommand
    auto& g = ctx.global;
    app.add_option("--host", g.host,
                   "Address of the default Ollama server (default: $OLLAMA_HOST, else "
                   "127.0.0.1:11434)");
    app.add_option("--endpoint", g.endpoint,
                   "The server to use, by name: a configured endpoint, or ollama / lmstudio "
                   "(default: $MODELCTL_ENDPOINT, else the first)");
    app.add_option("--timeout", g.timeout,
                   "One deadline per server request, e.g. 30s, 10m (default 5m)");
    app.add_option("--config", g.config,
                   "Config file (default: $XDG_CONFIG_HOME/modelctl/config.json)");
    app.add_flag("--json", g.json, "Machine-readable output (schema in docs/JSON.md)");
    app.add_flag("-q,--quiet", g.quiet, "Print only what scripts need");
    app.add_flag("-v,--verbose", g.verbose, "Say what is happening on stderr");
    for (const auto& c : kCommands)
        c.setup(app, ctx);
}

int report_parse(const CLI::App& app, const CLI::ParseError& e) {
    if (e.get_exit_code() == 0)
        return app.exit(e); // --help, --version
    std::string hint = "see 'modelctl --help'";
    return report(e.what(), hint, kUsage);
}

} // namespace modelctl
