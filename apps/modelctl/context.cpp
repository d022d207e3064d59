#include "context.hpp"

#include "error.hpp"
#include "provider/ollama.hpp"
#include "provider/ollama_host.hpp"
#include "util/duration.hpp"

#include <iostream>
#include <unistd.h>

namespace modelctl {

Context::Context(core::Environment e)
    : env(std::move(e)), stdout_tty(::isatty(STDOUT_FILENO) == 1),
      stderr_tty(::isatty(STDERR_FILENO) == 1) {}

bool Context::color() const {
    if (!stdout_tty || global.json)
        return false;
    if (env.get_nonempty("NO_COLOR")) // https://no-color.org
        return false;
    return env.get("TERM").value_or("") != "dumb";
}

core::http::Endpoint Context::endpoint() const {
    std::string value = !global.host.empty() ? global.host : env.get("OLLAMA_HOST").value_or("");
    return core::provider::connectable(core::provider::parse_ollama_host(value));
}

std::unique_ptr<core::provider::Provider> Context::provider() const {
    auto t = core::util::parse_duration(global.timeout);
    if (!t || t->count() <= 0)
        throw core::Error(core::ErrorKind::Usage,
                          "--timeout: '" + global.timeout + "' is not a positive duration",
                          "e.g. --timeout 30s or --timeout 10m");
    core::provider::OllamaOptions o;
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(*t);
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
    return core::store::Store(dir);
}

void Context::note(const std::string& text) const {
    if (global.verbose > 0)
        std::cerr << "modelctl: " << text << "\n";
}

} // namespace modelctl
