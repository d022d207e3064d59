#include "provider/provider.hpp"

#include "error.hpp"
#include "provider/ollama_api.hpp"

#include <cmath>

namespace core::provider {

std::string canonical_name(std::string_view kind, std::string_view name) {
    return kind == "ollama" ? ollama::normalize_name(name) : std::string(name);
}

namespace {

[[noreturn]] void unsupported(const Provider& p, const char* what) {
    throw Error(ErrorKind::Usage,
                std::string(what) + " is not something the " + p.kind() + " server at " +
                    p.address() + " offers through its API",
                "model versions are managed on Ollama endpoints (--endpoint)");
}

} // namespace

void Provider::pull(const std::string&, const std::function<bool(const PullProgress&)>&) {
    unsupported(*this, "pulling a model");
}

void Provider::copy(const std::string&, const std::string&) {
    unsupported(*this, "copying a model");
}

void Provider::remove(const std::string&) {
    unsupported(*this, "deleting a model");
}

std::string processor_label(uint64_t size, uint64_t size_vram) {
    // Same cases, in the same order, as Ollama's cmd ListRunningHandler.
    if (size_vram == 0)
        return "100% CPU";
    if (size_vram == size)
        return "100% GPU";
    if (size_vram > size || size == 0)
        return "Unknown";
    double cpu =
        std::round(static_cast<double>(size - size_vram) / static_cast<double>(size) * 100);
    int cpu_pct = static_cast<int>(cpu);
    return std::to_string(cpu_pct) + "%/" + std::to_string(100 - cpu_pct) + "% CPU/GPU";
}

Expiry classify_expiry(const std::optional<util::Timestamp>& expires_at, util::Timestamp now) {
    using namespace std::chrono;
    if (!expires_at || util::is_go_zero_time(*expires_at))
        return Expiry::Never;
    if (*expires_at <= now)
        return Expiry::Stopping;
    // Ollama's format.HumanTime prints "Forever" past 20 years.
    if (*expires_at - now > duration_cast<microseconds>(years(20)))
        return Expiry::Forever;
    return Expiry::At;
}

} // namespace core::provider
