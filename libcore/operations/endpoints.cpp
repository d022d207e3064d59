#include "operations/endpoints.hpp"

#include "error.hpp"
#include "provider/ollama_host.hpp"
#include "util/size.hpp"

namespace core::operations {

namespace {

// An endpoint's url, read as OLLAMA_HOST is (bind-all addresses mean this
// machine); an LM Studio url without scheme or port gets LM Studio's 1234.
http::Endpoint address_of(const std::string& provider, const std::string& url) {
    auto ep = provider::connectable(provider::parse_ollama_host(url));
    bool port_given = url.find("://") != std::string::npos ||
                      url.find(":" + std::to_string(ep.port)) != std::string::npos;
    if (provider == "lmstudio" && !port_given)
        ep.port = 1234;
    return ep;
}

} // namespace

std::vector<Endpoint> resolve_endpoints(const config::Config& cfg) {
    // The address of the default Ollama means nothing once endpoints are
    // configured: a --host given then would be silently ignored.
    for (const auto& s : cfg.settings)
        if (s.key == "host" && s.source == config::Source::Flag && !cfg.endpoints.empty())
            throw Error(ErrorKind::Usage,
                        s.origin + " does not apply: endpoints are configured in " +
                            cfg.file.string(),
                        "choose one of them with --endpoint NAME (modelctl endpoints lists them)");
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
    return out;
}

std::map<std::string, std::string> default_urls(const config::Config& cfg) {
    auto defaults = cfg;
    defaults.endpoints.clear();
    std::map<std::string, std::string> out;
    for (const auto& e : resolve_endpoints(defaults))
        out[e.name] = e.address.url();
    return out;
}

Endpoint select_endpoint(const std::vector<Endpoint>& all, const std::string& name) {
    if (name.empty())
        return all.front();
    std::string names;
    for (const auto& e : all) {
        if (e.name == name) {
            Endpoint chosen = e;
            chosen.optional = false; // asked for by name: it must answer
            return chosen;
        }
        names += (names.empty() ? "" : ", ") + e.name;
    }
    throw Error(ErrorKind::Usage, "no endpoint named '" + name + "'",
                "the endpoints are: " + names + " (modelctl endpoints lists them)");
}

bool is_local(const Endpoint& e) {
    return http::is_loopback(e.address.host);
}

resources::BudgetReport budget(const Endpoint& e, const config::Config& config,
                               const std::function<resources::Snapshot()>& probe,
                               const std::vector<provider::LoadedModel>& loaded,
                               const Neighbours& neighbours) {
    auto cfg = config;
    if (e.vram)
        cfg.vram = e.vram;
    if (e.ram)
        cfg.ram = e.ram;
    bool local = is_local(e);
    auto snap = cfg.memory ? resources::Snapshot{} : probe();
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
    auto report = resources::compute_budget(snap, cfg, local, vram, ram);
    if (report.pool == "configured" && local && !e.vram && !e.ram && neighbours.bytes) {
        std::string names;
        for (const auto& n : neighbours.names)
            names += (names.empty() ? "" : ", ") + n;
        report.others += neighbours.bytes;
        report.budget.bytes -= std::min(report.budget.bytes, neighbours.bytes);
        report.explanation += "; the models of " + names + " on this machine hold " +
                              util::format_size(neighbours.bytes) + " of it";
    }
    return report;
}

} // namespace core::operations
