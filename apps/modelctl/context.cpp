#include "context.hpp"

#include "error.hpp"
#include "provider/ollama.hpp"
#include "provider/ollama_host.hpp"
#include "util/duration.hpp"

#include <iostream>
#include <unistd.h>

namespace modelctl {

Context::Context(core::Environment e)
    : env(std::move(e)), stdin_tty(::isatty(STDIN_FILENO) == 1),
      stdout_tty(::isatty(STDOUT_FILENO) == 1), stderr_tty(::isatty(STDERR_FILENO) == 1) {}

bool Context::color() const {
    if (!stdout_tty || global.json)
        return false;
    if (env.get_nonempty("NO_COLOR")) // https://no-color.org
        return false;
    return env.get("TERM").value_or("") != "dumb";
}

const core::config::Config&
Context::config(const std::map<std::string, core::config::Flag>& flags) const {
    if (config_)
        return *config_;
    auto all = flags;
    if (!global.host.empty())
        all["host"] = {"--host", global.host};
    if (!global.timeout.empty())
        all["timeout"] = {"--timeout", global.timeout};
    std::optional<std::filesystem::path> file;
    if (!global.config.empty())
        file = global.config;
    config_ = core::config::load(env, file, all);
    note("config " + config_->file.string() + (config_->file_exists ? "" : " (absent)"));
    return *config_;
}

core::http::Endpoint Context::endpoint() const {
    return core::provider::connectable(core::provider::parse_ollama_host(config().host));
}

bool Context::server_is_local() const {
    std::string h = endpoint().host;
    return h == "localhost" || h == "::1" || h.rfind("127.", 0) == 0;
}

core::resources::Snapshot Context::probe() const {
    core::resources::ProbeOptions o;
    if (auto root = env.get_nonempty("MODELCTL_SYSROOT"))
        o.root = *root;
    o.path_env = env.get("PATH").value_or("/usr/bin:/bin");
    auto snap = core::resources::probe(o);
    for (const auto& n : snap.notes)
        note("probe: " + n);
    return snap;
}

core::resources::BudgetReport
Context::budget(const std::vector<core::provider::LoadedModel>& loaded) const {
    uint64_t vram = 0, ram = 0;
    for (const auto& m : loaded) {
        vram += m.size_vram;
        ram += m.size > m.size_vram ? m.size - m.size_vram : 0;
    }
    const auto& cfg = config();
    bool local = server_is_local();
    auto snap = cfg.memory ? core::resources::Snapshot{} : probe();
    auto report = core::resources::compute_budget(snap, cfg, local, vram, ram);
    note("budget " + report.explanation);
    return report;
}

std::unique_ptr<core::provider::Provider>
Context::provider(std::optional<core::util::Seconds> read_timeout) const {
    core::provider::OllamaOptions o;
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
        read_timeout.value_or(config().timeout));
    o.timeouts.read = ms;
    o.timeouts.connect = std::min(ms, std::chrono::milliseconds(5000));
    o.unload_wait = std::min(ms, std::chrono::milliseconds(60000));
    auto ep = endpoint();
    note("server " + ep.url());
    return std::make_unique<core::provider::Ollama>(ep, o);
}

core::store::Store Context::store() const {
    auto dir = core::store::default_dir(env);
    note("store " + dir.string());
    return core::store::Store(
        dir, std::chrono::duration_cast<std::chrono::milliseconds>(config().lock_timeout),
        config().max_log_bytes);
}

void Context::note(const std::string& text) const {
    if (global.verbose > 0)
        std::cerr << "modelctl: " << text << "\n";
}

} // namespace modelctl
