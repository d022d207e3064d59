#include "context.hpp"

#include "error.hpp"
#include "provider/lmstudio.hpp"
#include "provider/ollama.hpp"
#include "util/duration.hpp"

#include <iostream>
#include <set>
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
    if (const auto* c = config_.load(std::memory_order_acquire))
        return *c;
    std::lock_guard lock(config_mutex_);
    if (const auto* c = config_.load(std::memory_order_acquire))
        return *c;
    flags_ = flags;
    configs_.push_back(read_config());
    config_.store(&configs_.back(), std::memory_order_release);
    return configs_.back();
}

const core::config::Config& Context::reload_config() const {
    config(); // the first read sets the flags
    std::lock_guard lock(config_mutex_);
    auto fresh = read_config();                 // throws, keeping the current one
    core::operations::resolve_endpoints(fresh); // so do bad endpoints
    configs_.push_back(std::move(fresh));
    config_.store(&configs_.back(), std::memory_order_release);
    return configs_.back();
}

core::config::Config Context::read_config() const {
    auto all = flags_;
    if (!global.host.empty())
        all["host"] = {"--host", global.host};
    if (!global.timeout.empty())
        all["timeout"] = {"--timeout", global.timeout};
    if (!global.endpoint.empty())
        all["endpoint"] = {"--endpoint", global.endpoint};
    std::optional<std::filesystem::path> file;
    if (!global.config.empty())
        file = global.config;
    auto cfg = core::config::load(env, file, all);
    note("config " + cfg.file.string() + (cfg.file_exists ? "" : " (absent)"));
    for (const auto& w : cfg.warnings) // a misspelt variable would silently do nothing
        std::cerr << "modelctl: warning: " << w << "\n";
    return cfg;
}

std::vector<Endpoint> Context::endpoints() const {
    if (!endpoints_)
        endpoints_ = core::operations::resolve_endpoints(config());
    return *endpoints_;
}

const Endpoint& Context::endpoint() const {
    if (!endpoint_)
        endpoint_ = core::operations::select_endpoint(endpoints(), config().endpoint);
    return *endpoint_;
}

std::string Context::canonical(const std::string& model) const {
    return core::provider::canonical_name(endpoint().provider, model);
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
Context::budget(const Endpoint& e, const std::vector<core::provider::LoadedModel>& loaded) const {
    // budget.memory is this machine's: the other servers on it share it.
    core::operations::Neighbours neighbours;
    if (config().memory && core::operations::is_local(e) && !e.vram && !e.ram)
        for (const auto& o : endpoints()) {
            if (o.name == e.name || !core::operations::is_local(o) || o.vram || o.ram)
                continue;
            try {
                uint64_t held = 0;
                for (const auto& m : provider(o, core::util::Seconds(5))->loaded())
                    held += m.size;
                if (held) {
                    neighbours.bytes += held;
                    neighbours.names.push_back(o.name);
                }
            } catch (const core::Error& err) {
                if (err.kind() == core::ErrorKind::Interrupted)
                    throw;
                if (!o.optional)
                    note("budget of " + e.name + ": what " + o.name +
                         " holds is unknown: " + err.what());
            }
        }
    auto report = core::operations::budget(
        e, config(), [this] { return probe(); }, loaded, neighbours);
    note("budget of " + e.name + ": " + report.explanation);
    return report;
}

std::unique_ptr<core::provider::Provider>
Context::provider(std::optional<core::util::Seconds> read_timeout) const {
    return provider(endpoint(), read_timeout);
}

std::unique_ptr<core::provider::Provider>
Context::provider(const Endpoint& e, std::optional<core::util::Seconds> read_timeout) const {
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
        read_timeout.value_or(config().timeout));
    core::http::Timeouts timeouts;
    timeouts.request = ms;
    // A timeout given for the command (health's) bounds a whole streamed
    // answer too; otherwise a stream may take as long as it keeps flowing.
    if (read_timeout)
        timeouts.stream_total = ms;
    timeouts.connect = std::min(ms, std::chrono::milliseconds(5000));
    std::string token;
    if (!e.token_env.empty())
        token = env.get_nonempty(e.token_env).value_or(""); // never printed, logged or stored
    note("endpoint " + e.name + ": " + e.provider + " at " + e.address.url() +
         (token.empty() ? "" : " (with the token in $" + e.token_env + ")"));
    if (e.provider == "lmstudio") {
        core::provider::LmStudioOptions o;
        o.timeouts = timeouts;
        o.token = token;
        o.token_env = e.token_env.empty() ? "LM_API_TOKEN" : e.token_env;
        // The default LM Studio is a guess about whatever listens on port
        // 1234: the token goes there only once it has answered as LM Studio.
        o.greet_first = e.optional && !token.empty();
        return std::make_unique<core::provider::LmStudio>(e.address, o);
    }
    core::provider::OllamaOptions o;
    o.timeouts = timeouts;
    o.token = token;
    o.unload_wait = std::min(ms, std::chrono::milliseconds(60000));
    if (!config().endpoints.empty())
        o.unreachable_hint = "is the server running? Check the url of endpoint '" + e.name +
                             "' in " + config().file.string();
    return std::make_unique<core::provider::Ollama>(e.address, o);
}

core::store::Store Context::store(const Endpoint& e) const {
    auto dir = core::store::default_dir(env);
    note("store " + dir.string() + ", endpoint " + e.name);
    core::store::Store store(
        dir, std::chrono::duration_cast<std::chrono::milliseconds>(config().lock_timeout),
        config().max_log_bytes, e.name);
    // Records follow the server: an endpoint renamed in the config file keeps
    // what modelctl knew under the old name, saying so once.
    std::set<std::string> siblings;
    for (const auto& other : endpoints())
        if (other.name != e.name)
            siblings.insert(other.name);
    bool quiet = global.quiet;
    store.identify(
        e.address.url(), std::move(siblings),
        [quiet](const std::string& line) {
            if (!quiet)
                std::cerr << "modelctl: note: " << line << "\n";
        },
        core::operations::default_urls(config()));
    return store;
}

void Context::note(const std::string& text) const {
    if (global.verbose > 0)
        std::cerr << "modelctl: " << text << "\n";
}

} // namespace modelctl
