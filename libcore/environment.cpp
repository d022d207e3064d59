#include "environment.hpp"

#include <unistd.h>

namespace core {

Environment Environment::from_process() {
    std::map<std::string, std::string> vars;
    for (char** e = environ; e && *e; ++e) {
        std::string entry(*e);
        auto eq = entry.find('=');
        if (eq != std::string::npos)
            vars.emplace(entry.substr(0, eq), entry.substr(eq + 1));
    }
    return Environment(std::move(vars));
}

std::optional<std::string> Environment::get(const std::string& name) const {
    auto it = vars_.find(name);
    if (it == vars_.end())
        return std::nullopt;
    return it->second;
}

std::optional<std::string> Environment::get_nonempty(const std::string& name) const {
    auto v = get(name);
    if (!v || v->empty())
        return std::nullopt;
    return v;
}

} // namespace core
