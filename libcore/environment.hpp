#pragma once
// The process environment, captured once in main() and passed down, so that
// libcore never calls getenv and tests never call setenv.

#include <map>
#include <optional>
#include <string>

namespace core {

class Environment {
public:
    Environment() = default;
    explicit Environment(std::map<std::string, std::string> vars) : vars_(std::move(vars)) {}

    // Captures `environ`.
    static Environment from_process();

    // The value, or nullopt when unset. An empty value counts as set.
    std::optional<std::string> get(const std::string& name) const;
    // The value when set and non-empty, else nullopt.
    std::optional<std::string> get_nonempty(const std::string& name) const;

    void set(const std::string& name, std::string value) { vars_[name] = std::move(value); }
    // Every variable, by name (for a child process's environment).
    const std::map<std::string, std::string>& vars() const { return vars_; }

private:
    std::map<std::string, std::string> vars_;
};

} // namespace core
