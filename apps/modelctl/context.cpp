#include "context.hpp"

#include "error.hpp"
#include "provider/lmstudio.hpp"
#include "provider/ollama.hpp"
#include "provider/ollama_api.hpp"
#include "provider/ollama_host.hpp"
#include "util/duration.hpp"

#include <iostream>
#include <unistd.h>

namespace modelctl {

namespace {

// An endpoint's url, read as OLLAMA_HOST is (bind-all addresses mean this
// machine); an LM Studio url without scheme or port gets LM Studio's 1234.
core::http::Endpoint address_of(const std::string& provider, const std::string& url) {
    auto ep = core::provider::connectable(core::provider::parse_ollama_host(url));
    bool port_given = url.find("://") != std::string::npos ||
                      url.find(":" + std::to_string(ep.port)) != std::string::npos;
    if (provider == "lmstudio" && !port_given)
        ep.port = 1234;
    return ep;
}

bool is_loopback(const core::http::Endpoint& ep) {
    return ep.host == "localhost" || ep.host == "::1" || ep.host.rfind("127.", 0) == 0;
}

} // namespace

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
    if (!global.endpoint.empty())
        all["endpoint"] = {"--endpoint", global.endpoint};
    std::optional<std::filesystem::path> file;
    if (!global.config.empty())
        file = global.config;
    config_ = core::config::load(env, file, all);
    note("config " + config_->file.string() + (config_->file_exists ? "" : " (absent)"));
    return *config_;
}

std::vector<Endpoint> Context::endpoints() const {
    if (endpoints_)
        return *endpoints_;
    const auto& cfg = config();
    std::vector<Endpoint> out;
    for (const auto& c : cfg.endpoints)
        out.push_back(
            {c.name, c.provider, address_of(c.provider, c.url), c.token_env, c.vram, c.ram, false});
    if (out.empty()) {
        out.push_back(
            {"ollama", "ollama", address_of("ollama", cfg.host), "", cfg.vram, cfg.ram, false});
        out.push_back({"lmstudio", "lmstudio", address_of("lmstudio", "127.0.0.1:1234"),
                       "LM_API_TOKEN", cfg.vram, cfg.ram, true});
    }
    endpoints_ = out;
    return out;
}

const Endpoint& Context::endpoint() const {
    if (endpoint_)
        return *endpoint_;
    auto all = endpoints();
    const auto& cfg = config();
    if (cfg.endpoint.empty()) {
        endpoint_ = all.front();
    } else {
        std::string names;
        for (const auto& e : all) {
            if (e.name == cfg.endpoint)
                endpoint_ = e;
            names += (names.empty() ? "" : ", ") + e.name;
        }
        if (!endpoint_)
            throw core::Error(core::ErrorKind::Usage, "no endpoint named '" + cfg.endpoint + "'",
                              "the endpoints are: " + names + " (modelctl endpoints lists them)");
        endpoint_->optional = false; // asked for by name: it must answer
    }
    return *endpoint_;
}

std::string Context::canonical(const std::string& model) const {
    return endpoint().provider == "ollama" ? core::provider::ollama::normalize_name(model) : model;
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
    auto cfg = config();
    if (e.vram)
        cfg.vram = e.vram;
    if (e.ram)
        cfg.ram = e.ram;
    bool local = is_loopback(e.address);
    auto snap = cfg.memory ? core::resources::Snapshot{} : probe();
    // A size the server does not place (LM Studio's) counts where models go:
    // on the GPU when there is one.
    bool gpu = cfg.vram.has_value() || (local && !snap.gpus.empty());
    uint64_t vram = 0, ram = 0;
    for (const auto& m : loaded) {
        if (!m.size_reported) {
            (gpu ? vram : ram) += m.size;
            continue;
        }
        vram += m.size_vram;
        ram += m.size > m.size_vram ? m.size - m.size_vram : 0;
    }
    auto report = core::resources::compute_budget(snap, cfg, local, vram, ram);
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
    return core::store::Store(
        dir, std::chrono::duration_cast<std::chrono::milliseconds>(config().lock_timeout),
        config().max_log_bytes, e.name);
}

void Context::note(const std::string& text) const {
    if (global.verbose > 0)
        std::cerr << "modelctl: " << text << "\n";
}

} // namespace modelctl
